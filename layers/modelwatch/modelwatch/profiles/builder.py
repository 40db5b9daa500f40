"""Build a DatasetProfile from batches of columns, streaming: memory does not grow with rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelwatch.loss_model import (  # declared where the loss model produces them
    EXPECTED_ABS_ERROR,
    EXPECTED_ABS_PERCENTAGE_ERROR,
    EXPECTED_SQUARED_ERROR,
)
from modelwatch.performance import ClassificationCounts, MulticlassCounts, PerformanceCounts, RegressionMoments
from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.profiles.coercion import CategoryCounts, as_finite_floats, as_labels
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.profiles.rows import RowsProfile, as_float_column
from modelwatch.profiles.score_sample import ClassScoreSample
from modelwatch.score_histogram import ScoreHistogram
from modelwatch.spec.models import MonitoringSpec

# Column name -> values. Categorical feature columns may come already counted.
Batch = Mapping[str, np.ndarray | CategoryCounts]
# Derived columns (reserved names start with "__"; they are never features).
# Binary, with predictions and scores: P(positive class).
POSITIVE_PROBABILITY = "__positive_probability__"
# Multiclass: the top probability, and per class its probability on the rows predicted as that
# class and on the others (CBPE's expected confusion counts come from these; binary has the two
# for its positive class). Kept as sketched columns and as exact score histograms
# (DatasetProfile.score_histograms), which CBPE reads.
CONFIDENCE = "__confidence__"
SCORE_WHEN_PREDICTED = "__score_when_predicted__:"
SCORE_WHEN_NOT_PREDICTED = "__score_when_not_predicted__:"
# Regression: EXPECTED_* (imported above), each record's expected losses from the loss model
# (DLE), computed where records are profiled (the capture function, or a file's profiler) and
# only averaged here.


@dataclass(frozen=True)
class ProfileSchema:
    """Which columns a profile holds, and how each is profiled."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    target: str | None = None
    prediction: str | None = None
    score: str | None = None
    score_kind: str = "positive_probability"
    positive_class: str = "1"
    task: str = "binary"
    score_prefix: str | None = None
    classes: tuple[str, ...] | None = None
    # Regression: per-record expected losses (DLE's loss model) for a batch without them, when
    # the profiler reads a file (the capture function adds them to a capture object's columns
    # itself). Must be picklable: profiling runs in worker processes.
    expected_losses: Callable[[Batch], dict[str, np.ndarray]] | None = None
    # A baseline's PCA model (stats.pca.PcaModel): when set, each row's reconstruction error is
    # profiled too, so a window's error distribution merges like every other column.
    reconstruction: Any = None
    # The numeric features row by row (multivariate drift's sample and moments); off for a
    # segment value's profile, whose verdict is per feature.
    keeps_rows: bool = True

    @classmethod
    def from_spec(cls, spec: MonitoringSpec) -> ProfileSchema:
        columns = spec.columns
        return cls(
            numeric=tuple(spec.numeric_features),
            categorical=tuple(spec.categorical_features),
            target=columns.target,
            prediction=columns.prediction,
            score=columns.score,
            score_kind=columns.score_kind,
            positive_class=columns.positive_class,
            task=spec.model.task,
            score_prefix=columns.score_prefix,
            classes=None if columns.classes is None else tuple(columns.classes),
        )

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.categorical

    def recorded_roles(self) -> dict[str, str]:
        """The task and role columns, as a baseline records them (DatasetProfile.roles)."""
        roles = {
            "task": self.task,
            "target": self.target,
            "prediction": self.prediction,
            "score": self.score,
            "score_prefix": self.score_prefix,
        }
        if self.task == "binary":
            roles |= {"positive_class": self.positive_class, "score_kind": self.score_kind}
        return {key: value for key, value in roles.items() if value is not None}

    def present_roles(self, available: set[str]) -> dict[str, str]:
        roles = {"target": self.target, "prediction": self.prediction, "score": self.score}
        return {role: name for role, name in roles.items() if name is not None and name in available}

    def class_score_columns(self, available: set[str] | list[str]) -> dict[str, str]:
        """Multiclass: class -> its probability column, of those present. Without `classes`,
        every column starting with the prefix is one, in name order."""
        if self.task != "multiclass" or self.score_prefix is None:
            return {}
        prefix = self.score_prefix
        if self.classes is not None:
            named = {label: prefix + label for label in self.classes}
        else:
            named = {name[len(prefix) :]: name for name in sorted(available) if name.startswith(prefix)}
        return {label: column for label, column in named.items() if column in available}

    @property
    def numeric_roles(self) -> tuple[str, ...]:
        """Role columns profiled as numbers (regression's target and prediction, binary's score)."""
        if self.task == "regression":
            return tuple(c for c in (self.target, self.prediction) if c is not None)
        return (self.score,) if self.score is not None else ()


