"""Soak: is every accepted prediction captured exactly once while the capture path misbehaves?

20,000 prediction records in batches of 1-100 from 16 concurrent HTTP clients, through the local
API server (`modelwatch serve`'s) over the embedded stack. The predict function's capture lines
go to its log group (one stream per execution environment); a subscription filter stand-in puts
them on the capture delivery stream as CloudWatch Logs batches; the stream (the local Firehose,
the spec's buffer on the stack's clock, which the lines it takes move through seven simulated hours)
writes one object per buffer under deliveries/, and S3 notifies the capture function of each,
invoked asynchronously as Lambda does (two retries, then its dead-letter queue). Meanwhile:

- S3 refuses a tenth of the writes under capture/ and deliveries/ (in front of moto): each chosen
  key fails 1 to 16 times in a row, so botocore's retries, Lambda's retries, the stream's own
  retries and the dead-letter queue all get their turn; short runs answer 503 SlowDown, long ones
  500 InternalError;
- S3 notifies the capture function twice of a tenth of the delivered objects (its notifications
  are at-least-once: filing must be idempotent);
- for a stretch in the middle the stream refuses Logs' puts and the capture function is
  throttled: Logs keeps the refused batches, Lambda's asynchronous queue the notifications, and
  both are delivered later.

Then the faults clear and `modelwatch redrive-captures` (the local stack's) hands the dead letters
back. It counts, by request id: sent (records the API answered 200 for), captured (distinct
records in capture objects, after the redrive), dead-lettered (records only in objects whose
notification was dead-lettered, before it), redriven (records the redrive filed), lost (sent, not
captured), duplicated (extra copies in capture objects). The judged line is `sent N, captured N,
dead-lettered N, redriven N, lost N, duplicated N`; the exit code is 1 when anything is lost or
duplicated (or captured that was never sent). Same seed, same figures: the clients finish in any
order, but each log stream passes its requests' lines on in the plan's order and the streams take
turns, the clock starts at a fixed time and moves with the lines, and each fault is drawn from
the key it hits and the seed, so the objects, the failing keys and every count but the wall-clock
ones (what was refused or held while throttled) are the same run after run.

    python -m benchmarks.soak [--records 20000] [--clients 16] [--seed 7]
"""

from __future__ import annotations

import argparse
import hashlib
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TextIO
from urllib.parse import unquote_plus

from modelwatch.catalog.functions import PREDICT

ROOT = Path(__file__).resolve().parent.parent
LOG_GROUP = "/aws/lambda/modelwatch-predict"
SOAK_START = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
SIMULATED_HOURS = 7  # the run's records spread over this many hours: batches straddle hours
# Consecutive refusals of a failing key: botocore makes 5 attempts per call and Lambda 3 calls per
# notification, so a run past 15 outlasts them all and the notification is dead-lettered.
FAILURE_RUNS = (1, 2, 3, 6, 11, 16, 21)


@dataclass(frozen=True)
class SoakPlan:
    records: int = 20_000
    clients: int = 16
    seed: int = 7
    max_batch: int = 100
    failing_write_share: float = 0.1
    renotified_share: float = 0.1
    max_lines_per_delivery: int = 5  # Logs batches of 1-5 lines: the stream sees many, the buffer bounds the objects
    throttle_from_share: float = 1 / 3  # the stream and the capture function refuse once this share is sent ...
    throttled_seconds: float = 3.0  # ... for this long (about a tenth of the run)


@dataclass
class Counts:
    requests: int = 0
    refused: Counter = field(default_factory=Counter)  # status -> requests the API did not accept
    unanswered: int = 0  # records of requests no attempt got an answer for
    log_batches: int = 0  # Logs batches the stream took
    refused_batches: int = 0  # Logs batches the stream refused while throttled (delivered later)
    notifications: int = 0  # S3 notifications sent to the capture function (repeats included)
    renotified: int = 0
    deferred_notifications: int = 0  # held in Lambda's asynchronous queue while throttled
    dead_lettered_notifications: int = 0
    capture_errors: int = 0  # capture invocations that failed (Lambda retried them)


def _share(seed: int, text: str) -> float:
    """A number in [0, 1) from the seed and `text` alone: the same key gets the same fault in
    every run, whatever order the concurrent requests take."""
    return int(hashlib.sha256(f"{seed}/{text}".encode()).hexdigest()[:12], 16) / 16**12


def _request_key(records: list[dict[str, Any]]) -> str:
    """A request told apart by its first record's features (what its capture line repeats)."""
    return json.dumps(records[0], sort_keys=True, default=str)


