"""Soak: is every accepted prediction captured exactly once while the capture path misbehaves?

20,000 prediction records in batches of 1-100 from 16 concurrent HTTP clients, through the local
API server (`modelwatch serve`'s) over the embedded stack. The predict function's capture lines
go to its log group (one stream per execution environment); a CloudWatch Logs subscription
stand-in hands them to the capture function as `awslogs` batches, invoked asynchronously as
Lambda does (two retries, then the capture function's dead-letter queue). Meanwhile:

- S3 refuses a tenth of capture writes (in front of moto): each chosen object key fails 1 to 16
  times in a row, so botocore's retries, Lambda's retries and the dead-letter queue all get their
  turn; short runs answer 503 SlowDown (botocore backs off from 1 s), long ones 500 InternalError
  (from 50 ms: the soak's run time stays in minutes);
- the subscription delivers a tenth of its batches twice (captures must be idempotent);
- for a stretch in the middle the capture function is throttled: Logs keeps the refused batches
  and delivers them later.

Then it counts, by request id: sent (records the API answered 200 for), captured (distinct
records in capture objects), dead-lettered (records only in the dead-letter queue), lost (sent,
neither captured nor dead-lettered), duplicated (extra copies in capture objects). The judged
line is `sent N, captured N, dead-lettered N, lost N, duplicated N`; the exit code is 1 when
anything is lost or duplicated (or captured that was never sent).

    python -m benchmarks.soak [--records 20000] [--clients 16] [--seed 7]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import json
import os
import queue
import random
import sys
import threading
import time
import warnings
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from modelwatch.catalog.functions import PREDICT

ROOT = Path(__file__).resolve().parent.parent
LOG_GROUP = "/aws/lambda/modelwatch-predict"
SIMULATED_HOURS = 7  # the run's records spread over this many hours: batches straddle hours
FAILURE_RUNS = (1, 2, 3, 6, 11, 16)  # consecutive refusals of a failing key (5 attempts per invocation)


@dataclass(frozen=True)
class SoakPlan:
    records: int = 20_000
    clients: int = 16
    seed: int = 7
    max_batch: int = 100
    failing_write_share: float = 0.1
    redelivered_share: float = 0.1
    max_lines_per_delivery: int = 20
    throttle_from_share: float = 1 / 3  # throttling starts once this share of records is sent ...
    throttled_seconds: float = 3.0  # ... and refuses every delivery for this long (about a tenth of the run)


@dataclass
class Counts:
    requests: int = 0
    refused: Counter = field(default_factory=Counter)  # status -> requests the API did not accept
    unanswered: int = 0  # records of requests no attempt got an answer for
    deliveries: int = 0
    throttled: int = 0
    redelivered: int = 0
    dead_lettered_batches: int = 0
    capture_errors: int = 0  # capture invocations that failed (Lambda retried them)


class LogGroup:
    """The predict function's log group: each invocation's capture lines on the stream of the
    execution environment that ran it, with ids consecutive per stream, as CloudWatch Logs keeps them."""

    def __init__(self, streams: int) -> None:
        self._streams = [f"2026/11/28/[$LATEST]{n:032x}" for n in range(streams)]
        self._lines: dict[str, list[str]] = {s: [] for s in self._streams}
        self._next_id = dict.fromkeys(self._streams, 1)
        self._turn = 0
        self._lock = threading.Lock()

    def put(self, lines: list[str]) -> None:
        with self._lock:
            stream = self._streams[self._turn % len(self._streams)]
            self._turn += 1
            self._lines[stream].extend(lines)

    def take(self, rng: random.Random, most: int) -> list[tuple[str, int, list[str]]]:
        """What the subscription filter passes on now: (stream, first event id, lines) batches."""
        batches = []
        with self._lock:
            for stream, lines in self._lines.items():
                while lines:
                    size = rng.randint(1, most)
                    batch, self._lines[stream] = lines[:size], lines[size:]
                    lines = self._lines[stream]
                    batches.append((stream, self._next_id[stream], batch))
                    self._next_id[stream] += len(batch)
        return batches

    def empty(self) -> bool:
        with self._lock:
            return not any(self._lines.values())


def _make_stack(spec: Path, log_group: LogGroup, counts: Counts, seconds_per_request: float):
    from modelwatch_local.stack import LocalStack

    class SoakStack(LocalStack):
        """The local stack with the predict function's capture lines left in its log group, for
        the subscription below to deliver (the server calls this after each invocation)."""

        def deliver_capture(self, function: str, lines: list[str]) -> None:
            from modelwatch.serving.capture import MARKER

            log_group.put([line for line in lines if MARKER in line])
            self.clock.advance(seconds_per_request)

        def invoke(self, function: str, event: Any):
            try:
                return super().invoke(function, event)
            except Exception:
                if function == "capture":
                    counts.capture_errors += 1
                raise

    return SoakStack(spec)


class FailingCaptureWrites:
    """S3 refusing a tenth of the capture writes: a key chosen to fail answers an error for a run
    of consecutive attempts (its length drawn from FAILURE_RUNS), then accepts it. A short run is
    throttling (SlowDown), a long one an outage (InternalError)."""

    def __init__(self, share: float, seed: int) -> None:
        self.share, self._rng = share, random.Random(seed)
        self._remaining: dict[str, int] = {}
        self._outage: dict[str, bool] = {}
        self.failing_keys = 0
        self._lock = threading.Lock()

    def decide(self, request: Any):
        from modelwatch_local.faults import INTERNAL_ERROR, SLOW_DOWN

        key = request.url.split("?")[0]
        if "/capture/" not in key:
            return None
        with self._lock:
            if key not in self._remaining:
                failing = self._rng.random() < self.share
                self._remaining[key] = self._rng.choice(FAILURE_RUNS) if failing else 0
                self._outage[key] = self._remaining[key] > 2
                self.failing_keys += failing
            if self._remaining[key] == 0:
                return None
            self._remaining[key] -= 1
            return INTERNAL_ERROR if self._outage[key] else SLOW_DOWN


class Subscription:
    """The Logs subscription: batches delivered asynchronously to the capture function, some of
    them twice; while the function is throttled the batches wait and are delivered later."""

    def __init__(self, stack: Any, lock: threading.Lock, log_group: LogGroup, plan: SoakPlan, counts: Counts):
        self.stack, self.lock, self.log_group, self.plan, self.counts = stack, lock, log_group, plan, counts
        self.rng = random.Random(plan.seed + 1)
        self.pending: deque[tuple[dict[str, Any], bool]] = deque()  # (event, already redelivered)
        self.dead_letters = stack.dead_letter_queues["capture"]
        self.throttle_started = threading.Event()
        self._throttled_until: float | None = None

    def run(self, api_done: threading.Event) -> None:
        from modelwatch_local.subscription import awslogs_event

        while True:
            for stream, first_id, lines in self.log_group.take(self.rng, self.plan.max_lines_per_delivery):
                self.pending.append((awslogs_event(LOG_GROUP, stream, lines, first_id), False))
            if not self.pending:
                if api_done.is_set() and self.log_group.empty():
                    return
                time.sleep(0.01)
                continue
            event, redelivered = self.pending.popleft()
            if self._throttled():  # TooManyRequestsException: Logs keeps the batch for later
                self.counts.throttled += 1
                self.pending.append((event, redelivered))
                time.sleep(0.05)
                continue
            with self.lock:  # one invocation at a time: each captures the process's stdout
                outcome = self.stack.invoke_async("capture", event, self.dead_letters)
            self.counts.deliveries += 1
            self.counts.dead_lettered_batches += outcome is None
            if not redelivered and self.rng.random() < self.plan.redelivered_share:
                self.counts.redelivered += 1
                self.pending.append((event, True))

    def _throttled(self) -> bool:
        if not self.throttle_started.is_set():
            return False
        if self._throttled_until is None:
            self._throttled_until = time.monotonic() + self.plan.throttled_seconds
        return time.monotonic() < self._throttled_until


class Ledger:
    """Request ids the API accepted."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def accept(self, ids: Iterable[str]) -> None:
        with self._lock:
            self.sent.extend(ids)


