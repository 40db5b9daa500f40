"""Drift runs that overlap or die part-way leave the same results as one clean run: two runs of
the same window at once, one of them killed after any of its writes (nothing after the kill runs,
as when Lambda times out or the environment dies), then the scheduled re-run. Reports, hourly
rollups and joined labels are byte-identical to a clean run's, and the re-run's metrics equal it.

The runs' S3 writes are counted and cut by a client wrapper: the job's own code runs unchanged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from modelwatch.catalog import layout
from modelwatch.data_access.model_store import registry_of
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.jobs.drift_job import DriftJob
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT
from tests.integration.test_drift_monitor import _metrics

START = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
DERIVED = (layout.REPORTS.prefix, layout.PROFILES_HOURLY.prefix, layout.LABELS_JOINED.prefix)


class Killed(BaseException):
    """The run's process stops here: no handler of the job's catches it (as no code runs after a kill)."""


# moto's S3 is not thread-safe where S3 is: an overwrite closes the replaced object's buffer,
# and a GET of that key in another thread at that moment fails with "I/O operation on closed
# file" (S3 answers it with the old or the new object). The runs' S3 requests are therefore made
# one at a time; the runs still interleave between requests, which is where their overlap matters.
_ONE_REQUEST_AT_A_TIME = threading.RLock()


class _AtomicPages:
    """A paginator whose page requests take the lock one page at a time."""

    def __init__(self, paginator: Any) -> None:
        self.paginator = paginator

    def paginate(self, **arguments: Any) -> Iterator[dict[str, Any]]:
        pages = iter(self.paginator.paginate(**arguments))
        while True:
            with _ONE_REQUEST_AT_A_TIME:
                page = next(pages, None)
            if page is None:
                return
            yield page


class _Lead:
    """The killed run's writes so far, until it dies: the survivor writes a key only after the
    killed run has written it (or died). Otherwise the survivor could get ahead, and the killed
    run, finding a window already stored from the same inputs, would rightly skip its writes
    and finish without reaching its kill point: two overlapping complete runs, not this test."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._written: set[str] = set()
        self._over = False

    def wrote(self, key: str) -> None:
        with self._changed:
            self._written.add(key)
            self._changed.notify_all()

    def end(self) -> None:
        with self._changed:
            self._over = True
            self._changed.notify_all()

    def wait_for(self, key: str) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._over or key in self._written, timeout=60):
                raise TimeoutError(f"the killed run neither wrote {key} nor died")


class _S3Writes:
    """An S3 client that counts PutObject calls and dies at write number `kill_at` (None: never).

    `lead`: the killed run's progress, which this run's writes record (kill_at set) or follow."""

    def __init__(
        self, s3: Any, kill_at: int | None = None, started: threading.Event | None = None, lead: _Lead | None = None
    ) -> None:
        self.s3, self.kill_at, self.written, self.started, self.lead = s3, kill_at, 0, started, lead

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.s3, name)
        if name == "get_paginator":
            return lambda operation: _AtomicPages(attribute(operation))
        if not callable(attribute):
            return attribute

        def atomic(*arguments: Any, **keywords: Any) -> Any:
            with _ONE_REQUEST_AT_A_TIME:
                return attribute(*arguments, **keywords)

        return atomic

    def put_object(self, **arguments: Any) -> Any:
        if self.started is not None:
            self.started.set()
        if self.written == self.kill_at:
            raise Killed(f"killed before write {self.written}: {arguments['Key']}")
        if self.lead is not None and self.kill_at is None:
            self.lead.wait_for(arguments["Key"])
        self.written += 1
        with _ONE_REQUEST_AT_A_TIME:
            answer = self.s3.put_object(**arguments)
        if self.lead is not None and self.kill_at is not None:
            self.lead.wrote(arguments["Key"])
        return answer


def _job(stack: LocalStack, s3: Any) -> DriftJob:
    settings = stack.platform.settings
    return DriftJob(s3, settings.data_bucket, stack.platform.spec, registry_of(stack.platform))


def _derived(stack: LocalStack) -> dict[str, bytes]:
    return {key: body for prefix in DERIVED for key, body in stack.objects(prefix).items()}