class LogGroup:
    """The predict function's log group: each invocation's capture lines on the stream of the
    execution environment that ran it, with ids consecutive per stream, as CloudWatch Logs keeps them.

    Request i of the plan runs in environment i mod streams, in the plan's order there: the 16
    clients send concurrently and finish in any order, but each stream passes its lines on in its
    requests' order, so the batches, the stream's objects and the keys the faults are drawn from
    are the same run after run."""

    def __init__(self, streams: int, seed: int, most: int) -> None:
        self._streams = [f"2026/11/28/[$LATEST]{n:032x}" for n in range(streams)]
        self._lines: dict[str, list[str]] = {s: [] for s in self._streams}
        self._next_id = dict.fromkeys(self._streams, 1)
        # Each stream's batch sizes drawn from its own generator, in its own order, and a batch
        # passed on only once its stream holds that many lines (or the traffic is over): the
        # batches follow the order the lines were logged in, not when the subscription looked.
        self._sizes = {s: random.Random(f"{seed}/{s}") for s in self._streams}
        self._next_size = {s: self._sizes[s].randint(1, most) for s in self._streams}
        self._most = most
        self._turn = 0  # whose batch goes next
        self._waiting: dict[int, list[str]] = {}  # request index -> its lines, until its turn
        self._next_request = dict.fromkeys(self._streams, 0)  # per stream: its next request's turn
        self._lock = threading.Lock()

    def put(self, request: int, lines: list[str]) -> None:
        with self._lock:
            self._waiting[request] = lines
            self._release(final=False)

    def _release(self, final: bool) -> None:
        """Each stream's requests in the plan's order (at the end, whatever is left, in order)."""
        count = len(self._streams)
        for position, stream in enumerate(self._streams):
            while True:
                request = self._next_request[stream] * count + position
                if request not in self._waiting:
                    later = [i for i in self._waiting if i % count == position and i > request]
                    if not (final and later):  # a request that never logged: skip it at the end
                        break
                    request = min(later)
                    self._next_request[stream] = request // count
                self._lines[stream].extend(self._waiting.pop(request))
                self._next_request[stream] += 1

    def take(self, final: bool) -> list[tuple[str, int, list[str]]]:
        """What the subscription filter passes on now: (stream, first event id, lines) batches,
        one stream after the other in turn, stopping at the first stream whose next batch is not
        complete yet (`final`: the traffic is over, a stream's last lines go as they are)."""
        batches = []
        with self._lock:
            if final:
                self._release(final=True)
            while any(self._lines.values()):
                stream = self._streams[self._turn % len(self._streams)]
                lines = self._lines[stream]
                size = self._next_size[stream]
                if len(lines) < size and not final:
                    break  # this stream's next batch is not complete: the others wait their turn
                self._turn += 1
                if not lines:
                    continue
                batch, self._lines[stream] = lines[:size], lines[size:]
                batches.append((stream, self._next_id[stream], batch))
                self._next_id[stream] += len(batch)
                self._next_size[stream] = self._sizes[stream].randint(1, self._most)
        return batches

    def empty(self) -> bool:
        with self._lock:
            return not any(self._lines.values()) and not self._waiting


class Throttle:
    """A stretch of refusals: from when `start()` is called (or `after` has ended), for
    `seconds` of wall time."""

    def __init__(self, seconds: float, after: Throttle | None = None) -> None:
        self.seconds, self.after = seconds, after
        self.started = threading.Event()
        self._from: float | None = None

    def start(self) -> None:
        if not self.started.is_set():
            self._from = time.monotonic()
            self.started.set()

    def active(self) -> bool:
        if self.after is not None:
            begun = self.after.ended()
            return begun is not None and time.monotonic() < begun + self.seconds
        return self._from is not None and time.monotonic() < self._from + self.seconds

    def ended(self) -> float | None:
        if self._from is None or time.monotonic() < self._from + self.seconds:
            return None
        return self._from + self.seconds