def _client(port: int, batches: queue.Queue, ledger: Ledger, counts: Counts, lock: threading.Lock) -> None:
    while True:
        try:
            records = batches.get_nowait()
        except queue.Empty:
            return
        answer = _post(port, json.dumps({"instances": records}).encode())
        with lock:
            counts.requests += 1
            if answer is None:
                counts.unanswered += len(records)
                continue
            if answer[0] != 200:
                counts.refused[answer[0]] += 1
                continue
        ledger.accept(p["request_id"] for p in json.loads(answer[1])["predictions"])


def _post(port: int, body: bytes, attempts: int = 3) -> tuple[int, bytes] | None:
    """POST /predict as a client does: a connection refused or reset before any answer is tried
    again (a request that got no answer was not accepted). None when no attempt got an answer."""
    for attempt in range(attempts):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            connection.request("POST", PREDICT.route or "", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, response.read()
        except (ConnectionError, http.client.HTTPException):
            time.sleep(0.1 * 2**attempt)
        finally:
            connection.close()
    return None


def _batches(plan: SoakPlan) -> queue.Queue:
    from modelwatch.demo.data import demo_frame, demo_records

    rng = random.Random(plan.seed)
    frame = demo_frame(plan.records, plan.seed)
    batches: queue.Queue = queue.Queue()
    start = 0
    while start < plan.records:
        size = min(rng.randint(1, plan.max_batch), plan.records - start)
        batches.put(demo_records(frame, range(start, start + size)))
        start += size
    return batches


def _request_ids(lines: Iterable[str]) -> Iterable[str]:
    from modelwatch.serving.capture import CAPTURE, parse_line

    for line in lines:
        parsed = parse_line(line)
        if parsed is not None and parsed[0] == CAPTURE:
            yield from (str(record.get("request_id")) for record in parsed[1])


def _captured(stack: Any) -> Counter:
    from modelwatch.catalog import layout

    found: Counter = Counter()
    for body in stack.objects(layout.CAPTURE.prefix).values():
        found.update(str(json.loads(line)["request_id"]) for line in body.decode().splitlines() if line)
    return found


def _dead_lettered(stack: Any, queue_url: str) -> set[str]:
    """Request ids in the dead-letter queue's events (each an `awslogs` event Lambda gave up on)."""
    sqs = stack.platform.client("sqs")
    found: set[str] = set()
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600).get(
            "Messages", []
        )
        if not messages:
            return found
        for message in messages:
            data = json.loads(message["Body"])["awslogs"]["data"]
            events = json.loads(gzip.decompress(base64.b64decode(data)))["logEvents"]
            found.update(_request_ids(e["message"] for e in events))


