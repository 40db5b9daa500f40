"""The capture function: each delivered object's lines to capture objects by version and hour,
idempotent, failures reported."""

from __future__ import annotations

import contextlib
import io
import json
import logging

import pytest

from modelwatch.catalog import layout
from modelwatch.serving.capture import MAX_LINE_BYTES, log_lines
from modelwatch_local.lambda_runtime import LambdaContext, invoke, load_handler


def _record(i: int, version: str = "v9", hour: str = "2026-11-20T05") -> dict:
    return {
        "request_id": f"r{i}",
        "timestamp": f"{hour}:00:00.000+00:00",
        "model_version": version,
        "features": {"age": i},
        "prediction": "1",
        "probabilities": {"0": 0.1, "1": 0.9},
        "confidence": 0.9,
    }


def test_a_batch_is_split_by_version_and_hour_and_rewritten_identically(stack):
    records = [_record(1), _record(2, version="v10"), _record(3, hour="2026-11-20T06")]
    lines = list(log_lines("capture", records))
    event = stack.delivery_event(lines, "modelwatch-capture-1-2026-11-20-05-00-00-a")
    first = invoke("capture", event).result
    before = stack.objects("capture/model_version=v")
    again = invoke("capture", event).result  # a repeated notification (or a retried invocation)
    after = stack.objects("capture/model_version=v")
    assert first == again == {"objects": 3, "records": 3, "profiled": 3}
    assert before == after
    keys = [k for k in after if "2026-11-20" in k]
    assert sorted(k.split("/")[1] + "/" + k.split("/")[2] for k in keys) == [
        "model_version=v10/dt=2026-11-20-05",
        "model_version=v9/dt=2026-11-20-05",
        "model_version=v9/dt=2026-11-20-06",
    ]
    # Profiled in the same invocation: each capture object's partial profile and join index.
    for key in keys:
        for area in (layout.PROFILES, layout.JOINS):
            assert layout.derived_key(key, area) in stack.objects(area.prefix, bodies=False), (key, area.name)


def test_large_batches_are_split_under_the_log_event_limit():
    records = [_record(i) | {"features": {"text": "x" * 10_000}} for i in range(60)]
    lines = list(log_lines("capture", records))
    assert len(lines) > 1
    assert all(len(line.encode()) < 256 * 1024 for line in lines)
    assert sum(len(json.loads(line)["records"]) for line in lines) == 60
    assert max(len(line) for line in lines) <= MAX_LINE_BYTES + 11_000


def test_unreadable_capture_lines_are_counted_and_logged(stack, capsys):
    event = stack.delivery_event(['{"modelwatch_capture":1,"kind":"capture","records":[{'], "unreadable")
    invocation = invoke("capture", event)
    assert invocation.result == {"objects": 0, "records": 0, "profiled": 0}
    assert any('"CaptureFailed"' in line for line in invocation.stdout)


def test_a_storage_failure_is_counted_logged_and_raised_for_retry(stack, monkeypatch):
    lines = list(log_lines("capture", [_record(5)]))
    event = stack.delivery_event(lines, "storage-failure")

    def broken(**kwargs):
        raise RuntimeError("S3 is down")

    monkeypatch.setattr(stack.s3, "put_object", broken)
    handler = load_handler("capture")
    printed = io.StringIO()
    # Powertools' Logger writes to the stream it found at import: point it here too.
    service = logging.getLogger(stack.platform.spec.metrics.service)
    streams = [h for h in service.handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(printed) for h in streams]
    try:
        with contextlib.redirect_stdout(printed), pytest.raises(RuntimeError, match="S3 is down"):
            handler(event, LambdaContext("modelwatch-capture"))
    finally:
        for stream_handler, stream in zip(streams, previous, strict=True):
            stream_handler.setStream(stream)
    lines = [json.loads(line) for line in printed.getvalue().splitlines() if line.startswith("{")]
    # Counted: the invocation's EMF document holds CaptureFailed, flushed although it raised.
    counted = [d["CaptureFailed"] for d in lines if "_aws" in d and "CaptureFailed" in d]
    assert [sum(v if isinstance(v, list) else [v]) for v in counted] == [1], lines  # the one record
    # Logged: an error line naming what failed, for the on-call who reads the function's logs.
    assert any(d.get("level") == "ERROR" and "S3 is down" in json.dumps(d) for d in lines), lines


def test_only_well_formed_capture_records_are_stored(stack):
    """A line with the capture marker but records the API functions never write (a forged line,
    a wrong type) is reported and counted; the well-formed records of the batch are stored."""
    forged = [
        {"request_id": "x", "model_version": "v9", "features": {"age": 1}, "prediction": "1"},  # no timestamp
        _record(8) | {"features": "age=1"},  # features not an object
        _record(9) | {"timestamp": "2026-11-20T05:00:00"},  # no time zone
        "not a record",
    ]
    lines = list(log_lines("capture", [_record(7), *forged]))
    event = stack.delivery_event(lines, "forged")
    invocation = invoke("capture", event)
    assert invocation.result == {"objects": 1, "records": 1, "profiled": 1}
    failed = [json.loads(line) for line in invocation.stdout if '"CaptureFailed"' in line]
    assert len(failed) == 1 and failed[0]["CaptureFailed"] in (4.0, [4.0])


def test_a_body_of_control_bytes_is_quarantined_within_the_log_event_limit(stack):
    """64 KiB of control bytes became one 393,546-byte quarantine line, over CloudWatch Logs'
    256 KB event limit: lost and uncounted. Cut by encoded size, it fits, with its length and hash."""
    import hashlib

    body = bytes(range(1, 32)) * (65_536 // 31)
    result = stack.call("predict", "POST", "/predict", body)
    assert result.status == 400
    (line,) = [line for line in result.stdout if '"modelwatch_capture"' in line]
    assert len(line.encode()) <= MAX_LINE_BYTES < 256 * 1024
    (record,) = json.loads(line)["records"]
    assert record["body_truncated"] is True and record["body_bytes"] == len(body)
    assert record["body_sha256"] == hashlib.sha256(body).hexdigest()
