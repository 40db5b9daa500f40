"""Concurrent requests through the local API run concurrently, as Lambda runs them: each in an
execution environment of its own, and each invocation's output (its EMF documents, capture lines
and log lines) is its own, whatever ran beside it."""

from __future__ import annotations

import http.client
import io
import itertools
import json
import threading
from collections import defaultdict
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.serving.capture import CAPTURE, parse_line
from modelwatch_local.clock import MovableClock
from modelwatch_local.invocation_state import route_logging
from modelwatch_local.lambda_runtime import ExecutionEnvironment, Invocation, _run
from modelwatch_local.server import api_server
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

CLIENTS = 16
MEETING = 4  # predict invocations that must be inside the handler at the same time
START = datetime(2027, 2, 1, tzinfo=UTC)  # a month no other test uses: moto's backend is shared


class MeetingPoint(dict):
    """An event's requestContext whose first read waits until MEETING invocations have read theirs
    (10 s at most). Powertools' event handler reads it first thing after it takes the event in,
    before it reads the body: invocations run one at a time never meet (the requests fail), and
    invocations that met there would each read the last event taken in, were it one per process."""

    def __init__(self, data: dict[str, Any], meeting: threading.Barrier) -> None:
        super().__init__(data)
        self._meeting: threading.Barrier | None = meeting

    def __getitem__(self, key: str) -> Any:
        meeting, self._meeting = self._meeting, None
        if meeting is not None:
            meeting.wait(timeout=10)
        return super().__getitem__(key)


