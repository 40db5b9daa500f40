"""`modelwatch serve` as a person runs it: a URL, real HTTP on 127.0.0.1, a clean Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

from tests.conftest import ROOT


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_serve_answers_on_loopback_and_stops_on_ctrl_c():
    process = subprocess.Popen(
        [sys.executable, "-m", "modelwatch", "serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first + process.stderr.read()
        base = match.group(0)
        good = {"features": {"age": 35, "income": 42000, "score": 700, "category": "a", "region": "north"}}
        status, body = _post(f"{base}/predict", json.dumps(good).encode())
        assert status == 200 and body["predictions"][0]["model_version"] == "demo-1"
        request_id = body["predictions"][0]["request_id"]
        status, body = _post(f"{base}/feedback", json.dumps({"request_id": request_id, "label": 1}).encode())
        assert status == 200 and body == {"accepted": 1, "unknown_request_ids": 0}
        status, body = _post(f"{base}/predict", b"{}", content_type="text/plain")
        assert status == 415 and body["errors"][0]["field"] == "header.content-type"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    assert "POST /predict 200" in err
