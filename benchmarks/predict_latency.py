"""Prediction latency: what monitoring adds to a warm request, and the cold start against a
process that unpickles the same scikit-learn pipeline; plus the function's package size.

- Warm: the predict handler in this process (API Gateway v2 events, the model cached), with
  monitoring on (EMF metrics and capture lines) and off. Target: monitoring adds <= 0.3 ms at p50.
  A regression's DLE loss model is monitoring's work too, done off the request path by the
  capture function: its cost there is printed beside the regression's figures.
- Cold: a fresh process, in the environment Lambda gives the function (tracing on, our code
  byte-compiled as the bundle ships it), imports the handler, reads the pointer and the artifact
  from S3 (a moto server on 127.0.0.1, so botocore makes real HTTP calls), verifies and loads the
  model and answers one request; against a fresh process that unpickles the pipeline and
  predicts one row, and one that first fetches the pickle from S3. Each is timed from launch to
  its answer. Target: at most 0.2 of the unpickling process.
- SnapStart, emulated: forks of a process that ran the before-snapshot hooks, timed from the
  fork to the answer (Lambda's own restore time is not measurable here).
- Package: the serving layer (arm64, Python 3.12 wheels) plus the function code, unzipped.
  Target: at most 150 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from modelwatch.catalog.functions import PREDICT

ROOT = Path(__file__).resolve().parent.parent
RECORD = {"age": 35, "income": 42000.0, "score": 700, "category": "a", "region": "north"}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]


def task_model(task: str, folder: Path, numeric: int = 3) -> tuple[Path, Path, dict[str, object]]:
    """A multiclass or regression model as a team would make one: `modelwatch init` drafts the
    spec from a data set, `modelwatch train` fits the model (spec, model folder, one record).
    `numeric`: how many numeric features (3, or more for a wide model)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from modelwatch.cli.main import main as modelwatch

    rng = np.random.default_rng(7)
    rows = 4000
    names = ["age", "income", "score"] + [f"x{i}" for i in range(3, numeric)]
    frame = {name: rng.normal(size=rows) for name in names}
    frame["category"] = rng.choice(["a", "b", "c"], rows)
    signal = frame["age"] + 0.5 * frame["income"] - 0.3 * frame["score"] + sum(0.05 * frame[n] for n in names[3:])
    if task == "regression":
        frame["y"] = 100 + 10 * signal + rng.normal(0, 1, rows)
    else:
        frame["y"] = np.array(["low", "mid", "high"])[np.digitize(signal + rng.normal(0, 0.3, rows), [-0.5, 0.5])]
    data, spec, model = (folder / f"{task}-{numeric}{suffix}" for suffix in (".csv", ".toml", "-model"))
    pacsv.write_csv(pa.table(frame), data)
    with contextlib.redirect_stdout(io.StringIO()):
        assert modelwatch(["init", "--data", str(data), "--target", "y", "--task", task, "--out", str(spec)]) == 0
        assert modelwatch(["train", "--data", str(data), "--spec", str(spec), "--out", str(model)]) == 0
    record: dict[str, object] = {"age": 0.3, "income": -1.2, "score": 0.8, "category": "b"}
    record.update({name: 0.1 for name in names[3:]})
    return spec, model, record