def _make_stack(spec: Path, log_group: LogGroup, counts: Counts, plan: SoakPlan, request_index: dict[str, int]):
    from modelwatch_local.clock import MovableClock
    from modelwatch_local.stack import LocalStack

    class SoakStack(LocalStack):
        """The local stack with the predict function's capture lines left in its log group, for
        the subscription below to put on the delivery stream (the server calls this after each
        invocation), and S3's notifications delivered at least once, held while throttled."""

        # The stream refuses Logs' puts for a while, then Lambda throttles the capture function.
        throttle = Throttle(plan.throttled_seconds)
        capture_throttle = Throttle(plan.throttled_seconds, after=throttle)
        deferred: ClassVar[deque[str]] = deque()  # one stack per soak
        _deferred_lock = threading.Lock()

        def deliver_capture(self, function: str, lines: list[str]) -> None:
            from modelwatch.serving.capture import MARKER

            captured = [line for line in lines if MARKER in line]
            if captured:
                records = json.loads(captured[0])["records"]
                log_group.put(request_index[_request_key([records[0]["features"]])], captured)

        def _notify_capture(self, key: str) -> None:
            if self.capture_throttle.active():  # Lambda keeps the event in its asynchronous queue
                with self._deferred_lock:
                    self.deferred.append(key)
                    counts.deferred_notifications += 1
                return
            repeats = 2 if _share(plan.seed + 3, key) < plan.renotified_share else 1
            with self._deferred_lock:  # notifications come from concurrent request threads
                counts.notifications += repeats
                counts.renotified += repeats - 1
            for _ in range(repeats):
                super()._notify_capture(key)

        def release_deferred(self) -> None:
            """Lambda's asynchronous queue hands the held notifications on once it may invoke."""
            if self.capture_throttle.active():
                return
            while True:
                with self._deferred_lock:
                    if not self.deferred:
                        return
                    key = self.deferred.popleft()
                self._notify_capture(key)

        def invoke(self, function: str, event: Any):
            try:
                return super().invoke(function, event)
            except Exception:
                if function == "capture":
                    with self._deferred_lock:
                        counts.capture_errors += 1
                raise

        def invoke_async(self, function: str, event: Any, dead_letters: str | None = None):
            outcome = super().invoke_async(function, event, dead_letters)
            if outcome is None and function == "capture":
                with self._deferred_lock:
                    counts.dead_lettered_notifications += 1
            return outcome

    # A fixed start: the stream's object names (and the keys filed from them, which decide the
    # faults) carry the clock's time, so the same traffic in the same order gives the same keys.
    return SoakStack(spec, clock=MovableClock(SOAK_START))


class FailingWrites:
    """S3 refusing a tenth of the writes under capture/ and deliveries/: a key chosen to fail
    answers an error for a run of consecutive attempts (its length from the key too), then
    accepts it. A short run is throttling (SlowDown), a long one an outage (InternalError)."""

    def __init__(self, share: float, seed: int) -> None:
        self.share, self.seed = share, seed
        self._remaining: dict[str, int] = {}
        self.failing_keys = 0
        self._lock = threading.Lock()

    def decide(self, request: Any):
        from modelwatch_local.faults import INTERNAL_ERROR, SLOW_DOWN

        key = request.url.split("?")[0]
        if "/capture/" not in key and "/deliveries/" not in key:
            return None
        with self._lock:
            if key not in self._remaining:
                failing = _share(self.seed, key) < self.share
                run = FAILURE_RUNS[int(_share(self.seed + 1, key) * len(FAILURE_RUNS))]
                self._remaining[key] = run if failing else 0
                self.failing_keys += failing
            if self._remaining[key] == 0:
                return None
            self._remaining[key] -= 1
            return INTERNAL_ERROR if self._remaining[key] > 1 else SLOW_DOWN


class Subscription:
    """The subscription filter: the log group's lines put on the delivery stream in Logs batches;
    while the stream refuses them, Logs keeps them and puts them again later."""

    def __init__(self, stack: Any, log_group: LogGroup, plan: SoakPlan, counts: Counts, seconds_per_line: float):
        self.stack, self.log_group, self.plan, self.counts = stack, log_group, plan, counts
        self.seconds_per_line = seconds_per_line  # simulated time each line's arrival moves the clock
        self.pending: deque[bytes] = deque()

    def run(self, api_done: threading.Event) -> None:
        from modelwatch_local.subscription import subscription_batch

        while True:
            for stream, first_id, lines in self.log_group.take(final=api_done.is_set()):
                self.pending.append(subscription_batch(LOG_GROUP, stream, lines, first_id, self.stack.clock()))
            if not self.pending:
                if api_done.is_set() and self.log_group.empty():
                    return
                time.sleep(0.01)
                continue
            if self.stack.throttle.active():  # ServiceUnavailable: Logs retries the batch later
                self.counts.refused_batches += 1
                time.sleep(0.05)
                continue
            self.stack.release_deferred()  # Lambda's asynchronous queue drains once it may invoke
            batch = self.pending.popleft()
            # The simulated hours pass with the lines the stream takes: its buffer interval elapses
            # dozens of times over the run, each time an object and a capture invocation.
            self.stack.clock.advance(self.seconds_per_line * batch_lines(batch))
            self.stack.delivery_stream.put_batch(batch)
            self.counts.log_batches += 1


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


def batch_lines(batch: bytes) -> int:
    """Log events in a gzipped Logs batch."""
    from modelwatch.serving.delivery_stream import batch_messages

    return len(batch_messages(batch))


