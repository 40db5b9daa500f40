"""Same input, same output: every path that writes a drift.json writes the same bytes five times.

The inputs are past the sketches' exact range (10,000 rows and more per profile, continuous
columns with tens of thousands of distinct values) and windows are merged from several
profiles. Each run recomputes from scratch: nothing is answered from a cached drift.json,
rollup, join or partial profile.

- the command line: `modelwatch drift` (five fresh processes) on a reference and a window;
- backfill: the Distributed Map hands the capture objects to the capture function, which
  profiles each one (the partial profiles must be the same bytes every time);
- the drift function: the scheduled check over the hours those profiles cover.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from modelwatch.catalog import layout
from modelwatch.demo.data import FEATURES, demo_frame
from modelwatch.jobs.backfill_machine import backfill_definition
from modelwatch.serving.capture import capture_record
from modelwatch.serving.request_ids import RequestIdSigner
from modelwatch_local.clock import MovableClock
from modelwatch_local.distributed_map import run_distributed_map
from modelwatch_local.stack import LocalStack

# Request ids as a deployment signs them (any key: only their form matters here).
SIGNER = RequestIdSigner(b"a key for ids in this file only")

ROOT = Path(__file__).resolve().parents[2]
RUNS = 5
ROWS_PER_OBJECT = 10_000
START = datetime(2026, 10, 5, 0, 0, tzinfo=UTC)


def _without_timestamps(document: bytes) -> bytes:
    """The document's bytes with the moment it was written blanked (its only timestamp)."""
    return re.sub(rb'"generated_at": "[^"]*"', b'"generated_at": ""', document)


def _documents_agree(documents: list[bytes]) -> None:
    documents = [_without_timestamps(d) for d in documents]
    first = documents[0]
    for index, document in enumerate(documents[1:], start=2):
        assert document == first, f"run {index} differs from run 1"


def test_the_command_line_writes_the_same_drift_json_every_run(tmp_path):
    reference, current = tmp_path / "reference.csv", tmp_path / "current.csv"
    pacsv.write_csv(pa.table(demo_frame(30_000, 1)), reference)
    pacsv.write_csv(pa.table(demo_frame(20_000, 2, drift=0.15)), current)
    documents = []
    for run in range(RUNS):
        out = tmp_path / f"drift-{run}.json"
        command = [sys.executable, "-m", "modelwatch", "drift", "--spec", str(ROOT / "monitoring.toml")]
        command += ["--reference", str(reference), "--current", str(current), "--json", str(out)]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        assert finished.returncode in (0, 1), finished.stderr
        documents.append(out.read_bytes())
    _documents_agree(documents)
    document = json.loads(documents[0])
    assert document["estimated_performance"] is not None  # CBPE's estimate is part of it
    assert any(f["drifted"] is not None for f in document["features"])


def _capture_objects(stack: LocalStack, hours: int, objects_per_hour: int) -> list[str]:
    """Capture objects as the capture function writes them, 10,000 predictions each."""
    bucket, keys = stack.platform.settings.data_bucket, []
    for hour in range(hours):
        for part in range(objects_per_hour):
            frame = demo_frame(ROWS_PER_OBJECT, 100 + 10 * hour + part, drift=0.3 * hour)
            moment = START + timedelta(hours=hour, minutes=part)
            lines = []
            for i in range(ROWS_PER_OBJECT):
                positive = float(frame["confidence"][i] if frame["predicted_label"][i] else 1 - frame["confidence"][i])
                record = capture_record(
                    SIGNER.new_request_id(moment),
                    moment,
                    "v1",
                    {name: frame[name][i].item() for name in FEATURES},
                    str(frame["predicted_label"][i]),
                    {"0": round(1 - positive, 6), "1": round(positive, 6)},
                )
                lines.append(orjson.dumps(record))
            key = layout.capture_key("v1", layout.hour_of(moment), f"part-{part}")
            stack.s3.put_object(Bucket=bucket, Key=key, Body=b"\n".join(lines) + b"\n")
            keys.append(key)
    return keys


@pytest.fixture(scope="module")
def captured(tmp_path_factory, request):
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    request.addfinalizer(stack.stop)
    stack.publish_demo_model("v1", rows=12_000)
    keys = _capture_objects(stack, hours=2, objects_per_hour=2)
    return stack, keys


def _clear(stack: LocalStack, *areas: layout.Area) -> None:
    bucket = stack.platform.settings.data_bucket
    for area in areas:
        for key in stack.objects(area.prefix, bodies=False):
            stack.s3.delete_object(Bucket=bucket, Key=key)


def test_backfill_and_the_drift_function_write_the_same_bytes_every_run(captured):
    stack, keys = captured
    bucket = stack.platform.settings.data_bucket
    definition = backfill_definition(bucket, "arn:aws:lambda:us-east-1:123456789012:function:modelwatch-capture")
    end = START + timedelta(hours=2)
    profiles_per_run, reports_per_run = [], []
    for _ in range(RUNS):
        # From scratch: no partial profile, rollup, join or report of an earlier run is left.
        _clear(stack, layout.PROFILES, layout.PROFILES_HOURLY, layout.LABELS_JOINED, layout.REPORTS)
        run_distributed_map(definition, {"prefix": layout.CAPTURE.version_prefix("v1")}, stack.s3, "capture")
        profiles = stack.objects(layout.PROFILES.prefix)
        assert len(profiles) == len(keys)
        profiles_per_run.append(profiles)
        stack.run_drift(end)
        reports = {k: v for k, v in stack.objects(layout.REPORTS.prefix).items() if k.endswith("drift.json")}
        assert {json.loads(v)["current_rows"] for v in reports.values()} >= {2 * ROWS_PER_OBJECT, 4 * ROWS_PER_OBJECT}
        reports_per_run.append(reports)
    for index, (profiles, reports) in enumerate(zip(profiles_per_run, reports_per_run, strict=True)):
        assert profiles == profiles_per_run[0], f"backfill run {index + 1} profiled different bytes"
        assert reports == reports_per_run[0], f"drift run {index + 1} wrote a different drift.json"
    # Past the exact range: the continuous columns are digested in every partial profile.
    profile = json.loads(next(iter(profiles_per_run[0].values())))
    assert profile["columns"]["income"]["small_values"] is None