def warm(
    requests: int, spec: Path | None = None, model: Path | None = None, record: dict | None = None
) -> dict[str, tuple[float, float]]:
    """Warm p50 and p99 with monitoring on and off: the demo model, or `model` served with `spec`."""
    from modelwatch.data_access.platform import Platform, install_platform
    from modelwatch_local.apigw import http_event
    from modelwatch_local.lambda_runtime import LambdaContext, load_handler
    from modelwatch_local.stack import LocalStack

    # With monitoring off nothing is emitted, and Powertools warns on every request.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stack = LocalStack(spec or ROOT / "monitoring.toml")
    if model is None:
        stack.publish_demo_model("bench-1")
    else:
        stack.publish_model_dir(model)
    handler = load_handler("predict")
    event = http_event(
        "POST",
        PREDICT.route or "",
        {"content-type": "application/json"},
        json.dumps({"features": record or RECORD}).encode(),
    )
    context = LambdaContext("modelwatch-predict")
    platforms = {
        "on": stack.platform,
        "off": Platform({**stack.environment, "MODELWATCH_MONITORING": "off"}, stack.clock),
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
import json, os, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
from functions.predict.handler import handler
imported = time.perf_counter()
from modelwatch_local.apigw import http_event
from modelwatch_local.lambda_runtime import LambdaContext
body = json.dumps({{"features": {record!r}}}).encode()
event = http_event("POST", "/predict", {{"content-type": "application/json"}}, body)
answering = time.perf_counter()
response = handler(event, LambdaContext("modelwatch-predict"))
answered = time.perf_counter()
assert response["statusCode"] == 200, response
phases = {{"import_ms": (imported - started) * 1000, "first_request_ms": (answered - answering) * 1000}}
os.write(int(os.environ["ANSWER_FD"]), (json.dumps(phases) + "\\n").encode())
"""

# SnapStart, emulated: one process initializes and runs the before-snapshot hooks; each fork of
# it stands for an environment restored from the snapshot, runs the after-restore hooks and
# answers. What Lambda itself spends restoring the snapshot is not in this figure.
SNAPSTART_CHILD = """
import json, os, statistics, sys, time
sys.path.insert(0, {root!r})
from functions.predict.handler import handler
from modelwatch_local import snapstart
from modelwatch_local.apigw import http_event
from modelwatch_local.lambda_runtime import LambdaContext
body = json.dumps({{"features": {record!r}}}).encode()
event = http_event("POST", "/predict", {{"content-type": "application/json"}}, body)
snapstart.take_snapshot()
read_end, write_end = os.pipe()
restored_ms = []
for _ in range({runs}):
    started = time.perf_counter()
    if os.fork() == 0:
        snapstart.restore()
        response = handler(event, LambdaContext("modelwatch-predict"))
        answered = (time.perf_counter() - started) * 1000 if response["statusCode"] == 200 else -1.0
        os.write(write_end, (repr(answered) + "\\n").encode())
        os._exit(0)
    os.wait()
with os.fdopen(read_end) as answers:
    os.close(write_end)
    restored_ms = [float(answers.readline()) for _ in range({runs})]
assert min(restored_ms) > 0, restored_ms
os.write(int(os.environ["ANSWER_FD"]), (json.dumps({{"restored_ms": statistics.median(restored_ms)}}) + "\\n").encode())
"""

BASELINE_CHILD = """
import os, pickle, sys
import pandas as pd
with open({path!r}, "rb") as handle:
    model = pickle.load(handle)
probabilities = model.predict_proba(pd.DataFrame([{record!r}]))
assert probabilities.shape == (1, 2)
os.write(int(os.environ["ANSWER_FD"]), b"answered\\n")
"""


# The same baseline as a Lambda would run it: the pickle fetched from S3 with boto3 first.
BASELINE_FROM_S3_CHILD = """
import io, os, pickle
import boto3
import pandas as pd
body = boto3.client("s3").get_object(Bucket="bench-models", Key="pickled/model.pkl")["Body"].read()
model = pickle.load(io.BytesIO(body))
probabilities = model.predict_proba(pd.DataFrame([{record!r}]))
assert probabilities.shape == (1, 2)
os.write(int(os.environ["ANSWER_FD"]), b"answered\\n")
"""


def _timed(command: list[str], env: dict[str, str], phases: list[dict[str, float]] | None = None) -> float:
    """Seconds from launching the process to its answer, which it writes to the pipe ANSWER_FD
    names (stdout is the function's log). A Lambda environment lives on after answering, so
    interpreter teardown is not part of a cold start, for either side."""
    read_end, write_end = os.pipe()
    started = time.perf_counter()
    with subprocess.Popen(
        command,
        env={**env, "ANSWER_FD": str(write_end)},
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        os.close(write_end)
        with os.fdopen(read_end) as answers:
            answer = answers.readline()
        elapsed = time.perf_counter() - started
        _, errors = child.communicate()
    if child.returncode != 0 or not answer:
        raise RuntimeError(f"cold-start child failed ({child.returncode}): {errors.strip()[-2000:]}")
    if phases is not None:
        phases.append(json.loads(answer))
    return elapsed


def byte_compile_our_code() -> None:
    """Compile our modules beside their sources, as the deployment bundle ships them and as
    site-packages already has scikit-learn's. This machine sets PYTHONDONTWRITEBYTECODE, so
    otherwise every fresh process would compile our code from source and the baseline's not."""
    import compileall

    for folder in (ROOT / "functions", ROOT / "layers" / "modelwatch", ROOT / "infra" / "local"):
        compileall.compile_dir(folder, quiet=1)


@dataclass
class ColdStarts:
    """Medians over interleaved runs, in seconds (phases in ms, measured inside our process)."""

    ours: float
    sklearn: float
    sklearn_from_s3: float
    import_ms: float
    first_request_ms: float
    restored_ms: float


# A sampled trace header, as Lambda sets it per invocation on an active-tracing function.
TRACE_HEADER = "Root=1-6745a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


def cold(runs: int) -> ColdStarts:
    import boto3
    from moto.server import ThreadedMotoServer

    from modelwatch.catalog.functions import REQUEST_ID_SECRET
    from modelwatch.data_access.model_store import ModelRegistry
    from modelwatch.data_access.settings import Settings
    from modelwatch.demo.data import demo_frame
    from modelwatch.spec import load_spec
    from modelwatch.training.pipeline import train
    from modelwatch.training.publish import build_model_folder
    from modelwatch_local.lambda_runtime import lambda_environment
    from modelwatch_local.stack import local_environment

    spec = load_spec(ROOT / "monitoring.toml")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))},
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        **local_environment(ROOT / "monitoring.toml"),
        "MODELWATCH_MODEL_BUCKET": "bench-models",
        "MODELWATCH_DATA_BUCKET": "bench-data",
    }
    # Ours runs as deployed: in Lambda's environment, with active tracing (Tracer on).
    lambda_env = {**env, **lambda_environment("predict", TRACE_HEADER)}
    local = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3, ssm = boto3.client("s3", **local), boto3.client("ssm", **local)
    s3.create_bucket(Bucket="bench-models")
    # The key request ids are signed with, as the stack generates it (read at the cold start).
    boto3.client("secretsmanager", **local).create_secret(
        Name=env[REQUEST_ID_SECRET], SecretString="a key for the benchmark's request ids only"
    )
    settings = Settings.from_environment(env)
    registry = ModelRegistry(s3, ssm, settings.model_bucket, settings.model_prefix, settings.pointer_parameter)
    from datetime import UTC, datetime

    train_rows, holdout_rows = demo_frame(6000, 11), demo_frame(2000, 12)
    registry.publish(build_model_folder(spec, "bench-1", train_rows, holdout_rows, datetime.now(UTC)))
    registry.promote("bench-1")
    pipeline = train(spec, train_rows, holdout_rows).pipeline
    byte_compile_our_code()
    ours: list[float] = []
    theirs: list[float] = []
    theirs_from_s3: list[float] = []
    phases: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        pickled = Path(folder) / "model.pkl"
        pickled.write_bytes(pickle.dumps(pipeline))
        s3.put_object(Bucket="bench-models", Key="pickled/model.pkl", Body=pickled.read_bytes())
        for _ in range(runs):  # interleaved, so a busy moment on this shared machine hits all three
            ours.append(
                _timed([sys.executable, "-c", COLD_CHILD.format(root=str(ROOT), record=RECORD)], lambda_env, phases)
            )
            theirs.append(_timed([sys.executable, "-c", BASELINE_CHILD.format(path=str(pickled), record=RECORD)], env))
            theirs_from_s3.append(_timed([sys.executable, "-c", BASELINE_FROM_S3_CHILD.format(record=RECORD)], env))
        snapstart: list[dict[str, float]] = []
        _timed(
            [sys.executable, "-c", SNAPSTART_CHILD.format(root=str(ROOT), record=RECORD, runs=runs)],
            lambda_env,
            snapstart,
        )
    server.stop()
    return ColdStarts(
        ours=statistics.median(ours),
        sklearn=statistics.median(theirs),
        sklearn_from_s3=statistics.median(theirs_from_s3),
        import_ms=statistics.median(p["import_ms"] for p in phases),
        first_request_ms=statistics.median(p["first_request_ms"] for p in phases),
        restored_ms=snapstart[0]["restored_ms"],
    )


