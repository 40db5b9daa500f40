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

    @classmethod
    def from_document(cls, entry: dict[str, Any]) -> SegmentVerdict:
        return cls(
            entry["segment"],
            dict(entry["values"]),
            entry["status"],
            int(entry["current_rows"]),
            entry.get("drift_share"),
            list(entry.get("drifted_features") or []),
        )

    def share_beyond(self, whole_drifted: set[str]) -> float:
        """The share of its checked features that drifted here and not in `whole_drifted`."""
        if not self.drift_share or not self.drifted_features:
            return 0.0
        checked = len(self.drifted_features) / self.drift_share
        return len(set(self.drifted_features) - whole_drifted) / checked

    @property
    def judged(self) -> bool:
        return self.status != "insufficient_data"

    def label(self) -> str:
        """As the console and the notices name it: by_region[region=eu]."""
        return f"{self.segment}[{', '.join(f'{k}={v}' for k, v in self.values.items())}]"
