"""One retraining run at a time: the lock is taken and let go with S3's conditional writes, a
retried step keeps its own lock, and a lock whose run outlived the longest a run may last is
taken over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from modelwatch.data_access.retraining_lock import RetrainingLock

BUCKET = "data"
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
LASTS = timedelta(hours=5)


@pytest.fixture
def s3(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_one_run_holds_it_until_it_lets_go(s3):
    lock = RetrainingLock(s3, BUCKET)
    assert lock.acquire("run-a", NOW, LASTS) is None
    assert lock.acquire("run-a", NOW + timedelta(minutes=5), LASTS) is None  # a retried prepare step
    holder = lock.acquire("run-b", NOW + timedelta(minutes=1), LASTS)
    assert holder is not None and holder.run_id == "run-a"
    assert lock.release("run-b") is False  # only its holder lets it go
    assert lock.release("run-a") is True
    assert lock.acquire("run-b", NOW + timedelta(minutes=2), LASTS) is None
    # A released run retried later does not take it back from the run now holding it.
    assert lock.acquire("run-a", NOW + timedelta(minutes=3), LASTS).run_id == "run-b"


def test_a_lock_past_the_longest_run_is_taken_over(s3):
    lock = RetrainingLock(s3, BUCKET)
    assert lock.acquire("stopped-by-hand", NOW, LASTS) is None
    assert lock.acquire("next", NOW + LASTS - timedelta(seconds=1), LASTS).run_id == "stopped-by-hand"
    assert lock.acquire("next", NOW + LASTS, LASTS) is None


class _LosingS3:
    """S3 as another run's write lands between this run's read and its conditional write."""

    def __init__(self, s3, winner: RetrainingLock) -> None:
        self.s3, self.winner = s3, winner

    def get_object(self, **kwargs):
        return self.s3.get_object(**kwargs)

    def put_object(self, **kwargs):
        self.winner.acquire("run-winner", NOW, LASTS)
        return self.s3.put_object(**kwargs)


def test_the_run_that_loses_the_race_ends_and_names_the_winner(s3):
    loser = RetrainingLock(_LosingS3(s3, RetrainingLock(s3, BUCKET)), BUCKET)
    holder = loser.acquire("run-loser", NOW, LASTS)
    assert holder is not None and holder.run_id == "run-winner"
    with pytest.raises(ClientError):  # the winner's lock is still in place: no unconditional write ever happened
        s3.put_object(Bucket=BUCKET, Key=loser.key, Body=b"{}", IfNoneMatch="*")