def capture_paths(requests: int) -> tuple[float, float]:
    """Per-request cost, p50 in ms, of the two ways a capture could leave the request path: the
    log line we print (the Logs subscription delivers it), and a Firehose PutRecord. The
    Firehose call goes to a moto server on 127.0.0.1: a lower bound, since a real one crosses
    the network to the regional endpoint and signs with SigV4 over TLS."""
    import botocore.session
    from moto.server import ThreadedMotoServer

    from modelwatch.serving.capture import CAPTURE, capture_record, log_lines

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    local = {
        "endpoint_url": f"http://{host}:{port}",
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    session = botocore.session.get_session()
    s3, firehose = session.create_client("s3", **local), session.create_client("firehose", **local)
    s3.create_bucket(Bucket="bench-capture")
    firehose.create_delivery_stream(
        DeliveryStreamName="capture",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::bench-capture",
        },
    )
    from datetime import UTC, datetime

    record = capture_record("0" * 32, datetime.now(UTC), "bench-1", RECORD, "1", {"0": 0.2, "1": 0.8})
    by_log, by_firehose = [], []
    sink = io.StringIO()
    for _ in range(requests):
        started = time.perf_counter()
        for line in log_lines(CAPTURE, [record]):
            sink.write(line + "\n")
        by_log.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for line in log_lines(CAPTURE, [record]):
            firehose.put_record(DeliveryStreamName="capture", Record={"Data": (line + "\n").encode()})
        by_firehose.append((time.perf_counter() - started) * 1000)
        sink.seek(0)
        sink.truncate()
    server.stop()
    return statistics.median(by_log), statistics.median(by_firehose)