def _numeric_profile(values: np.ndarray) -> NumericColumnProfile:
    finite, missing, type_errors = as_finite_floats(values)
    return NumericColumnProfile.from_values(finite, missing, type_errors)


def _categorical_profile(values: np.ndarray | CategoryCounts) -> CategoricalColumnProfile:
    if isinstance(values, CategoryCounts):
        return CategoricalColumnProfile.from_counts(values.counts, values.missing)
    labels, missing = as_labels(values)
    return CategoricalColumnProfile.from_values(labels, missing)


def _positive_probability(schema: ProfileSchema, score: np.ndarray, predicted: list[str] | None) -> np.ndarray:
    finite = np.asarray(score, dtype=np.float64) if np.asarray(score).dtype.kind in "iuf" else None
    if finite is None:
        parsed = []
        for value in np.asarray(score).tolist():
            try:
                parsed.append(float(value))
            except (TypeError, ValueError):
                parsed.append(np.nan)
        finite = np.asarray(parsed)
    if schema.score_kind == "positive_probability" or predicted is None:
        return finite
    is_positive = np.array([p == schema.positive_class for p in predicted])
    return np.where(is_positive, finite, 1.0 - finite)


def profile_batch(schema: ProfileSchema, batch: Batch) -> DatasetProfile:
    """The profile of one batch. Columns named by the schema but absent from the batch are skipped."""
    rows = len(next(iter(batch.values()))) if batch else 0
    columns = {}
    for name in schema.numeric:
        if name in batch:
            columns[name] = _numeric_profile(batch[name])
    for name in schema.categorical:
        if name in batch:
            columns[name] = _categorical_profile(batch[name])
    if schema.task == "multiclass":
        return _multiclass_profile(schema, batch, rows, columns)
    if schema.task == "regression":
        return _regression_profile(schema, batch, rows, columns)
    roles = schema.present_roles(set(batch))
    if "score" in roles:
        columns[roles["score"]] = _numeric_profile(batch[roles["score"]])
    if "target" in roles:
        columns[roles["target"]] = _categorical_profile(batch[roles["target"]])
    predicted: list[str] = []
    if "prediction" in roles:
        # Labelled once: the prediction's profile and P(positive) below both use them.
        predicted, missing = as_labels(np.asarray(batch[roles["prediction"]]))
        columns[roles["prediction"]] = CategoricalColumnProfile.from_values(predicted, missing)
    if "score" in roles and predicted and len(predicted) == rows:
        # P(positive class) per row, whatever the score column holds: what CBPE estimates from.
        probability = _positive_probability(schema, np.asarray(batch[roles["score"]]), predicted)
        columns[POSITIVE_PROBABILITY] = _numeric_profile(probability)
        is_predicted = np.array([p == schema.positive_class for p in predicted], dtype=bool)
        histograms = _score_histograms(schema.positive_class, probability, is_predicted)
    else:
        histograms = {}
    performance = None
    if "target" in roles and "prediction" in roles:
        performance = _performance(schema, batch, roles)
    return DatasetProfile(
        rows=rows,
        columns=columns,
        performance=performance,
        multivariate=_rows(schema, batch),
        score_histograms=histograms,
    )


def _score_histograms(label: str, probability: np.ndarray, is_predicted: np.ndarray) -> dict[str, ScoreHistogram]:
    """P(label) counted where the model predicted the label and where not (NaN: not counted)."""
    return {
        SCORE_WHEN_PREDICTED + label: ScoreHistogram.from_values(probability[is_predicted]),
        SCORE_WHEN_NOT_PREDICTED + label: ScoreHistogram.from_values(probability[~is_predicted]),
    }


