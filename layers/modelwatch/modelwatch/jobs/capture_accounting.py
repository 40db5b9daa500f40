"""Capture and feedback accounting: every record the predict function logged for capture is in
capture/ or counted as missing, and every feedback piece the feedback function logged is filed
under labels/ or counted as missing. An hour is reconciled once it has settled (no delivery retry
can still bring it records, layout.SETTLE_HOURS; modelwatch.jobs.reconciliation decides which
hours a run takes): records sent per model version (CloudWatch's count of the predict function's
EMF) against records profiled from capture/, and feedback pieces sent (the feedback function's
EMF) against those the capture function tallied by hour received. A capture object that arrives
even later marks its hour and is counted by the drift windows, but its hour's account stands as
reported."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from modelwatch.catalog import layout


def tolerated(sent: int, share: float) -> int:
    """Of `sent`, what a duplicated EMF document may have added ([capture] sent_count_tolerance),
    at least one record when there is a tolerance at all."""
    return max(1, math.ceil(share * sent)) if share else 0


@dataclass(frozen=True)
class VersionAccount:
    model_version: str
    sent: int
    captured: int
    # [capture] sent_count_tolerance: the share of `sent` that a duplicated EMF document may add.
    tolerance_share: float = 0.0

    @property
    def missing(self) -> int:
        return max(0, self.sent - self.captured)

    @property
    def tolerated(self) -> int:
        """Records that may be missing only because CloudWatch counted a document twice."""
        return tolerated(self.sent, self.tolerance_share)

    @property
    def missing_beyond_tolerance(self) -> int:
        return max(0, self.missing - self.tolerated)

    @property
    def duplicated(self) -> int:
        """More captured than sent: a redelivered batch stored twice (or records not from predict)."""
        return max(0, self.captured - self.sent)


@dataclass(frozen=True)
class CaptureAccount:
    hour: str
    versions: tuple[VersionAccount, ...]

    @property
    def missing(self) -> int:
        return sum(v.missing for v in self.versions)

    @property
    def missing_beyond_tolerance(self) -> int:
        """What CapturesMissing reports (and alarms on): records lost beyond what at-least-once
        counting can explain."""
        return sum(v.missing_beyond_tolerance for v in self.versions)

    @property
    def active(self) -> bool:
        """Anything sent or captured in the hour."""
        return any(v.sent or v.captured for v in self.versions)

    def to_document(self) -> dict[str, Any]:
        return {
            "hour": self.hour,
            "missing": self.missing,
            "missing_beyond_tolerance": self.missing_beyond_tolerance,
            "versions": [
                {
                    "model_version": v.model_version,
                    "sent": v.sent,
                    "captured": v.captured,
                    "missing": v.missing,
                    "tolerated": v.tolerated,
                    "duplicated": v.duplicated,
                }
                for v in self.versions
            ],
        }


@dataclass(frozen=True)
class FeedbackAccount:
    """One hour's feedback: pieces the feedback function logged in it against pieces received in
    it that the capture function filed."""

    hour: str
    sent: int
    filed: int
    tolerance_share: float = 0.0

    @property
    def missing(self) -> int:
        return max(0, self.sent - self.filed)

    @property
    def missing_beyond_tolerance(self) -> int:
        """What FeedbackMissing reports (and alarms on)."""
        return max(0, self.missing - tolerated(self.sent, self.tolerance_share))

    @property
    def active(self) -> bool:
        return bool(self.sent or self.filed)

    def to_document(self) -> dict[str, Any]:
        return {
            "hour": self.hour,
            "sent": self.sent,
            "filed": self.filed,
            "missing": self.missing,
            "missing_beyond_tolerance": self.missing_beyond_tolerance,
            "duplicated": max(0, self.filed - self.sent),
        }


def settled_hour(end: datetime) -> str:
    """The latest settled hour at `end` (rounded down to its hour), the one that became complete
    then: the drift check's own rule for a settled hour (DriftJob._settled), met for the first time."""
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return layout.hour_of(end - timedelta(hours=layout.SETTLE_HOURS + 1))