def _forget_derived(stack: LocalStack) -> None:
    for key in _derived(stack):
        stack.s3.delete_object(Bucket=stack.platform.settings.data_bucket, Key=key)


def _canonical(invocation) -> list:
    return sorted((name, sorted(dims.items()), value) for name, dims, value in _metrics(invocation))


def _windows(result: dict) -> dict:
    """A run's result but its accounting, which a re-run rightly does not repeat (the watermark is
    past the hour: tests/integration/test_accounting.py)."""
    return {key: value for key, value in json.loads(json.dumps(result)).items() if key != "accounting"}


@pytest.fixture(scope="module")
def clean(request) -> tuple[LocalStack, dict[str, bytes], Any, int]:
    """Three hours of labelled traffic, then one clean drift run: what every other run must equal."""
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    request.addfinalizer(stack.stop)  # stopped even when this setup fails: a stack left running is shared
    stack.publish_demo_model("v1")
    for hour in range(3):
        stack.clock.advance(3600 if hour else 60)
        frame = demo_frame(200, 300 + hour, drift=0.4 * hour)
        for first in (0, 100):
            predicted = stack.call(
                "predict", "POST", "/predict", {"instances": demo_records(frame, range(first, first + 100))}
            )
            assert predicted.status == 200
            labels = [  # one prediction in four gets its label (each label is an object the run reads)
                {"request_id": p["request_id"], "label": int(frame["label"][first + i])}
                for i, p in enumerate(predicted.body["predictions"])
                if i % 4 == 0
            ]
            assert stack.call("feedback", "POST", "/feedback", {"items": labels}).status == 200
    invocation = stack.run_drift(END)
    derived = _derived(stack)
    assert any(k.endswith("report.html") for k in derived) and any(k.endswith("drift.json") for k in derived)
    counter = _S3Writes(stack.s3)
    _forget_derived(stack)
    _job(stack, counter).run(END)
    assert _derived(stack) == derived  # a run is deterministic
    return stack, derived, invocation, counter.written


def test_a_run_killed_after_any_write_then_rerun_equals_a_clean_run(clean):
    stack, derived, invocation, writes = clean
    # Before any write, after the hourly rollups and joined labels, inside a window's pair of
    # report objects (where a run killed between them used to leave report.html missing for
    # good), and before the last write.
    first_report = sum(1 for k in derived if not k.startswith(layout.REPORTS.prefix))
    for kill_at in (0, first_report, first_report + 1, writes - 1):
        _forget_derived(stack)
        with pytest.raises(Killed):
            _job(stack, _S3Writes(stack.s3, kill_at)).run(END)
        rerun = stack.run_drift(END)
        assert _derived(stack) == derived, f"killed before write {kill_at}"
        assert _windows(rerun.result) == _windows(invocation.result) and _canonical(rerun) == _canonical(invocation)


def test_two_concurrent_runs_one_killed_then_a_rerun_equal_a_clean_run(clean):
    stack, derived, invocation, writes = clean
    for kill_at in (writes // 2 + 1, writes - 1):
        _forget_derived(stack)
        started, lead = threading.Event(), _Lead()
        outcome: dict[str, BaseException | None] = {}

        def run(name: str, s3: Any, outcome: dict[str, BaseException | None] = outcome, lead: _Lead = lead) -> None:
            try:
                _job(stack, s3).run(END)
                outcome[name] = None
            except BaseException as error:  # the killed run's end, checked below
                outcome[name] = error
            finally:
                if name == "killed":
                    lead.end()  # dead (or, wrongly, done): the survivor's writes go on alone

        killed = threading.Thread(target=run, args=("killed", _S3Writes(stack.s3, kill_at, started, lead)))
        survivor = threading.Thread(target=run, args=("survivor", _S3Writes(stack.s3, lead=lead)))
        killed.start()
        started.wait(30)  # the survivor starts once the killed run is writing: they overlap
        survivor.start()
        killed.join()
        survivor.join()
        assert isinstance(outcome["killed"], Killed) and outcome["survivor"] is None, outcome
        rerun = stack.run_drift(END)
        assert _derived(stack) == derived, f"killed before write {kill_at}"
        assert _windows(rerun.result) == _windows(invocation.result)
        assert _canonical(rerun) == _canonical(invocation)
