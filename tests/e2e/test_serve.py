"""`modelwatch serve` as a person runs it: a URL, real HTTP on 127.0.0.1, a clean Ctrl-C; and
with --capture-dir, what it served kept on disk for `modelwatch drift`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from modelwatch.demo.data import demo_frame, demo_records
from tests.conftest import ROOT

SERVED = 300  # requests of one record each: a few hundred, as a short local session sends


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _start_serve(*options: str) -> tuple[subprocess.Popen, str]:
    """`modelwatch serve` on any free port, and its base URL once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "modelwatch", "serve", "--port", "0", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    first = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
    if not match:
        process.kill()
        raise AssertionError(first + process.stderr.read())
    return process, match.group(0)


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_serve_answers_on_loopback_and_stops_on_ctrl_c():
    process, base = _start_serve()
    try:
        good = {"features": {"age": 35, "income": 42000, "score": 700, "category": "a", "region": "north"}}
        status, body = _post(f"{base}/predict", json.dumps(good).encode())
        assert status == 200 and body["predictions"][0]["model_version"] == "demo-1"
        request_id = body["predictions"][0]["request_id"]
        status, body = _post(f"{base}/feedback", json.dumps({"request_id": request_id, "label": 1}).encode())
        assert status == 200 and body == {"accepted": 1}
        status, body = _post(f"{base}/predict", b"{}", content_type="text/plain")
        assert status == 415 and body["errors"][0]["field"] == "header.content-type"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    assert "POST /predict 200" in err


def test_serve_keeps_its_captures_for_drift_and_answers_health(tmp_path: Path):
    captures = tmp_path / "captures"
    process, base = _start_serve("--capture-dir", str(captures))
    try:
        status, body = _get(f"{base}/health")
        assert (status, body) == (200, {"status": "ok", "model_version": "demo-1"})
        records = demo_records(demo_frame(SERVED, seed=2), range(SERVED))

        def predict(features: dict) -> int:
            return _post(f"{base}/predict", json.dumps({"features": features}).encode())[0]

        # Concurrent clients, so more than one execution environment of the function serves.
        with ThreadPoolExecutor(4) as clients:
            statuses = list(clients.map(predict, records))
        assert statuses == [200] * SERVED
    finally:
        # SIGTERM, as a process manager stops it: nothing the delivery stream buffered is lost.
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "GET /health 200" in err
    # One request a line, whatever ran beside it (concurrent requests' lines once ran together).
    request_lines = [line for line in err.splitlines() if line.startswith(("GET ", "POST "))]
    assert all(re.fullmatch(r"(GET|POST) /\w+ \d{3} [\d.]+ ms", line) for line in request_lines), request_lines
    assert sum(line.startswith("POST /predict 200 ") for line in request_lines) == SERVED
    # The log is the server's lines only: no library's warnings (Powertools' among them).
    warned = [line for line in (out + err).splitlines() if "Warning" in line]
    assert warned == [], warned
    kept = sorted(captures.rglob("*.jsonl"))
    assert kept and all(p.relative_to(captures).parts[:2] == ("capture", "model_version=demo-1") for p in kept)
    assert f"stopped; {len(kept)} capture objects were written to {captures}" in out

    reference = tmp_path / "reference.csv"
    pacsv.write_csv(pa.table(demo_frame(2000, seed=1)), reference)  # as `modelwatch demo-data` writes it
    report = tmp_path / "out.json"
    inputs = ["--reference", str(reference), "--current", str(captures)]
    drift = subprocess.run(
        [sys.executable, "-m", "modelwatch", "drift", "--spec", "monitoring.toml", *inputs, "--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert drift.returncode in (0, 1), drift.stdout + drift.stderr
    result = json.loads(report.read_text())
    assert result["current_rows"] == SERVED
    # The prediction and the confidence came in under the spec's [columns] names: prediction
    # drift has every served record, and CBPE estimated the window's performance from the scores.
    assert result["prediction_drift"]["current_count"] == SERVED
    assert result["estimated_performance"]["accuracy"] > 0.5


def _kept_records(folder: Path) -> int:
    return sum(len(path.read_text().splitlines()) for path in folder.rglob("*.jsonl"))


def test_capture_dir_follows_the_delivery_streams_interval_while_serving(tmp_path: Path):
    spec = tmp_path / "monitoring.toml"
    text = (ROOT / "monitoring.toml").read_text()
    spec.write_text(text.replace("buffer_seconds = 300 ", "buffer_seconds = 1 ", 1))
    assert spec.read_text() != text
    captures = tmp_path / "captures"
    process, base = _start_serve("--spec", str(spec), "--capture-dir", str(captures))
    try:
        records = demo_records(demo_frame(20, seed=3), range(20))
        assert all(_post(f"{base}/predict", json.dumps({"features": r}).encode())[0] == 200 for r in records)
        # Before any shutdown: the stream's timer releases the buffer after its second, the
        # capture function files it, and the folder follows.
        deadline = time.monotonic() + 15
        while _kept_records(captures) < len(records) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _kept_records(captures) == len(records)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"capture objects were written to {captures}" in out
    assert _kept_records(captures) == len(records)  # the last sync copied nothing twice
