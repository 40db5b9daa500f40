"""Redriving a function's dead letters once what failed answers again: each message left in its
dead-letter queue is handed to the function again, and deleted only when that succeeds. The
notifier's (an SNS event Lambda gave up on, or an SNS notification the subscription could not
deliver) once Slack answers; the capture function's (S3 notifications) once S3 accepts writes.
Stops at the first failure, so nothing is lost or reordered while the cause persists."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class RedriveOutcome:
    redriven: int = 0
    failed: str | None = None  # why it stopped early (the message stays in the queue)


def notifier_event(body: str) -> dict[str, Any]:
    """The notifier's SNS event from a dead letter: Lambda's DLQ keeps the event itself; an SNS
    subscription's DLQ keeps the notification, which becomes the event's one record."""
    document = json.loads(body)
    if "Records" in document:
        return document
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": document}]}


def redrive(
    sqs: Any,
    queue_url: str,
    invoke: Callable[[dict[str, Any]], None],
    limit: int = 1000,
    event_of: Callable[[str], dict[str, Any]] = notifier_event,
) -> RedriveOutcome:
    """Each dead letter's event (`event_of` its body) handed to `invoke`, deleted once it succeeds."""
    outcome = RedriveOutcome()
    while outcome.redriven < limit:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return outcome
        for position, message in enumerate(messages):
            try:
                invoke(event_of(message["Body"]))
            except Exception as error:  # the notifier failed again: leave it (and the rest) queued
                outcome.failed = f"{type(error).__name__}: {error}"
                for waiting in messages[position:]:  # visible again now, not after the timeout
                    sqs.change_message_visibility(
                        QueueUrl=queue_url, ReceiptHandle=waiting["ReceiptHandle"], VisibilityTimeout=0
                    )
                return outcome
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            outcome.redriven += 1
    return outcome
