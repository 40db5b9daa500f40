"""What a run on the local stack used, counted the way AWS bills it: invocations per function,
bytes each function logged, S3 requests by function and kind, and the distinct metric series
(name x dimensions) CloudWatch would have made from the EMF lines.

The cost model (`modelwatch.cost`) predicts the same counts from the catalogues; a test runs a
shortened day here and holds the two together. Only the functions' own calls are counted: the
local runtime's bookkeeping (listing the keys a delivery created, reading reports back) is not
something AWS would bill the functions for.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from modelwatch.catalog.functions import FUNCTIONS
from modelwatch.catalog.metrics import metric_named
from modelwatch_local import stack as stack_module
from modelwatch_local.stack import LocalStack


@dataclass
class Usage:
    invocations: Counter[str] = field(default_factory=Counter)
    log_bytes: Counter[str] = field(default_factory=Counter)  # stdout, one newline per line
    seconds: Counter[str] = field(default_factory=Counter)  # wall time in the handler, here
    s3_requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (function, operation)

    def log_bytes_per_invocation(self, function: str) -> float:
        return self.log_bytes[function] / self.invocations[function] if self.invocations[function] else 0.0

    def s3_by_operation(self, function: str) -> Counter[str]:
        return Counter({op: n for (fn, op), n in self.s3_requests.items() if fn == function})


# The function whose invocation is running in this context (each invocation's thread).
_invoking: contextvars.ContextVar[str | None] = contextvars.ContextVar("metered_function", default=None)


@contextmanager
def metered(stack: LocalStack) -> Iterator[Usage]:
    """Count what the functions invoked through `stack` use until the block ends (invocations may
    run concurrently)."""
    usage = Usage()
    lock = threading.Lock()
    running: list[str] = []  # the functions being invoked, in the order they started
    original = stack_module.invoke

    def count_s3(model: Any, **_: Any) -> None:
        # A call from a thread the function started itself (the served model's background
        # refresh) is counted to the latest invocation still running.
        with lock:
            function = _invoking.get() or (running[-1] if running else None)
            if function is not None:
                usage.s3_requests[(function, model.name)] += 1

    def invoke(function: str, event: Any) -> Any:
        token = _invoking.set(function)
        with lock:
            running.append(function)
        started = time.perf_counter()
        try:
            invocation = original(function, event)
        finally:
            with lock:
                usage.seconds[function] += time.perf_counter() - started
                running.remove(function)
            _invoking.reset(token)
        # The runtime keeps everything the function wrote to stdout, Powertools Logger's lines
        # included: what CloudWatch Logs would ingest and bill.
        logged = sum(len(line.encode()) + 1 for line in invocation.stdout)
        with lock:
            usage.invocations[function] += 1
            usage.log_bytes[function] += logged
        return invocation

    events = stack.s3.meta.events
    events.register("before-call.s3", count_s3, unique_id="modelwatch-usage-meter")
    stack_module.invoke = invoke
    try:
        yield usage
    finally:
        stack_module.invoke = original
        events.unregister("before-call.s3", unique_id="modelwatch-usage-meter")


def metric_series(stack: LocalStack) -> set[tuple[str, frozenset[tuple[str, str]]]]:
    """Distinct (metric name, dimensions) the functions put in the stack's CloudWatch. The local
    runtime also puts API Gateway's 5xx rate, which in AWS is metric math over the API's own
    (free) metrics: only metrics a function (or Powertools inside it) emits are billed."""

    namespace = stack.platform.spec.metrics.namespace
    found = set()
    for space, name, dimensions in stack.metrics.series():
        if space != namespace:
            continue  # AWS's own metrics (API Gateway's Count and 5xx): free
        if any(emitter in FUNCTIONS for emitter in metric_named(name).emitted_by):
            found.add((name, dimensions))
    return found
