"""The outcome of a drift analysis, as objects and as the JSON document reports carry."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from modelwatch.profiles.chunking import Chunk, ChunkPlan
from modelwatch.quality import QualityReport
from modelwatch.spec.models import DriftMethod
from modelwatch.stats.distributions import BinnedPair

Status = Literal["ok", "insufficient_data"]


def _finite_or_none(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


@dataclass(frozen=True)
class ColumnDrift:
    name: str
    kind: Literal["numeric", "categorical"]
    status: Status
    reference_count: int
    current_count: int
    min_sample_size: int
    method: DriftMethod | None = None
    statistic: float | None = None
    p_value: float | None = None
    p_value_adjusted: float | None = None
    threshold: float | None = None
    threshold_source: Literal["default", "spec", "calibrated", "null"] | None = None
    drifted: bool | None = None
    distribution: BinnedPair | None = None
    # What the threshold was compared with: "p_value" (corrected when it took part in the
    # correction) or "statistic".
    compared: Literal["p_value", "statistic"] | None = None
    note: str | None = None
    # The size of the difference (the distance; for chi-square and Z-test the total variation
    # distance), the size the size-aware rule asks of it, and which test decided the verdict:
    # "p_value" (not significant), "effect" (significant but too small), "both" (drifted), or
    # "threshold" (a spec, Evidently or calibrated threshold on one score).
    effect: float | None = None
    min_effect: float | None = None
    decided_by: Literal["p_value", "effect", "both", "threshold"] | None = None

    @property
    def score(self) -> float | None:
        """What is compared with the threshold: the (adjusted) p-value for tests, else the statistic."""
        if self.method is None:
            return None
        if self.compared == "p_value" or (self.compared is None and self.method.uses_p_value):
            return self.p_value_adjusted if self.p_value_adjusted is not None else self.p_value
        return self.statistic

    def to_dict(self) -> dict[str, Any]:
        note = self.note
        if self.statistic is not None and not math.isfinite(self.statistic):
            # Written as null (JSON has no Infinity); the verdict stands and says why.
            why = "the statistic is infinite (a constant reference, or a category the reference never had)"
            note = why if note is None else f"{note}; {why}"
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "method": None if self.method is None else self.method.value,
            "score": self.score,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "p_value_adjusted": self.p_value_adjusted,
            "threshold": self.threshold,
            "threshold_source": self.threshold_source,
            "drifted": self.drifted,
            "compared": self.compared,
            "effect": _finite_or_none(self.effect),
            "min_effect": self.min_effect,
            "decided_by": self.decided_by,
            "note": note,
            "reference_count": self.reference_count,
            "current_count": self.current_count,
            "min_sample_size": self.min_sample_size,
            "distribution": None
            if self.distribution is None
            else {
                "bins": self.distribution.labels,
                "reference": self.distribution.reference.tolist(),
                "current": self.distribution.current.tolist(),
            },
        }


@dataclass(frozen=True)
class ChunkResult:
    chunk: Chunk
    report: DriftReport  # the chunk as a window of its own

    def to_dict(self) -> dict[str, Any]:
        report = self.report
        return {
            **self.chunk.to_dict(),
            "rows": report.current_rows,
            "status": report.status,
            "dataset_drift": report.dataset_drift,
            "drift_share": report.drift_share,
            "drifted_features": len(report.drifted),
            "evaluated_features": len(report.evaluated),
            "features": [feature.to_dict() for feature in report.features],
            "multivariate": [result.to_dict() for result in report.multivariate],
            "performance": report.performance,
            "estimated_performance": report.estimated_performance,
            "concept_drift": report.extra.get("concept_drift"),
        }


@dataclass(frozen=True)
class ChunkedDrift:
    """Every chunk's verdict, with what the report's performance chart judges them by."""

    plan: ChunkPlan
    results: list[ChunkResult]
    # The spec's performance metric, and how far it may move from the reference's.
    metric: str
    tolerance: float
    lower_is_better: bool = False
    labels: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> list[ChunkResult]:
        return [result for result in self.results if result.report.dataset_drift]

    @property
    def insufficient(self) -> list[ChunkResult]:
        return [result for result in self.results if result.report.dataset_drift is None]

    def performance_bound(self, reference: float | None) -> float | None:
        """The worst the metric may be before the chunk counts as performing worse (concept
        drift's rule): the reference's less the tolerance, or an error's more by that share."""
        if reference is None:
            return None
        return reference * (1 + self.tolerance) if self.lower_is_better else reference - self.tolerance

    def to_list(self) -> list[dict[str, Any]]:
        return [result.to_dict() | {"label": label} for result, label in zip(self.results, self.labels, strict=True)]


@dataclass(frozen=True)
class DriftReport:
    features: list[ColumnDrift]
    share_threshold: float
    correction: str
    quality: QualityReport
    reference_rows: int
    current_rows: int
    prediction_drift: ColumnDrift | None = None
    label_drift: ColumnDrift | None = None
    performance: dict[str, float | None] | None = None
    reference_performance: dict[str, float | None] | None = None
    estimated_performance: dict[str, float | None] | None = None
    # MultivariateDrift results (drift.multivariate), one per method.
    multivariate: list[Any] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Drift over time (`--timestamp` with `--chunk-period` or `--chunk-size`): each chunk of the
    # current rows against the reference; the fields above stay the whole window's.
    chunks: ChunkedDrift | None = None
    # Segments (the spec's [[segments]]): modelwatch.segments.SegmentDrift, one per segment value,
    # corrected as one family; None when the spec has none.
    segments: list[Any] | None = None

    @property
    def segment_drift(self) -> bool | None:
        """Any segment value with a drifted feature; None without segments."""
        return None if self.segments is None else any(segment.drifted for segment in self.segments)

    @property
    def evaluated(self) -> list[ColumnDrift]:
        return [f for f in self.features if f.status == "ok"]

    @property
    def drifted(self) -> list[ColumnDrift]:
        return [f for f in self.evaluated if f.drifted]

    @property
    def drift_share(self) -> float:
        return len(self.drifted) / len(self.evaluated) if self.evaluated else 0.0

    @property
    def status(self) -> Status:
        return "ok" if self.evaluated else "insufficient_data"

    @property
    def dataset_drift(self) -> bool | None:
        """None when no feature had enough data for a verdict."""
        if not self.evaluated:
            return None
        return self.drift_share >= self.share_threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "share_threshold": self.share_threshold,
            "drifted_features": len(self.drifted),
            "evaluated_features": len(self.evaluated),
            "correction": self.correction,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "features": [f.to_dict() for f in self.features],
            "prediction_drift": None if self.prediction_drift is None else self.prediction_drift.to_dict(),
            "label_drift": None if self.label_drift is None else self.label_drift.to_dict(),
            "quality": self.quality.to_dict(),
            "performance": self.performance,
            "reference_performance": self.reference_performance,
            "estimated_performance": self.estimated_performance,
            "multivariate": [result.to_dict() for result in self.multivariate],
            **self.extra,
            **self._chunks_dict(),
            **self._segments_dict(),
        }

    def _segments_dict(self) -> dict[str, Any]:
        if self.segments is None:
            return {}
        return {"segment_drift": self.segment_drift, "segments": [segment.to_dict() for segment in self.segments]}

    def _chunks_dict(self) -> dict[str, Any]:
        if self.chunks is None:
            return {}
        return {"chunking": self.chunks.plan.to_dict(), "chunks": self.chunks.to_list()}
