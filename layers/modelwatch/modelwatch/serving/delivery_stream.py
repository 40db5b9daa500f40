"""What the delivery stream (Kinesis Data Firehose, fed by the API log groups' subscription
filters) writes to S3, read back.

A delivered object holds the log events' messages, one per line: Firehose decompresses each
CloudWatch Logs batch and extracts its messages ("CloudWatch Logs decompression" with "message
extraction"), dropping the CONTROL_MESSAGE Logs sends when a subscription is created. What
Firehose cannot process lands under the errors prefix as JSON lines, one per failed record, each
carrying the record as Logs sent it (`rawData`: the base64 of a gzipped Logs batch) with Firehose's
error code and message; `modelwatch redrive-captures` turns those records back into lines.

Nothing here talks to AWS: the capture function, the redrive command and the local runtime's
Firehose all read and write these formats through it.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DATA_MESSAGE = "DATA_MESSAGE"


@dataclass
class RecoveredLines:
    """The lines an errors object's records held, and the records that held none readable."""

    lines: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # why, per record


def delivered_lines(body: bytes) -> list[str]:
    """The messages of a delivered object, in the order Firehose wrote them."""
    return [line for line in body.decode("utf-8").splitlines() if line.strip()]


def delivered_object(lines: Iterable[str]) -> bytes:
    """An object as Firehose writes it from extracted messages: one message per line."""
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def logs_batch(log_group: str, log_stream: str, events: list[tuple[str, int, str]]) -> bytes:
    """A CloudWatch Logs subscription batch as Logs sends it to Firehose: gzipped JSON.
    `events` are (event id, timestamp in ms, message)."""
    payload = {
        "messageType": DATA_MESSAGE,
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["modelwatch-capture"],
        "logEvents": [{"id": i, "timestamp": t, "message": m} for i, t, m in events],
    }
    return gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), mtime=0)


def batch_messages(record: bytes) -> list[str]:
    """The messages of one Logs batch (gzipped JSON); none for a CONTROL_MESSAGE. Raises
    ValueError when the record is not a Logs batch."""
    try:
        document = json.loads(gzip.decompress(record))
    except (OSError, EOFError, zlib.error, ValueError) as error:
        raise ValueError(f"not a gzipped CloudWatch Logs batch ({error})") from error
    if not isinstance(document, dict) or "logEvents" not in document:
        raise ValueError("not a CloudWatch Logs batch (no logEvents)")
    if document.get("messageType") != DATA_MESSAGE:
        return []
    return [str(event.get("message", "")) for event in document["logEvents"]]


def error_record(raw: bytes, error_code: str, error_message: str, arrival_ms: int) -> dict[str, Any]:
    """One line of an errors object, with the fields Firehose writes for a failed record."""
    return {
        "attemptsMade": 1,
        "arrivalTimestamp": arrival_ms,
        "errorCode": error_code,
        "errorMessage": error_message,
        "attemptEndingTimestamp": arrival_ms,
        "rawData": base64.b64encode(raw).decode("ascii"),
    }


def recovered_lines(body: bytes) -> RecoveredLines:
    """The log lines an errors object's records carry (each record's Logs batch, decoded)."""
    recovered = RecoveredLines()
    for number, text in enumerate(body.decode("utf-8", errors="replace").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            raw = base64.b64decode(record["rawData"], validate=True)
            recovered.lines.extend(batch_messages(raw))
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            recovered.unreadable.append(f"record {number}: {error}")
    return recovered


def delivery_batch_id(key: str) -> str:
    """The batch id of everything filed from one delivered object: from its key, so a repeated
    notification (or a retried invocation) rewrites the same capture objects, never adds copies."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]