def _dead_lettered(stack: Any) -> set[str]:
    """Request ids in the delivered objects whose notifications wait in the capture function's
    dead-letter queue (read without taking them: the redrive takes them next)."""
    sqs = stack.platform.client("sqs")
    queue_url = stack.dead_letter_queues["capture"]
    bucket = stack.platform.settings.data_bucket
    found: set[str] = set()
    seen: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600).get(
            "Messages", []
        )
        if not messages:
            break
        seen += messages
        for message in messages:
            for record in json.loads(message["Body"])["Records"]:
                key = unquote_plus(record["s3"]["object"]["key"])
                body = stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                found.update(_request_ids(body.decode().splitlines()))
    for message in seen:  # visible again for the redrive
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return found


def _drain(stack: Any, subscription: Subscription) -> None:
    """Until the stream holds nothing and no notification waits: the stream retries what S3
    refused at each interval, and Lambda's queue delivers what it held while throttled."""
    while stack.delivery_stream.buffered_lines or stack.deferred:
        stack.release_deferred()
        stack.flush_deliveries()
    assert not subscription.pending


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
        f"S3 refuses {plan.failing_write_share:.0%} of capture and delivery writes, notifies the capture "
        f"function twice of {plan.renotified_share:.0%} of objects; the stream and the capture function "
        "throttled for a while"
    )
    counts, ledger, lock = Counts(), Ledger(), threading.Lock()
    log_group = LogGroup(plan.clients, plan.seed + 1, plan.max_lines_per_delivery)
    request_index = {_request_key(records): index for index, records in enumerate(list(batches.queue))}
    stack = _make_stack(ROOT / "monitoring.toml", log_group, counts, plan, request_index)
    try:
        say("publishing the demo model ...")
        stack.publish_demo_model("soak-1")
        writes = FailingWrites(plan.failing_write_share, plan.seed + 2)
        faults = InjectedFaults(stack.s3, "PutObject", writes.decide)
        subscription = Subscription(stack, log_group, plan, counts, SIMULATED_HOURS * 3600 / requests)
        server = api_server(stack, lambda line: None)
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
            if sent >= plan.records * plan.throttle_from_share and not stack.throttle.started.is_set():
                stack.throttle.start()
                say(f"  the stream and the capture function throttled from {sent:,} records sent")
            if sent >= reported + plan.records // 10:
                reported = sent
                say(
                    f"  {time.perf_counter() - started:6.1f} s  sent {sent:,}  log batches {counts.log_batches}  "
                    f"objects {stack.delivery_stream.counts.objects}  waiting {len(subscription.pending)}"
                )
        stack.throttle.start()  # a short run may end before the threshold
        api_done.set()
        say(f"  API done after {time.perf_counter() - started:.1f} s; delivering what the log group holds ...")
        delivering.join()
        server.shutdown()
        server.server_close()
        while stack.throttle.active() or stack.capture_throttle.active():
            time.sleep(0.05)
        _drain(stack, subscription)

        sent_ids = set(ledger.sent)
        before = _captured(stack)
        dead = _dead_lettered(stack) - set(before)
        faults.remove()  # S3 answers again: redrive-captures
        redrive = stack.redrive_captures()
        captured = _captured(stack)
        redriven = set(captured) - set(before)
        lost = sent_ids - set(captured)
        duplicated = sum(n - 1 for n in captured.values() if n > 1)
        phantom = set(captured) - sent_ids
        say(
            f"requests: {counts.requests} ({sum(counts.refused.values())} refused: {dict(counts.refused)}; "
            f"{counts.unanswered} records never answered)"
        )
        stream = stack.delivery_stream.counts
        say(
            f"log batches: {counts.log_batches} ({counts.refused_batches} refused while throttled); "
            f"delivered objects: {stream.objects} ({stream.write_retries} writes retried by the stream)"
        )
        say(
            f"notifications: {counts.notifications} ({counts.renotified} repeated, {counts.deferred_notifications} "
            f"held while throttled), {counts.capture_errors} capture invocations failed, "
            f"{counts.dead_lettered_notifications} dead-lettered"
        )
        say(f"S3: {writes.failing_keys} keys refused, faults injected {faults.injected}")
        say(f"redrive-captures: {redrive.notifications} notifications redriven, failed: {redrive.failed}")
        if phantom:
            say(f"captured but never sent: {len(phantom)}")
        say(f"elapsed {time.perf_counter() - started:.1f} s")
        say(
            f"sent {len(sent_ids)}, captured {len(captured)}, dead-lettered {len(dead)}, redriven {len(redriven)}, "
            f"lost {len(lost)}, duplicated {duplicated}"
        )
        return 1 if lost or duplicated or phantom or redrive.failed else 0
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
