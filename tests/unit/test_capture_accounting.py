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


def test_missing_records_alarm_only_beyond_the_at_least_once_tolerance():
    """A duplicated EMF document adds records never sent: within the tolerance they are not
    reported as missing; a lost capture batch beyond it is."""
    duplicated = VersionAccount("v1", sent=10_050, captured=10_000, tolerance_share=0.01)
    assert duplicated.missing == 50 and duplicated.tolerated == 101 and duplicated.missing_beyond_tolerance == 0
    lost = VersionAccount("v1", sent=10_000, captured=9_500, tolerance_share=0.01)
    assert lost.missing_beyond_tolerance == 400
    assert VersionAccount("v1", 3, 2, 0.01).missing_beyond_tolerance == 0  # one record always tolerated
    account = CaptureAccount("2026-12-05-00", (duplicated, lost))
    assert account.missing == 550 and account.missing_beyond_tolerance == 400
    assert account.to_document()["missing_beyond_tolerance"] == 400
