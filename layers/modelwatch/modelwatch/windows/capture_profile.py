"""The partial profile of one capture object, and its join index for late labels."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelwatch.profiles import DatasetProfile, ProfileSchema, profile_batch
from modelwatch.spec.models import MonitoringSpec
from modelwatch.stats.pca import PcaModel


class PoisonCaptureError(ValueError):
    """A capture object that cannot be profiled (not JSON lines, or not capture records)."""


@dataclass(frozen=True)
class CaptureProfile:
    profile: DatasetProfile
    join_index: dict[str, list[Any]]  # request id -> [prediction, P(positive)]


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
    spec: MonitoringSpec, records: list[dict[str, Any]], reconstruction: PcaModel | None = None
) -> CaptureProfile:
    """Features, prediction and score columns as the baseline profiles them (the spec's names).

    `reconstruction`: the current baseline's PCA (`modelwatch.drift.multivariate.reference_model`
    of the baseline's `multivariate` profile). With it each record's reconstruction error is
    profiled here, where records are, and a window's errors merge like any column; without it
    the drift check scores the window's bounded row sample instead."""
    schema = dataclasses.replace(ProfileSchema.from_spec(spec), reconstruction=reconstruction)
    columns: dict[str, np.ndarray] = {
        name: np.array([r["features"].get(name) for r in records], dtype=object) for name in spec.features
    }
    prediction_column = spec.columns.prediction or "prediction"
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
    index = {
        str(r["request_id"]): [prediction, None if np.isnan(p) else float(p)]
        for r, prediction, p in zip(records, predictions, p_positive.tolist(), strict=True)
        if "request_id" in r
    }
    return CaptureProfile(profile_batch(schema, columns), index)
