"""The training set of a retraining run: captured predictions' features joined with the labels
that came back for them, oldest first, and the most recent share held out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelwatch.catalog.capture_line import ATTRIBUTES_KEY
from modelwatch.feedback import merge_feedback
from modelwatch.labels import label_of
from modelwatch.spec.models import MonitoringSpec


@dataclass(frozen=True)
class LabelledRows:
    """Feature columns plus the target column (the spec's names), in time order."""

    columns: dict[str, np.ndarray]
    timestamps: list[str]  # ISO-8601, as captured

    @property
    def rows(self) -> int:
        return len(self.timestamps)

    def split(self, holdout_share: float) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(train, holdout): the holdout is the most recent rows, as the model will meet them."""
        cut = self.rows - max(1, round(self.rows * holdout_share))
        train = {name: values[:cut] for name, values in self.columns.items()}
        holdout = {name: values[cut:] for name, values in self.columns.items()}
        return train, holdout


def labels_by_request(documents: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """request id -> its latest label, from every piece of feedback; outcome-only feedback has no label."""
    merged = merge_feedback(d for d in documents if d.get("request_id") is not None)
    return {d["request_id"]: label_of(d["label"]) for d in merged.documents if d["label"] is not None}


def labelled_rows(
    spec: MonitoringSpec, captures: Iterable[Mapping[str, Any]], labels: Mapping[str, str]
) -> LabelledRows:
    """The captured records that have a label, as columns, sorted by capture time."""
    target = spec.columns.target
    if target is None:
        raise ValueError("the spec names no target column to retrain on")
    matched = sorted(
        (r for r in captures if str(r.get("request_id")) in labels), key=lambda r: str(r.get("timestamp", ""))
    )
    columns: dict[str, np.ndarray] = {}
    for name in spec.numeric_features:
        values = [r["features"].get(name) for r in matched]
        columns[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    for name in spec.categorical_features:
        columns[name] = np.array([r["features"].get(name) for r in matched], dtype=object)
    # The request attributes segments cut by, as captured: the retrained version's baseline then
    # holds a slice per client, which the first version's training data may have lacked. Never
    # a model input (the training frame takes the features and the target only).
    for name in spec.segment_attributes:
        columns[name] = np.array([(r.get(ATTRIBUTES_KEY) or {}).get(name) for r in matched], dtype=object)
    columns[target] = np.array([labels[str(r["request_id"])] for r in matched], dtype=object)
    return LabelledRows(columns, [str(r.get("timestamp", "")) for r in matched])