def _rows(schema: ProfileSchema, batch: Batch) -> RowsProfile | None:
    """The numeric features row by row, for multivariate drift (every task has it)."""
    if not schema.keeps_rows or len(schema.numeric) < 2 or not all(name in batch for name in schema.numeric):
        return None
    matrix = np.column_stack([as_float_column(batch[name]) for name in schema.numeric])  # type: ignore[arg-type]
    return RowsProfile.from_rows(schema.numeric, matrix, schema.reconstruction)


def _probability_matrix(batch: Batch, score_columns: dict[str, str]) -> np.ndarray:
    """Rows x classes; a value that is not a finite number is NaN (the row then has no scores)."""
    matrix = np.empty((len(next(iter(batch.values()))), len(score_columns)))
    for i, column in enumerate(score_columns.values()):
        finite, _, _ = as_finite_floats(batch[column])
        values = np.asarray(batch[column])
        if len(finite) == len(values):
            matrix[:, i] = finite
        else:
            matrix[:, i] = [_as_float(v) for v in values.tolist()]
    return matrix


def _as_float(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan
    return number if np.isfinite(number) else np.nan


def _multiclass_profile(schema: ProfileSchema, batch: Batch, rows: int, columns: dict) -> DatasetProfile:
    roles = schema.present_roles(set(batch))
    score_columns = schema.class_score_columns(set(batch))
    for column in score_columns.values():
        columns[column] = _numeric_profile(batch[column])
    if "target" in roles:
        columns[roles["target"]] = _categorical_profile(batch[roles["target"]])
    predicted: list[str] | None = None
    if "prediction" in roles:
        predicted, missing = as_labels(np.asarray(batch[roles["prediction"]]))
        columns[roles["prediction"]] = CategoricalColumnProfile.from_values(predicted, missing)
        predicted = predicted if not missing else None  # labels must line up with rows below
    probabilities = _probability_matrix(batch, score_columns) if score_columns else None
    histograms: dict[str, ScoreHistogram] = {}
    sample = None
    if probabilities is not None:
        scored = ~np.isnan(probabilities).any(axis=1)
        columns[CONFIDENCE] = _numeric_profile(np.where(scored, np.nanmax(probabilities, axis=1, initial=0.0), np.nan))
        if predicted is not None and len(predicted) == rows:
            # CBPE reads P(class) separately where the model predicted that class and where not.
            predicted_array = np.asarray(predicted, dtype=object)
            for i, label in enumerate(score_columns):
                is_predicted = predicted_array == label
                columns[SCORE_WHEN_PREDICTED + label] = _numeric_profile(probabilities[scored & is_predicted, i])
                columns[SCORE_WHEN_NOT_PREDICTED + label] = _numeric_profile(probabilities[scored & ~is_predicted, i])
                histograms.update(_score_histograms(label, np.where(scored, probabilities[:, i], np.nan), is_predicted))
            index_of = {label: i for i, label in enumerate(score_columns)}
            predicted_index = np.array([index_of.get(label, -1) for label in predicted], dtype=np.int64)
            sample = ClassScoreSample.from_rows(tuple(score_columns), probabilities[scored], predicted_index[scored])
    performance = None
    if "target" in roles and "prediction" in roles:
        index = np.flatnonzero(_present(np.asarray(batch[roles["target"]])))
        actual, _ = as_labels(np.asarray(batch[roles["target"]])[index])
        predicted_labels, _ = as_labels(np.asarray(batch[roles["prediction"]])[index])
        classes = list(score_columns) or (list(schema.classes) if schema.classes else sorted(set(actual)))
        performance = MulticlassCounts.from_rows(
            actual, predicted_labels, None if probabilities is None else probabilities[index], classes
        )
    return DatasetProfile(
        rows=rows,
        columns=columns,
        performance=performance,
        multivariate=_rows(schema, batch),
        score_histograms=histograms,
        score_sample=sample,
    )


def _regression_profile(schema: ProfileSchema, batch: Batch, rows: int, columns: dict) -> DatasetProfile:
    roles = schema.present_roles(set(batch))
    if schema.expected_losses is not None and EXPECTED_ABS_ERROR not in batch and "prediction" in roles and rows:
        batch = {**batch, **schema.expected_losses(batch)}
    for role in ("target", "prediction"):
        if role in roles:
            columns[roles[role]] = _numeric_profile(batch[roles[role]])
    for derived in (EXPECTED_ABS_ERROR, EXPECTED_SQUARED_ERROR, EXPECTED_ABS_PERCENTAGE_ERROR):
        if derived in batch:
            columns[derived] = _numeric_profile(batch[derived])
    performance = None
    if "target" in roles and "prediction" in roles:
        performance = RegressionMoments.from_rows(
            _floats_with_nan(batch[roles["target"]]), _floats_with_nan(batch[roles["prediction"]])
        )
    return DatasetProfile(rows=rows, columns=columns, performance=performance, multivariate=_rows(schema, batch))


def _floats_with_nan(values: np.ndarray | CategoryCounts) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind in "iuf":
        return array.astype(np.float64, copy=False)
    return np.array([_as_float(v) for v in array.tolist()], dtype=np.float64)


def _present(values: np.ndarray) -> np.ndarray:
    """Which entries hold a value (not None, NaN or empty text)."""
    if values.dtype.kind == "f":
        return ~np.isnan(values)
    if values.dtype.kind in "iub":
        return np.ones(len(values), dtype=bool)
    return np.array([not (v is None or v != v or v == "") for v in values.tolist()], dtype=bool)


def _performance(schema: ProfileSchema, batch: Batch, roles: dict[str, str]) -> PerformanceCounts:
    actual_raw, predicted_raw = batch[roles["target"]], batch[roles["prediction"]]
    index = np.flatnonzero(_present(np.asarray(actual_raw)))
    actual, _ = as_labels(np.asarray(actual_raw)[index])
    predicted_labels, _ = as_labels(np.asarray(predicted_raw)[index])
    probability = None
    if "score" in roles:
        probability = _positive_probability(schema, np.asarray(batch[roles["score"]])[index], predicted_labels)
    return ClassificationCounts.from_rows(actual, predicted_labels, probability, schema.positive_class)


class ProfileBuilder:
    """Accumulate batches into one profile; optionally keep consecutive chunks for calibration."""

    def __init__(self, schema: ProfileSchema, chunk_rows: int | None = None) -> None:
        self.schema = schema
        self.chunk_rows = chunk_rows
        self._parts: list[DatasetProfile] = []
        self._chunks: list[DatasetProfile] = []
        self._open_chunk: list[DatasetProfile] = []
        self._open_rows = 0
        self.rows = 0

    def add(self, batch: Batch) -> None:
        rows = len(next(iter(batch.values()))) if batch else 0
        if not rows:
            return
        self.rows += rows
        if self.chunk_rows is None:
            self._parts.append(profile_batch(self.schema, batch))
            self._compact()
            return
        start = 0
        while start < rows:
            take = min(rows - start, self.chunk_rows - self._open_rows)
            if any(isinstance(values, CategoryCounts) for values in batch.values()) and take < rows:
                raise ValueError("batches with pre-counted columns cannot be split into chunks")
            piece = {
                name: values if take == rows else np.asarray(values)[start : start + take]
                for name, values in batch.items()
            }
            self._open_chunk.append(profile_batch(self.schema, piece))
            self._open_rows += take
            start += take
            if self._open_rows == self.chunk_rows:
                self._close_chunk()

    def _close_chunk(self) -> None:
        if self._open_chunk:
            chunk = self._open_chunk[0].merged(*self._open_chunk[1:])
            self._chunks.append(chunk)
            self._parts.append(chunk)
            self._compact()
        self._open_chunk, self._open_rows = [], 0

    def _compact(self) -> None:
        # Merge as we go so that memory stays bounded by a few profiles, not by the batch count.
        if len(self._parts) >= 8:
            self._parts = [self._parts[0].merged(*self._parts[1:])]

    def result(self) -> DatasetProfile:
        if self.chunk_rows is not None:
            self._close_chunk()
        if not self._parts:
            return DatasetProfile(rows=0)
        # Always a fresh object: the parts may be the stored chunks themselves.
        profile = self._parts[0].merged(*self._parts[1:])
        profile.chunks = list(self._chunks)
        return profile
