"""Capture records: every accepted prediction, every rejected request with its reasons, and every
piece of feedback (label and outcomes).

The API functions write them as structured log lines (no S3 call in the request path); their log
groups' subscription filters put those lines on the capture delivery stream (Firehose), whose
buffered objects the capture function files as JSON-lines objects partitioned by model version
and hour (feedback by its prediction's hour), so labels land in batches like predictions, not one
object each. Lines stay under CloudWatch Logs'
256 KB event limit by splitting large batches.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from modelwatch.catalog import layout
from modelwatch.catalog.capture_line import ATTRIBUTES_KEY, MAX_LINE_BYTES
from modelwatch.serving.request_ids import request_time

MARKER = "modelwatch_capture"
CAPTURE, QUARANTINE, LABEL = "capture", "quarantine", "label"
KINDS = (CAPTURE, QUARANTINE, LABEL)
MAX_QUARANTINED_BODY = 65_536  # bytes of the body as encoded in the line
# The field errors kept per rejected request, by their encoded size (all are counted): a field
# path repeats what the sender wrote (an unknown key of any length), so a count bounds nothing.
MAX_QUARANTINED_ERRORS_BYTES = 65_536
MAX_ERROR_TEXT_BYTES = 1024  # a field path or message, as encoded, beyond which it is cut


def capture_record(
    request_id: str,
    timestamp: datetime,
    model_version: str,
    features: dict[str, Any],
    prediction: str | float,
    probabilities: dict[str, float] | None = None,
    attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the drift check needs of one prediction, per task: a classifier's class and every
    class's probability (the profiler builds the score columns from them); a regression's value
    (the capture function adds DLE's expected losses when it profiles the object). `attributes`:
    the request attributes sent with it (the spec's [attributes], bounded by their max_length, so
    the record stays within a capture line), kept apart from the features the model read."""
    record = {
        "request_id": request_id,
        "timestamp": timestamp.isoformat(timespec="milliseconds"),
        "model_version": model_version,
        "features": features,
        "prediction": prediction,
    }
    if probabilities is not None:
        record["probabilities"] = probabilities
        record["confidence"] = max(probabilities.values())
    if attributes:
        record[ATTRIBUTES_KEY] = attributes
    return record


def label_record(
    request_id: str, label: str | float | None, outcomes: dict[str, Any], received: datetime
) -> dict[str, Any]:
    """One piece of feedback as sent: a label, outcomes or both; modelwatch.feedback merges the
    pieces of a request id (the latest label stands, by `received_at`)."""
    return {
        "request_id": request_id,
        "label": label,
        "outcomes": outcomes,
        "received_at": received.isoformat(timespec="milliseconds"),
    }


def label_hour(record: dict[str, Any]) -> datetime | None:
    """Feedback is filed under its prediction's hour (from the request id), so an hour's labels
    join its captures; an id ModelWatch did not issue, under the hour it arrived."""
    issued = request_time(str(record["request_id"]))
    if issued is not None:
        return issued
    return _aware(record["received_at"])


def quarantine_record(
    timestamp: datetime,
    route: str,
    status: int,
    errors: list[dict[str, str]],
    body: bytes,
    withhold_body: bool = False,
) -> dict[str, Any]:
    """A rejected request, kept within the line budget whatever the body holds: the body's text
    is cut by its *encoded* size (control bytes and non-ASCII grow up to six times in JSON), and
    its length and SHA-256 are kept, so a truncated body can still be matched to its sender's.

    `withhold_body`: the spec has sensitive features, and a body that failed validation can hold
    their values anywhere (no field can be trusted to be where the schema says): its text and
    hash are not kept (a bare hash of a short body is reversed by guessing), only its length and
    the field errors, which name fields and rules, never values."""
    if withhold_body:
        text, truncated, digest = "", False, None
    else:
        text, truncated = _within_encoded(body.decode("utf-8", errors="replace"), MAX_QUARANTINED_BODY)
        digest = hashlib.sha256(body).hexdigest()
    record = {
        "timestamp": timestamp.isoformat(timespec="milliseconds"),
        "route": route,
        "status": status,
        "errors": _errors_within(errors, MAX_QUARANTINED_ERRORS_BYTES),
        "errors_total": len(errors),
        "body": text,
        "body_truncated": truncated,
        "body_bytes": len(body),
        "model_version": "none",
    }
    if withhold_body:
        record["body_withheld"] = "sensitive features"
    else:
        record["body_sha256"] = digest
    return record


def _errors_within(errors: list[dict[str, str]], budget: int) -> list[dict[str, str]]:
    """The first errors whose encoded size fits `budget` bytes, each text cut to
    MAX_ERROR_TEXT_BYTES: the quarantine line stays within its budget whatever the errors say."""
    kept, size = [], 0
    for error in errors:
        cut = {key: _within_encoded(str(value), MAX_ERROR_TEXT_BYTES)[0] for key, value in error.items()}
        size += len(_encoded_record(cut)) + 1
        if size > budget:
            break
        kept.append(cut)
    return kept