def run(plan: SoakPlan, out: TextIO) -> int:
    from modelwatch_local.faults import InjectedFaults
    from modelwatch_local.server import api_server

    # The soak's output is its figures: the functions' own log lines (thousands of them, the
    # capture failures with every record) stay out of it.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    started = time.perf_counter()
    batches = _batches(plan)
    requests = batches.qsize()
    say(
        f"soak: {plan.records:,} records in {requests} batches of 1-{plan.max_batch}, {plan.clients} clients; "
        f"S3 refuses {plan.failing_write_share:.0%} of capture writes, {plan.redelivered_share:.0%} of log "
        f"batches redelivered, the capture function throttled for a while"
    )
    counts, ledger, log_group, lock = Counts(), Ledger(), LogGroup(plan.clients), threading.Lock()
    stack = _make_stack(ROOT / "monitoring.toml", log_group, counts, SIMULATED_HOURS * 3600 / requests)
    try:
        say("publishing the demo model ...")
        stack.publish_demo_model("soak-1")
        writes = FailingCaptureWrites(plan.failing_write_share, plan.seed + 2)
        faults = InjectedFaults(stack.s3, "PutObject", writes.decide)
        subscription = Subscription(stack, lock, log_group, plan, counts)
        server = api_server(stack, lock, lambda line: None)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        api_done = threading.Event()
        delivering = threading.Thread(target=subscription.run, args=(api_done,))
        delivering.start()
        clients = [
            threading.Thread(target=_client, args=(server.server_address[1], batches, ledger, counts, lock))
            for _ in range(plan.clients)
        ]
        for client in clients:
            client.start()
        reported = 0
        while any(c.is_alive() for c in clients):
            time.sleep(0.2)
            sent = len(ledger.sent)
            if sent >= plan.records * plan.throttle_from_share and not subscription.throttle_started.is_set():
                subscription.throttle_started.set()
                say(f"  capture function throttled from {sent:,} records sent")
            if sent >= reported + plan.records // 10:
                reported = sent
                say(
                    f"  {time.perf_counter() - started:6.1f} s  sent {sent:,}  deliveries {counts.deliveries}  "
                    f"throttled {counts.throttled}  waiting {len(subscription.pending)}"
                )
        subscription.throttle_started.set()  # a short run may end before the threshold
        api_done.set()
        say(f"  API done after {time.perf_counter() - started:.1f} s; delivering what the log group holds ...")
        delivering.join()
        server.shutdown()
        server.server_close()
        faults.remove()

        sent_ids = set(ledger.sent)
        captured = _captured(stack)
        dead = _dead_lettered(stack, subscription.dead_letters) - set(captured)
        lost = sent_ids - set(captured) - dead
        duplicated = sum(n - 1 for n in captured.values() if n > 1)
        phantom = set(captured) - sent_ids
        say(
            f"requests: {counts.requests} ({sum(counts.refused.values())} refused: {dict(counts.refused)}; "
            f"{counts.unanswered} records never answered)"
        )
        say(
            f"log deliveries: {counts.deliveries} ({counts.redelivered} redelivered), "
            f"{counts.throttled} refused while throttled, {counts.capture_errors} capture invocations failed, "
            f"{counts.dead_lettered_batches} batches dead-lettered"
        )
        say(f"S3: {writes.failing_keys} capture keys refused, faults injected {faults.injected}")
        if phantom:
            say(f"captured but never sent: {len(phantom)}")
        say(f"elapsed {time.perf_counter() - started:.1f} s")
        say(
            f"sent {len(sent_ids)}, captured {len(captured)}, dead-lettered {len(dead)}, "
            f"lost {len(lost)}, duplicated {duplicated}"
        )
        return 1 if lost or duplicated or phantom else 0
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=SoakPlan.records)
    parser.add_argument("--clients", type=int, default=SoakPlan.clients)
    parser.add_argument("--seed", type=int, default=SoakPlan.seed)
    arguments = parser.parse_args(argv)
    plan = SoakPlan(records=arguments.records, clients=arguments.clients, seed=arguments.seed)
    return run(plan, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
