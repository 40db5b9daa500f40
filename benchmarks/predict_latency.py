"""Prediction latency: what monitoring adds to a warm request, and the cold start against a
process that unpickles the same scikit-learn pipeline; plus the function's package size.

- Warm: the predict handler in this process (API Gateway v2 events, the model cached), with
  monitoring on (EMF metrics and capture lines) and off. Target: monitoring adds <= 0.3 ms at p50.
- Cold: a fresh process imports the handler, reads the pointer and the artifact from S3 (a moto
  server on 127.0.0.1, so boto3 makes real HTTP calls), verifies and loads the model and answers
  one request; against a fresh process that unpickles the pipeline and predicts one row.
  Target: at most 0.2 of the baseline.
- Package: the serving layer (arm64, Python 3.12 wheels) plus the function code, unzipped.
  Target: at most 150 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = {"age": 35, "income": 42000.0, "score": 700, "category": "a", "region": "north"}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]


def warm(requests: int) -> dict[str, tuple[float, float]]:
    from modelwatch.aws.platform import Platform, install_platform
    from modelwatch_local.apigw import http_event
    from modelwatch_local.lambda_runtime import LambdaContext, load_handler
    from modelwatch_local.stack import LocalStack

    stack = LocalStack()
    stack.publish_demo_model("bench-1")
    handler = load_handler("predict")
    event = http_event(
        "POST", "/predict", {"content-type": "application/json"}, json.dumps({"features": RECORD}).encode()
    )
    context = LambdaContext("modelwatch-predict")
    platforms = {
        "on": stack.platform,
        "off": Platform(
            stack.platform.settings.__class__(**{**stack.platform.settings.__dict__, "monitoring": False}), stack.clock
        ),
    }
    platforms["off"]._clients = stack.platform._clients
    results: dict[str, list[float]] = {"on": [], "off": []}
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):  # stdout is CloudWatch Logs in Lambda; here, memory
        for mode in ("on", "off"):  # warm both (model load, first-call costs)
            install_platform(platforms[mode])
            for _ in range(50):
                handler(event, context)
        for round_ in range(requests // 100):  # interleave, so drift in machine load hits both
            for mode in ("on", "off") if round_ % 2 == 0 else ("off", "on"):
                install_platform(platforms[mode])
                for _ in range(50):
                    started = time.perf_counter()
                    handler(event, context)
                    results[mode].append((time.perf_counter() - started) * 1000)
                sink.seek(0)
                sink.truncate()
    install_platform(stack.platform)
    stack.stop()
    return {mode: _percentiles(samples) for mode, samples in results.items()}


COLD_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from modelwatch_local.apigw import http_event
from modelwatch_local.lambda_runtime import LambdaContext
from functions.predict.handler import handler
body = json.dumps({{"features": {record!r}}}).encode()
event = http_event("POST", "/predict", {{"content-type": "application/json"}}, body)
response = handler(event, LambdaContext("modelwatch-predict"))
assert response["statusCode"] == 200, response
"""

BASELINE_CHILD = """
import pickle, sys
import pandas as pd
with open({path!r}, "rb") as handle:
    model = pickle.load(handle)
probabilities = model.predict_proba(pd.DataFrame([{record!r}]))
assert probabilities.shape == (1, 2)
"""


# The same baseline as a Lambda would run it: the pickle fetched from S3 with boto3 first.
BASELINE_FROM_S3_CHILD = """
import io, pickle
import boto3
import pandas as pd
body = boto3.client("s3").get_object(Bucket="bench-models", Key="pickled/model.pkl")["Body"].read()
model = pickle.load(io.BytesIO(body))
probabilities = model.predict_proba(pd.DataFrame([{record!r}]))
assert probabilities.shape == (1, 2)
"""


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    return time.perf_counter() - started


def cold(runs: int) -> tuple[float, float, float]:
    import boto3
    from moto.server import ThreadedMotoServer

    from modelwatch.aws.registry import ModelRegistry
    from modelwatch.demo.data import demo_frame
    from modelwatch.spec import load_spec
    from modelwatch.training.pipeline import train
    from modelwatch.training.publish import build_model_folder

    spec = load_spec(ROOT / "monitoring.toml")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MODELWATCH_MODEL_BUCKET": "bench-models",
        "MODELWATCH_DATA_BUCKET": "bench-data",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    local = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3, ssm = boto3.client("s3", **local), boto3.client("ssm", **local)
    s3.create_bucket(Bucket="bench-models")
    registry = ModelRegistry(s3, ssm, "bench-models", "models/", "/modelwatch/current-model")
    from datetime import UTC, datetime

    train_rows, holdout_rows = demo_frame(6000, 11), demo_frame(2000, 12)
    registry.publish(build_model_folder(spec, "bench-1", train_rows, holdout_rows, datetime.now(UTC)))
    registry.promote("bench-1")
    pipeline = train(spec, train_rows, holdout_rows).pipeline
    with tempfile.TemporaryDirectory() as folder:
        pickled = Path(folder) / "model.pkl"
        pickled.write_bytes(pickle.dumps(pipeline))
        ours = [
            _timed([sys.executable, "-c", COLD_CHILD.format(root=str(ROOT), record=RECORD)], env) for _ in range(runs)
        ]
        theirs = [
            _timed([sys.executable, "-c", BASELINE_CHILD.format(path=str(pickled), record=RECORD)], env)
            for _ in range(runs)
        ]
        s3.put_object(Bucket="bench-models", Key="pickled/model.pkl", Body=pickled.read_bytes())
        theirs_from_s3 = [
            _timed([sys.executable, "-c", BASELINE_FROM_S3_CHILD.format(record=RECORD)], env) for _ in range(runs)
        ]
    server.stop()
    return statistics.median(ours), statistics.median(theirs), statistics.median(theirs_from_s3)


def package_size() -> float:
    from modelwatch_infra.bundling import ROOT as REPO
    from modelwatch_infra.bundling import build_function_code, build_layer

    with tempfile.TemporaryDirectory() as folder:
        layer = build_layer(REPO / "layers" / "requirements" / "serving.txt", Path(folder) / "layer")
        code = build_function_code("predict", Path(folder) / "code")
        return (layer.size_bytes + code.size_bytes) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="warm requests per mode")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--skip-package", action="store_true", help="skip the package build (downloads wheels)")
    args = parser.parse_args()

    latencies = warm(args.requests)
    (on50, on99), (off50, off99) = latencies["on"], latencies["off"]
    print(f"warm handler, monitoring on : p50 {on50:.3f} ms  p99 {on99:.3f} ms")
    print(f"warm handler, monitoring off: p50 {off50:.3f} ms  p99 {off99:.3f} ms")
    ours, theirs, theirs_from_s3 = cold(args.cold_runs)
    print(f"cold start (fresh process): modelwatch {ours * 1000:.0f} ms, unpickled scikit-learn {theirs * 1000:.0f} ms")
    print(
        f"  like for like, the pickle fetched from S3 with boto3 first: {theirs_from_s3 * 1000:.0f} ms "
        f"(modelwatch {ours / theirs_from_s3:.2f} of it)"
    )
    if not args.skip_package:
        print(f"predict function package (arm64 layer + code, unzipped): {package_size():.1f} MB (limit 150 MB)")
    print(
        f"ratio: monitoring adds {on50 - off50:.3f} ms at p50 (target <= 0.3 ms); "
        f"cold start {ours / theirs:.2f} of the scikit-learn process (target <= 0.2)"
    )


if __name__ == "__main__":
    main()