class RecordingStack(LocalStack):
    """The local stack, keeping every invocation it ran with its event; while `meeting` is set,
    each predict event meets the others at a MeetingPoint."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.ran: list[tuple[str, dict[str, Any], Invocation]] = []
        self.meeting: threading.Barrier | None = None
        self._ran_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def invoke(self, function: str, event: Any) -> Invocation:
        if function == "predict" and self.meeting is not None:
            event = {**event, "requestContext": MeetingPoint(event["requestContext"], self.meeting)}
        invocation = super().invoke(function, event)
        with self._ran_lock:
            self.ran.append((function, event, invocation))
        return invocation


def _post(port: int, body: bytes) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def concurrent_run():
    """CLIENTS clients posting at once to the API server of a fresh stack, the invocations meeting
    MEETING at a time: (stack, [(request body, status, answer)])."""
    stack = RecordingStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    server = None
    try:
        stack.publish_demo_model("v-concurrent", rows=2000)
        frame = demo_frame(3 * CLIENTS, 71)
        # Distinct records and batch sizes (1-3), so each request's output can be told from the others'.
        bodies = [
            json.dumps({"instances": demo_records(frame, range(3 * n, 3 * n + 1 + n % 3))}).encode()
            for n in range(CLIENTS)
        ]
        server = api_server(stack, lambda line: None)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        port = server.server_address[1]
        answers: list[tuple[int, dict[str, Any]] | None] = [None] * CLIENTS
        go = threading.Event()

        def client(n: int) -> None:
            go.wait()
            answers[n] = _post(port, bodies[n])

        stack.meeting = threading.Barrier(MEETING)
        clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in clients:
            thread.start()
        go.set()
        for thread in clients:
            thread.join(60)
        stack.meeting = None
        yield stack, [(body, *(answer or (None, None))) for body, answer in zip(bodies, answers, strict=True)]
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        stack.stop()


def _predictions(stack: RecordingStack) -> list[tuple[dict[str, Any], Invocation]]:
    return [(event, invocation) for function, event, invocation in stack.ran if function == "predict"]


def test_every_request_is_answered_once(concurrent_run):
    stack, answers = concurrent_run
    for body, status, answer in answers:
        assert status == 200, answer
        assert len(answer["predictions"]) == len(json.loads(body)["instances"])
    assert len(_predictions(stack)) == CLIENTS


def test_invocations_overlap_in_separate_environments(concurrent_run):
    stack, _ = concurrent_run
    invocations = [invocation for _, invocation in _predictions(stack)]
    moments = sorted([(i.started, 1) for i in invocations] + [(i.ended, -1) for i in invocations])
    in_flight = most = 0
    for _, change in moments:  # an end sorts before a start at the same instant
        in_flight += change
        most = max(most, in_flight)
    assert most >= MEETING
    # An environment serves one invocation at a time: those in flight together ran in different ones.
    by_stream: dict[str, list[Invocation]] = defaultdict(list)
    for invocation in invocations:
        by_stream[invocation.log_stream].append(invocation)
    assert len(by_stream) >= MEETING
    for served in by_stream.values():
        served.sort(key=lambda i: i.started)
        assert all(before.ended <= after.started for before, after in itertools.pairwise(served))


def test_each_invocation_printed_only_its_own_request(concurrent_run):
    stack, answers = concurrent_run
    answered = {body.decode(): answer for body, _, answer in answers}
    streams_cold: set[str] = set()
    seen_ids: list[str] = []
    for event, invocation in _predictions(stack):
        records = json.loads(event["body"])["instances"]
        predictions = answered.pop(event["body"])["predictions"]
        ids = [p["request_id"] for p in predictions]
        captured = [parsed for line in invocation.stdout if (parsed := parse_line(line)) and parsed[0] == CAPTURE]
        assert [str(record["request_id"]) for _, batch in captured for record in batch] == ids
        documents = [json.loads(line) for line in invocation.stdout if '"_aws"' in line]
        (document,) = [d for d in documents if "ColdStart" not in d]
        # Its confidences are its own records' (the document carries one per record it scored).
        confidences = document["Confidence"] if isinstance(document["Confidence"], list) else [document["Confidence"]]
        assert confidences == [p["confidence"] for p in predictions]
        counts = [document[name] for name in document if name.startswith("Predictions.")]
        assert sum(c if isinstance(c, float | int) else sum(c) for c in counts) == len(records)
        if any("ColdStart" in d for d in documents):
            streams_cold.add(invocation.log_stream)
        seen_ids += ids
    assert not answered  # every request was one invocation
    assert len(seen_ids) == len(set(seen_ids))
    # One ColdStart document per environment (each served its first call on this stack), in its
    # first invocation: the flag is per invocation, not one per process that any could lower.
    by_stream: dict[str, list[Invocation]] = defaultdict(list)
    for _, invocation in _predictions(stack):
        by_stream[invocation.log_stream].append(invocation)
    firsts = {min(served, key=lambda i: i.started).request_id for served in by_stream.values()}
    cold = {
        invocation.request_id
        for _, invocation in _predictions(stack)
        if any('"ColdStart"' in line for line in invocation.stdout)
    }
    assert cold == firsts and streams_cold == set(by_stream)


def test_log_lines_and_prints_reach_the_invocation_that_wrote_them():
    """Powertools Logger's handler holds the stream it found when it was made; two invocations
    logging and printing at the same time each keep their own lines."""
    meeting = threading.Barrier(2)
    module = ModuleType("probe_handler")
    found_at_import = io.StringIO()  # the stdout the Logger found when it was made
    logger = Logger(service="modelwatch-concurrency-probe", stream=found_at_import)

    def handler(event: dict[str, Any], context: Any) -> int:
        print(f"printed by {event['n']}")
        meeting.wait(timeout=10)  # both invocations are inside before either logs
        logger.warning("logged", extra={"by": event["n"]})
        return event["n"]

    module.handler, module.logger = handler, logger  # type: ignore[attr-defined]
    route_logging(module)
    ran: dict[int, Invocation] = {}

    def run(n: int) -> None:
        environment = ExecutionEnvironment("predict", 100 + n, module, "probe.toml")
        ran[n] = _run(environment, id(module), {"n": n})

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    for n in (1, 2):
        printed, logged = ran[n].stdout
        assert printed == f"printed by {n}"
        assert json.loads(logged)["by"] == n and json.loads(logged)["message"] == "logged"
    assert found_at_import.getvalue() == ""
    logger.warning("outside any invocation")  # goes where it went before
    assert "outside any invocation" in found_at_import.getvalue()
