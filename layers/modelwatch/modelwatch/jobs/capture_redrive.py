"""`modelwatch redrive-captures`: deliver again what the capture path could not.

Two places hold it: the capture function's dead-letter queue (S3 notifications of delivered
objects whose filing failed after Lambda's retries: each event is handed to the function again,
and deleted once it succeeds), and deliveries-errors/ (log batches the delivery stream could not
process: their lines are written back under deliveries/, where S3 notifies the capture function
as for any delivered object, and the errors object is deleted once that write succeeded).

Both are idempotent: a redriven notification names the same delivered object, so its records
are filed under the same keys; a redriven errors object becomes deliveries/dt=<its hour>/redriven-
<hash of its key>, the same object however often it is redriven. An errors record whose batch
cannot be decoded stays where it is, reported, for someone to look at.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelwatch.alerts.redrive import redrive
from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.serving.delivery_stream import delivered_object, recovered_lines

Deliver = Callable[[str, bytes], None]  # write a delivered object (its notification follows)
Invoke = Callable[[dict[str, Any]], None]  # the capture function, synchronously; raises when it fails


@dataclass
class CaptureRedrive:
    notifications: int = 0  # dead-lettered notifications the capture function took this time
    error_objects: int = 0  # errors objects delivered again
    lines: int = 0  # their lines
    unreadable: dict[str, list[str]] = field(default_factory=dict)  # errors key -> records kept, why
    failed: str | None = None  # why the dead letters stopped (the rest still wait)

    @property
    def redriven(self) -> int:
        return self.notifications + self.error_objects


def redriven_key(error_key: str) -> str:
    """Where an errors object's lines are delivered again: under the hour it failed in."""
    hour = layout.delivery_error_hour(error_key)
    return layout.delivery_key(hour, f"redriven-{hashlib.sha256(error_key.encode()).hexdigest()[:32]}")


def redrive_captures(
    sqs: Any, dead_letter_queue: str, data: DataBucket, invoke: Invoke, deliver: Deliver
) -> CaptureRedrive:
    outcome = CaptureRedrive()
    dead = redrive(sqs, dead_letter_queue, invoke, event_of=json.loads)
    outcome.notifications, outcome.failed = dead.redriven, dead.failed
    for key in [entry["Key"] for entry in data.list(layout.DELIVERY_ERRORS.prefix)]:
        recovered = recovered_lines(data.read(key))
        if recovered.unreadable:
            outcome.unreadable[key] = recovered.unreadable
            continue  # kept whole: nothing in it is dropped because part of it is unreadable
        if recovered.lines:
            deliver(redriven_key(key), delivered_object(recovered.lines))
            outcome.lines += len(recovered.lines)
        data.delete(key)
        outcome.error_objects += 1
    return outcome