def loss_model_cost(model: Path, record: dict[str, object], repeats: int = 200) -> tuple[float, float]:
    """Where DLE's loss model runs now, the capture function: ms for a capture object of one
    record, and µs a record for an object of 500, as profile_captures runs it (median)."""
    import numpy as np

    from modelwatch.dle import loss_columns
    from modelwatch.loss_model import LossModel
    from modelwatch.registry.manifest import LOSS_MODEL_NAME

    loss_model = LossModel.from_bytes((model / LOSS_MODEL_NAME).read_bytes())
    medians = []
    for rows in (1, 500):
        columns = {name: np.array([value] * rows, dtype=object) for name, value in record.items()}
        columns["prediction"] = np.full(rows, 100.0)
        loss_columns(loss_model, "prediction", columns)  # sessions built once per environment
        samples = []
        for _ in range(repeats // (1 if rows == 1 else 20)):
            started = time.perf_counter()
            loss_columns(loss_model, "prediction", columns)
            samples.append((time.perf_counter() - started) * 1000)
        medians.append(statistics.median(samples))
    return medians[0], medians[1] / 500 * 1000


def package_size() -> float:
    sys.path.insert(0, str(ROOT / "infra"))  # the CDK app's bundling runs from the checkout, not installed
    from modelwatch_infra.bundling import ROOT as REPO
    from modelwatch_infra.bundling import build_core_layer, build_function_code, build_layer

    with tempfile.TemporaryDirectory() as folder:
        layer = build_layer(REPO / "layers" / "requirements" / "serving.txt", Path(folder) / "layer")
        core = build_core_layer(Path(folder) / "core")
        code = build_function_code("predict", Path(folder) / "code")
        return (layer.size_bytes + core.size_bytes + code.size_bytes) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="warm requests per mode")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--skip-package", action="store_true", help="skip the package build (downloads wheels)")
    args = parser.parse_args()

    added: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for task in ("binary", "multiclass", "regression"):
            made = task_model(task, Path(folder)) if task != "binary" else (None, None, None)
            latencies = warm(args.requests, *made)
            (on50, on99), (off50, off99) = latencies["on"], latencies["off"]
            print(f"warm handler ({task}), monitoring on : p50 {on50:.3f} ms  p99 {on99:.3f} ms")
            print(f"warm handler ({task}), monitoring off: p50 {off50:.3f} ms  p99 {off99:.3f} ms")
            added[task] = on50 - off50
            if task == "regression":
                one, per_record = loss_model_cost(made[1], made[2])
                print(
                    f"  DLE's loss model, run by the capture function (not on the request path): {one:.3f} ms "
                    f"for a one-record capture object, {per_record:.1f} µs a record in a 500-record object"
                )
    # The widest model a spec allows: every metric of a request's document but one per feature.
    from modelwatch.catalog import metrics as catalog

    widest = catalog.EMF_MAX_METRICS_PER_DOCUMENT - len(catalog.per_request_metrics("regression"))
    with tempfile.TemporaryDirectory() as folder:
        latencies = warm(args.requests, *task_model("regression", Path(folder), numeric=widest))
    (on50, _), (off50, _) = latencies["on"], latencies["off"]
    print(
        f"warm handler (regression, {widest} numeric features, the widest a spec allows): monitoring adds "
        f"{on50 - off50:.3f} ms at p50 (on {on50:.3f} ms, off {off50:.3f} ms)"
    )
    starts = cold(args.cold_runs)
    print(
        f"cold start (fresh process, Lambda's environment, tracing on): modelwatch {starts.ours * 1000:.0f} ms "
        f"(handler import {starts.import_ms:.0f} ms, first request with model load {starts.first_request_ms:.0f} ms); "
        f"unpickled scikit-learn {starts.sklearn * 1000:.0f} ms"
    )
    print(
        f"  like for like, the pickle fetched from S3 with boto3 first: {starts.sklearn_from_s3 * 1000:.0f} ms "
        f"(modelwatch {starts.ours / starts.sklearn_from_s3:.2f} of it)"
    )
    print(
        f"  SnapStart, emulated by forking an initialized process: {starts.restored_ms:.0f} ms from restore to answer "
        "(after-restore hooks, pointer re-read, first request; Lambda's own restore time not included)"
    )
    by_log, by_firehose = capture_paths(300)
    print(
        f"capture per request, p50: log line {by_log:.3f} ms; Firehose PutRecord to a local endpoint "
        f"{by_firehose:.3f} ms (a lower bound: a real endpoint adds the network round trip)"
    )
    if not args.skip_package:
        print(f"predict function package (arm64 layers + code, unzipped): {package_size():.1f} MB (limit 150 MB)")
    print(
        "ratio: monitoring adds "
        + ", ".join(f"{ms:.3f} ms ({task})" for task, ms in added.items())
        + " at p50 (target <= 0.3 ms each); "
        f"cold start {starts.ours / starts.sklearn:.2f} of the scikit-learn process (target <= 0.2)"
    )


if __name__ == "__main__":
    main()
