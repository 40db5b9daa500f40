"""One window's drift check as it crosses from the drift job to the function's telemetry and the
story: a typed object read from the drift.json document (`from_document`) and written back as
that document (`to_document`), so no caller re-reads the JSON by string keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelwatch.alerts.segment_verdict import SegmentVerdict


@dataclass(frozen=True)
class ColumnVerdict:
    """A feature's (or the prediction's, or the label's) drift verdict."""

    name: str
    status: str  # "ok" or "insufficient_data"
    method: str | None
    statistic: float | None  # None: undefined (or infinite, with a note in drift.json)
    drifted: bool | None

    @classmethod
    def from_document(cls, column: dict[str, Any]) -> ColumnVerdict:
        return cls(column["name"], column["status"], column.get("method"), column.get("statistic"), column["drifted"])

    @property
    def judged(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class MultivariateVerdict:
    method: str
    score: float | None
    drifted: bool | None  # None: not computed on this window

    @classmethod
    def from_document(cls, entry: dict[str, Any]) -> MultivariateVerdict:
        return cls(entry["method"], entry.get("score"), entry.get("drifted"))


@dataclass(frozen=True)
class WindowCheck:
    window: str
    model_version: str
    status: str  # "ok" or "insufficient_data"
    dataset_drift: bool | None
    drift_share: float | None
    current_rows: int
    new_labeled_rows: int
    quality: dict[str, float]
    performance: dict[str, Any] | None
    estimated_performance: dict[str, Any] | None
    kpis: dict[str, float | None]
    features: list[ColumnVerdict]
    prediction_drift: ColumnVerdict | None
    label_drift: ColumnVerdict | None
    multivariate: list[MultivariateVerdict]
    concept_drift: bool | None  # None: no verdict (too few labelled rows, or no labels)
    document: dict[str, Any] = field(repr=False)  # drift.json, whole
    segments: list[SegmentVerdict] | None = None  # None: the spec has no [[segments]]

    @property
    def drifted_segments(self) -> list[SegmentVerdict]:
        """Segment values with a drifted feature, the most drifted first."""
        drifted = [s for s in self.segments or [] if s.judged and s.drifted_features]
        return sorted(drifted, key=lambda s: (-(s.drift_share or 0.0), s.label()))

    @property
    def worst_segment_drift_share(self) -> float | None:
        """What only the segments see: the highest share, over judged segment values, of their
        checked features that drifted in the segment value but not in the whole window (a shift
        of the whole window drifts its segments too, and its own alarms already tell of it).
        None when no segment value was judged."""
        whole = {feature.name for feature in self.features if feature.drifted}
        shares = [s.share_beyond(whole) for s in self.segments or [] if s.judged]
        return max(shares) if shares else None

    @property
    def judged(self) -> bool:
        return self.status != "insufficient_data"

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> WindowCheck:
        def column(key: str) -> ColumnVerdict | None:
            value = document.get(key)
            return None if value is None else ColumnVerdict.from_document(value)

        concept = document.get("concept_drift") or {}
        return cls(
            window=document["window"],
            model_version=document["model_version"],
            status=document["status"],
            dataset_drift=document["dataset_drift"],
            drift_share=document["drift_share"],
            current_rows=int(document["current_rows"]),
            new_labeled_rows=int(document.get("new_labeled_rows") or 0),
            quality=dict(document["quality"]),
            performance=document.get("performance"),
            estimated_performance=document.get("estimated_performance"),
            kpis=dict(document.get("kpis") or {}),
            features=[ColumnVerdict.from_document(f) for f in document["features"]],
            prediction_drift=column("prediction_drift"),
            label_drift=column("label_drift"),
            multivariate=[MultivariateVerdict.from_document(m) for m in document.get("multivariate") or []],
            concept_drift=concept.get("drifted"),
            document=document,
            segments=None
            if document.get("segments") is None
            else [SegmentVerdict.from_document(entry) for entry in document["segments"]],
        )

    def to_document(self) -> dict[str, Any]:
        return self.document

    def summary(self) -> dict[str, Any]:
        """What the function returns and logs per window."""
        return {
            "status": self.status,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "rows": self.current_rows,
        } | ({} if self.segments is None else {"drifted_segments": [s.label() for s in self.drifted_segments]})
