"""The partial profile of one capture object, and its join index for late labels."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelwatch.catalog.capture_line import ATTRIBUTES_KEY
from modelwatch.dle import loss_columns
from modelwatch.loss_model import LossModel
from modelwatch.profiles import DatasetProfile, ProfileSchema, profile_batch
from modelwatch.profiles.segmented import SegmentCut, batch_segments, unsliced_attribute_segments
from modelwatch.spec.models import MonitoringSpec
from modelwatch.stats.pca import PcaModel


class PoisonCaptureError(ValueError):
    """A capture object that cannot be profiled (not JSON lines, or not capture records)."""


@dataclass(frozen=True)
class CaptureProfile:
    profile: DatasetProfile
    # request id -> [prediction, P(positive)] (binary), [prediction, {class: P(class)}]
    # (multiclass) or [predicted value, None] (regression)
    join_index: dict[str, list[Any]]
    # Why the loss model given could not run on these records (the profile has no expected losses)
    losses_not_estimated: str | None = None


def parse_capture(body: bytes) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(body.decode("utf-8", errors="strict").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise PoisonCaptureError(f"line {number}: not JSON ({exc})") from None
        if not isinstance(record, dict) or not isinstance(record.get("features"), dict) or "prediction" not in record:
            raise PoisonCaptureError(f"line {number}: not a capture record")
        records.append(record)
    return records


def profile_captures(
    spec: MonitoringSpec,
    records: list[dict[str, Any]],
    reconstruction: PcaModel | None = None,
    loss_model: LossModel | None = None,
    segment_cut: SegmentCut | None = None,
) -> CaptureProfile:
    """Features, prediction and score columns as the baseline profiles them (the spec's names),
    for the spec's task, and the join index late labels are matched with.

    `reconstruction`: the current baseline's PCA (`modelwatch.stats.pca.reference_model`
    of the baseline's `multivariate` profile). With it each record's reconstruction error is
    profiled here, where records are, and a window's errors merge like any column; without it
    the drift check scores the window's bounded row sample instead.

    `loss_model` (a regression version's, DLE): run once on the object's records, so each
    record's expected losses are averaged into the profile like any column. Without it, or when
    it cannot run on them (`losses_not_estimated` says why), the profile has none and the
    window's estimate stands on the objects that have them: the records are profiled anyway.

    `segment_cut`: the baseline's kept values per segment and its bins (SegmentedProfile.cut),
    when the spec has [[segments]]; without a baseline there is nothing to judge a segment
    against, and none is profiled. A segment by a request attribute the baseline holds no slices
    of (its data lacked the column) keeps this object's own most frequent values, at most
    max_values + 1, for the drift check to judge against the whole baseline."""
    schema = dataclasses.replace(ProfileSchema.from_spec(spec), reconstruction=reconstruction)
    columns, index = capture_columns(spec, records)
    not_estimated = None
    if spec.task == "regression" and loss_model is not None and records:
        not_estimated = _add_expected_losses(loss_model, spec.columns.prediction or "prediction", columns)
    profile = profile_batch(schema, columns)
    if spec.segments and segment_cut is not None:
        # Each record into its segment value's row too, cut by the values the baseline kept.
        unsliced = frozenset(unsliced_attribute_segments(spec, segment_cut.kept))
        profile.segments = batch_segments(schema, spec.segments, columns, segment_cut, unsliced)
    return CaptureProfile(profile, index, not_estimated)


def capture_columns(
    spec: MonitoringSpec, records: list[dict[str, Any]]
) -> tuple[dict[str, np.ndarray], dict[str, list[Any]]]:
    """The records as the table the baseline was profiled from: one column per feature, and the
    prediction and score columns under the spec's [columns] names, for the spec's task; with the
    join index (request id -> prediction entry). One mapping for the capture function and for
    `modelwatch drift` reading captures, so both see a capture the same way.

    Each request attribute the spec declares is a column too (missing where a request sent
    none), so segments can cut by it; the profile schema names features and roles only, so an
    attribute is never profiled as a feature."""
    columns: dict[str, np.ndarray] = {
        name: np.array([r["features"].get(name) for r in records], dtype=object) for name in spec.features
    }
    for name in spec.attributes:
        columns[name] = np.array([(r.get(ATTRIBUTES_KEY) or {}).get(name) for r in records], dtype=object)
    prediction_column = spec.columns.prediction or "prediction"
    if spec.task == "regression":
        index = _regression_columns(records, columns, prediction_column)
    elif spec.task == "multiclass":
        index = _multiclass_columns(spec, records, columns, prediction_column)
    else:
        index = _binary_columns(spec, records, columns, prediction_column)
    return columns, index


def _add_expected_losses(loss_model: LossModel, prediction_column: str, columns: dict[str, np.ndarray]) -> str | None:
    """Each record's expected losses into `columns`; or why the loss model could not run (the
    capture function refuses one reading features captures lack: dle.inputs_captures_lack)."""
    try:
        columns.update(loss_columns(loss_model, prediction_column, columns))
    except Exception as error:  # ONNX Runtime's errors share no base narrower than Exception
        return f"the loss model failed on these records: {error}"
    return None


def _by_request(records: list[dict[str, Any]], entries: list[list[Any]]) -> dict[str, list[Any]]:
    return {str(r["request_id"]): entry for r, entry in zip(records, entries, strict=True) if "request_id" in r}


def _binary_columns(
    spec: MonitoringSpec, records: list[dict[str, Any]], columns: dict[str, np.ndarray], prediction_column: str
) -> dict[str, list[Any]]:
    """The predicted class, the score column; index: request id -> [prediction, P(positive)]."""
    predictions = [str(r["prediction"]) for r in records]
    positive = spec.columns.positive_class
    p_positive = np.array([float(r.get("probabilities", {}).get(positive, np.nan)) for r in records])
    columns[prediction_column] = np.array(predictions, dtype=object)
    if spec.columns.score:
        columns[spec.columns.score] = (
            np.array([float(r.get("confidence", np.nan)) for r in records])
            if spec.columns.score_kind == "confidence"
            else p_positive
        )
    entries = [
        [prediction, None if np.isnan(p) else float(p)]
        for prediction, p in zip(predictions, p_positive.tolist(), strict=True)
    ]
    return _by_request(records, entries)


def _multiclass_columns(
    spec: MonitoringSpec, records: list[dict[str, Any]], columns: dict[str, np.ndarray], prediction_column: str
) -> dict[str, list[Any]]:
    """The predicted class and one `<score_prefix><class>` column per class (what CBPE reads);
    index: request id -> [prediction, {class: probability}]."""
    predictions = [str(r["prediction"]) for r in records]
    columns[prediction_column] = np.array(predictions, dtype=object)
    probabilities = [r.get("probabilities") or {} for r in records]
    prefix = spec.columns.score_prefix
    if prefix is not None:
        classes = spec.columns.classes or list(dict.fromkeys(label for p in probabilities for label in p))
        for label in classes:
            columns[prefix + label] = np.array([float(p.get(label, np.nan)) for p in probabilities])
    return _by_request(records, [[prediction, p] for prediction, p in zip(predictions, probabilities, strict=True)])


def _regression_columns(
    records: list[dict[str, Any]], columns: dict[str, np.ndarray], prediction_column: str
) -> dict[str, list[Any]]:
    """The predicted value; index: request id -> [predicted value, None]."""
    values = np.array([_number(r["prediction"]) for r in records])
    columns[prediction_column] = values
    return _by_request(records, [[None if np.isnan(v) else float(v), None] for v in values.tolist()])


def _number(value: Any) -> float:
    """A captured number; anything else (a record from another task's version, null) is NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return np.nan
    return float(value)
