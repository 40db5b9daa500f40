"""The drift run's accounting, apart from its drift windows: every settled hour after the stored
watermark is reconciled, oldest first and at most MAX_HOURS_PER_RUN a run, and the watermark
moves past each hour as soon as it is reconciled. An hour a failed run could not reconcile is
the next run's first, so no hour is skipped. An hour is reported by the run that reconciles it,
before the watermark moves: one whose watermark could not be stored is reported again by the next
run (twice, which the alarms' Maximum judges alike, rather than never).

The first run of a deployment (no watermark) starts at the hour that has just settled: hours
before it predate the deployment's counts or have been reported before."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.feedback_receipts import filed_in_hour
from modelwatch.jobs.capture_accounting import CaptureAccount, FeedbackAccount, VersionAccount, settled_hour
from modelwatch.jobs.drift_job import HourlyProfile, objects_fingerprint
from modelwatch.profiles import DatasetProfile

# A run after an outage catches up this many hours (a day), then each hourly run takes this many
# more than the one hour that settles meanwhile; within the drift function's timeout beside its
# windows (an hour costs a listing per model version and two GetMetricData calls).
MAX_HOURS_PER_RUN = 24
HOUR = timedelta(hours=1)


def _next_hour(hour: str) -> str:
    return layout.hour_of(layout.hour_start(hour) + HOUR)


def due_hours(watermark: str | None, end: datetime, limit: int = MAX_HOURS_PER_RUN) -> tuple[list[str], int]:
    """The settled hours after `watermark` at `end`, oldest first, at most `limit`, and how many
    more are settled and wait for a later run."""
    latest = settled_hour(end)
    first = latest if watermark is None else _next_hour(watermark)
    if first > latest:  # hour names sort as the hours do
        return [], 0
    count = int((layout.hour_start(latest) - layout.hour_start(first)) / HOUR) + 1
    start = layout.hour_start(first)
    return [layout.hour_of(start + k * HOUR) for k in range(min(count, limit))], max(0, count - limit)


class Watermark:
    """The last hour reconciled, in the data bucket's accounting area."""

    def __init__(self, data: DataBucket) -> None:
        self.data = data

    def read(self) -> str | None:
        stored = self.data.read_optional(layout.accounting_watermark_key())
        return None if stored is None else str(json.loads(stored)["hour"])

    def write(self, hour: str, at: datetime) -> None:
        document = {"hour": hour, "reconciled_at": at.isoformat(timespec="seconds")}
        self.data.write(layout.accounting_watermark_key(), json.dumps(document).encode(), "application/json")


def captured_rows(data: DataBucket, version: str, hour: str) -> int:
    """Records profiled from one version's capture objects of `hour`: its rollup's count while the
    rollup holds exactly the hour's partial profiles, else theirs added up (nothing is written:
    rolling up is the drift windows' job)."""
    listed = data.list_hours(layout.PROFILES.version_prefix(version), [hour])[hour]
    stored = data.read_optional(layout.hourly_profile_key(version, hour))
    if stored is not None:
        rollup = HourlyProfile.from_json(stored)
        if rollup.fingerprint == objects_fingerprint(listed):
            return rollup.profile.rows
    return sum(DatasetProfile.from_json(data.read(key)).rows for key, _ in listed)


@dataclass(frozen=True)
class HourAccounts:
    captures: CaptureAccount
    feedback: FeedbackAccount

    def to_document(self) -> dict[str, Any]:
        return {
            "hour": self.captures.hour,
            "captures": self.captures.to_document(),
            "feedback": self.feedback.to_document(),
        }


@dataclass(frozen=True)
class Reconciled:
    """One run's accounting: the hours it reconciled, how many settled hours wait for a later run,
    and the error that stopped it (the hours before it stand, and the watermark is past them)."""

    hours: tuple[HourAccounts, ...]
    behind: int
    watermark: str | None
    failure: Exception | None = field(default=None, compare=False)

    def to_document(self) -> dict[str, Any]:
        return {
            "hours": [hour.to_document() for hour in self.hours],
            "behind": self.behind,
            "watermark": self.watermark,
            "failed": None if self.failure is None else f"{type(self.failure).__name__}: {self.failure}",
        }


class Reconciliation:
    """`served_version`: the version being served (always accounted, so a version whose captures
    all vanished still shows what it sent); `sent_captures(hour)`: version -> records logged;
    `sent_feedback(hour)`: feedback pieces logged; `tolerance_share`: [capture] sent_count_tolerance."""

    def __init__(
        self,
        data: DataBucket,
        served_version: Callable[[], str],
        sent_captures: Callable[[str], Mapping[str, int]],
        sent_feedback: Callable[[str], int],
        tolerance_share: float,
        limit: int = MAX_HOURS_PER_RUN,
    ) -> None:
        self.data, self.watermark = data, Watermark(data)
        self.served_version, self.sent_captures, self.sent_feedback = served_version, sent_captures, sent_feedback
        self.tolerance_share, self.limit = tolerance_share, limit

    def run(self, end: datetime) -> Reconciled:
        """Reconcile the due hours, oldest first; an error stops the run at its hour, which stays
        due (raised only when nothing could be read at all: the watermark, the served version)."""
        mark = self.watermark.read()
        hours, behind = due_hours(mark, end, self.limit)
        served = self.served_version() if hours else ""
        done: list[HourAccounts] = []
        for position, hour in enumerate(hours):
            try:
                done.append(self.account(hour, served))
                self.watermark.write(hour, end)
            except Exception as error:  # reported by the caller once the drift windows have run
                return Reconciled(tuple(done), behind + len(hours) - position, mark, error)
            mark = hour
        return Reconciled(tuple(done), behind, mark)

    def account(self, hour: str, served: str) -> HourAccounts:
        sent = self.sent_captures(hour)
        versions = [
            VersionAccount(
                version, int(sent.get(version, 0)), captured_rows(self.data, version, hour), self.tolerance_share
            )
            for version in sorted({*sent, served})
        ]
        feedback = FeedbackAccount(hour, self.sent_feedback(hour), filed_in_hour(self.data, hour), self.tolerance_share)
        return HourAccounts(CaptureAccount(hour, tuple(versions)), feedback)
