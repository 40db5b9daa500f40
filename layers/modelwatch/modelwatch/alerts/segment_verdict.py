"""One segment value's verdict as drift.json states it: read by the drift check's telemetry
(modelwatch.jobs.window_check) and by the notices that name the segment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SegmentVerdict:
    """One segment value's verdict: which slice, and which of its features drifted."""

    segment: str
    values: dict[str, str]
    status: str
    current_rows: int
    drift_share: float | None
    drifted_features: list[str]
    checked_features: int  # judged in this value (the drift share's denominator)

    @classmethod
    def from_document(cls, entry: dict[str, Any]) -> SegmentVerdict:
        return cls(
            entry["segment"],
            dict(entry["values"]),
            entry["status"],
            int(entry["current_rows"]),
            entry.get("drift_share"),
            list(entry.get("drifted_features") or []),
            sum(feature.get("status") == "ok" for feature in entry.get("features") or []),
        )

    def share_beyond(self, whole_drifted: set[str]) -> float:
        """The share of its checked features that drifted here and not in `whole_drifted`."""
        if not self.checked_features:
            return 0.0
        return len(set(self.drifted_features) - whole_drifted) / self.checked_features

    @property
    def judged(self) -> bool:
        return self.status != "insufficient_data"

    def label(self) -> str:
        """As the console and the notices name it: by_region[region=eu]."""
        return f"{self.segment}[{', '.join(f'{k}={v}' for k, v in self.values.items())}]"