def _within_encoded(text: str, budget: int) -> tuple[str, bool]:
    """The longest prefix of `text` whose JSON encoding fits `budget` bytes, and whether it was cut."""
    if len(_encoded(text)) <= budget:
        return text, False
    low, high = 0, min(len(text), budget)  # every character encodes to at least one byte
    while low < high:
        middle = (low + high + 1) // 2
        if len(_encoded(text[:middle])) <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low], True


def _encoded(text: str) -> str:
    return json.dumps(text)


def log_lines(kind: str, records: Sequence[dict[str, Any]]) -> Iterable[str]:
    """One or more JSON lines holding `records`, each under MAX_LINE_BYTES."""
    batch: list[bytes] = []
    size = 0
    for record in records:
        encoded = _encoded_record(record)
        if batch and size + len(encoded) > MAX_LINE_BYTES:
            yield _envelope(kind, batch)
            batch, size = [], 0
        batch.append(encoded)
        size += len(encoded) + 1
    if batch:
        yield _envelope(kind, batch)


def _encoded_record(record: dict[str, Any]) -> bytes:
    """A record as UTF-8 JSON, measured in bytes as CloudWatch Logs counts them. orjson: a
    request's capture line is encoded on the request path, about ten times faster than the json
    module; a model's NaN or infinite output is null. Text orjson refuses (a lone surrogate,
    which JSON can only escape) goes through the json module, escaped."""
    try:
        return orjson.dumps(record, default=str)
    except orjson.JSONEncodeError:
        return json.dumps(_finite(record), separators=(",", ":"), default=str, allow_nan=False).encode()


def _finite(value: Any) -> Any:
    """`value` with NaN and infinities as None, as orjson writes them (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _envelope(kind: str, encoded_records: list[bytes]) -> str:
    records = b",".join(encoded_records).decode()
    return f'{{"{MARKER}":1,"kind":"{kind}","records":[{records}]}}'


def parse_line(message: str) -> tuple[str, list[dict[str, Any]]] | None:
    """(kind, records) of a capture line, or None for any other log line."""
    if MARKER not in message:
        return None
    try:
        document = json.loads(message)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get(MARKER) != 1:
        return None
    return str(document.get("kind")), list(document.get("records") or [])


def storage_groups(
    lines: Iterable[tuple[str, str]],
) -> tuple[dict[tuple[str, str, str], list[dict[str, Any]]], list[str]]:
    """Group capture records for storage by (kind, model version, hour of the record).

    `lines` are (log event id, message). Returns the groups and the capture lines that could not
    be read (they are reported, never dropped silently).
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    unreadable: list[str] = []
    for _, message in lines:
        if MARKER not in message:
            continue
        parsed = parse_line(message)
        if parsed is None or parsed[0] not in KINDS:
            unreadable.append(message)
            continue
        kind, records = parsed
        for record in records:
            moment = _well_formed(kind, record)
            if moment is None:  # not a record the API functions write: reported, never stored
                unreadable.append(json.dumps(record, default=str)[:MAX_LINE_BYTES])
                continue
            version = str(record.get("model_version", "none"))
            groups.setdefault((kind, version, layout.hour_of(moment)), []).append(record)
    return groups, unreadable


_REQUIRED = {
    CAPTURE: {"request_id": str, "timestamp": str, "model_version": str, "features": dict},
    QUARANTINE: {"timestamp": str, "route": str, "status": int, "errors": list, "body": str},
    LABEL: {"request_id": str, "received_at": str, "outcomes": dict},
}


def _well_formed(kind: str, record: object) -> datetime | None:
    """The record's time when it has every field of its kind with the right type, else None."""
    if not isinstance(record, dict):
        return None
    for name, kind_of_value in _REQUIRED[kind].items():
        if not isinstance(record.get(name), kind_of_value) or isinstance(record.get(name), bool):
            return None
    if kind == CAPTURE and "prediction" not in record:
        return None
    if kind == LABEL:
        return label_hour(record)
    return _aware(record["timestamp"])


def _aware(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def object_key(kind: str, model_version: str, hour: str, batch_id: str) -> str:
    """Captures by model version and hour; quarantined requests and feedback by hour only."""
    if kind == QUARANTINE:
        return layout.quarantine_key(hour, batch_id)
    if kind == LABEL:
        return layout.label_batch_key(hour, batch_id)
    return layout.capture_key(model_version, hour, batch_id)


def jsonl(records: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, separators=(",", ":"), default=str) + "\n" for r in records).encode()
