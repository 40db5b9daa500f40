"""The reconciled hour is the one the drift check first treats as settled, and an account counts
missing and duplicated records apart (one never hides the other across versions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from modelwatch.catalog import layout
from modelwatch.jobs.capture_accounting import CaptureAccount, VersionAccount, settled_hour
from modelwatch.jobs.drift_job import DriftJob


def test_the_reconciled_hour_is_the_first_settled_one():
    end = datetime(2026, 12, 5, 14, 20, tzinfo=UTC)
    hour = settled_hour(end)
    settled = {"profiles-hourly/model_version=v/dt=" + hour + ".json"}
    assert DriftJob._settled("v", hour, end, settled)
    later = layout.hour_of(layout.hour_start(hour) + timedelta(hours=1))
    assert not DriftJob._settled("v", later, end, {"profiles-hourly/model_version=v/dt=" + later + ".json"})
    assert settled_hour(end + timedelta(hours=1)) == later  # each hourly run reconciles the next hour


def test_missing_and_duplicated_are_counted_per_version():
    account = CaptureAccount("2026-12-05-00", (VersionAccount("v1", 300, 200), VersionAccount("v2", 10, 15)))
    assert account.missing == 100 and account.active
    assert [(v.missing, v.duplicated) for v in account.versions] == [(100, 0), (0, 5)]
    assert not CaptureAccount("2026-12-05-00", (VersionAccount("v1", 0, 0),)).active
