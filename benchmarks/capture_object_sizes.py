"""What a delivery object costs to store and to process, by the records it holds: the numbers the
cost model (modelwatch.cost, footprint.toml's [capture_object]) reads, measured with the core
library on the demo model's capture records.

For objects of 100, 1,000, 10,000 and 100,000 demo records (modelwatch.demo.data, one record per request,
shaped as the predict function writes them, modelwatch.serving.capture.capture_record), it
measures the partial profile (with the served version's baseline PCA, as the capture function
profiles) and the join index the capture function writes per (model version, hour) group, the
capture object's bytes, and the time the capture function's own work takes (read the lines,
group them, write the JSON lines, profile, index; S3 requests excluded), then fits each as
a + b * records by least squares. It also measures one capture line and one feedback line as the
API functions print them, and one CloudWatch Logs subscription record holding one such line
(the batch as Logs sends it to Firehose: gzipped JSON, and its size once Firehose decompresses
it).

python -m benchmarks.capture_object_sizes   # prints the measurements and the fitted constants
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.jobs.profile_job import VersionModels, baseline_reconstruction, baseline_segment_cut
from modelwatch.profiles import DatasetProfile
from modelwatch.serving.capture import capture_record, jsonl, label_record, log_lines, parse_line, storage_groups
from modelwatch.serving.request_ids import RequestIdSigner
from modelwatch.sketches import SKETCH_K
from modelwatch.spec import load_spec
from modelwatch.spec.models import MonitoringSpec
from modelwatch.windows.capture_profile import profile_captures

# Request ids as a deployment signs them (any key: only their form matters here).
SIGNER = RequestIdSigner(b"a key for ids in this file only")

ROOT = Path(__file__).resolve().parent.parent
# Two sizes on either side of the quantile sketch's exact limit (modelwatch.sketches.SKETCH_K):
# a partial profile keeps every distinct value up to it, so its size grows with the records, and
# a t-digest past it, so it barely grows; each side is fitted on its own.
SIZES = (100, 1_000, 10_000, 100_000)
LINE_RECORDS = (1, 10, 100)  # records in one capture line (one request's)
VERSION = "v-cost"  # the measured local run's version name (tests/integration/test_cost_measured.py)
NOW = datetime(2027, 1, 11, 5, 0, tzinfo=UTC)
# Names as CloudWatch Logs writes them for a deployed function: a CDK log group's generated name
# and a SnapStart version's stream (the envelope's size barely moves the gzipped record).
LOG_GROUP = "ModelWatch-PredictLogs0123ABCD-AbCdEfGh1234"
LOG_STREAM = "2027/01/11/[7]0123456789abcdef0123456789abcdef"


def demo_capture_records(rows: int, seed: int = 500) -> list[dict[str, Any]]:
    """`rows` capture records of the demo model, as the predict function logs them: the demo's
    "model" predicts with its known probability (modelwatch.demo.data)."""
    frame = demo_frame(rows, seed)
    features = demo_records(frame, range(rows))
    records = []
    for i, record in enumerate(features):
        predicted = str(int(frame["predicted_label"][i]))
        confidence = float(frame["confidence"][i])
        other = "0" if predicted == "1" else "1"
        by_class = {predicted: round(confidence, 6), other: round(1 - confidence, 6)}
        moment = NOW + timedelta(seconds=i * 3600 / rows)
        records.append(capture_record(SIGNER.new_request_id(moment), moment, VERSION, record, predicted, by_class))
    return records


def demo_label_line() -> str:
    """One feedback request's line as the feedback function prints it (label and outcomes)."""
    record = label_record(SIGNER.new_request_id(NOW), 1, {"clicked": True, "revenue": 2.5}, NOW + timedelta(minutes=3))
    return next(iter(log_lines("label", [record])))


def logs_record(lines: Sequence[str]) -> tuple[int, int]:
    """(gzipped, decompressed) bytes of the CloudWatch Logs subscription record carrying `lines`
    (Logs' DATA_MESSAGE envelope, as modelwatch_local.subscription writes it)."""
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": LOG_GROUP,
        "logStream": LOG_STREAM,
        "subscriptionFilters": ["ModelWatch-CaptureSubscription-0123ABCD"],
        "logEvents": [
            {"id": f"{37_000_000_000_000_000 + i:056d}", "timestamp": 1_799_600_000_000 + i, "message": line}
            for i, line in enumerate(lines)
        ],
    }
    raw = json.dumps(payload).encode()
    return len(gzip.compress(raw)), len(raw)


def demo_version_models(spec: MonitoringSpec) -> VersionModels:
    """What the capture function reads of the served version: its baseline's PCA and how the
    baseline cuts segments (kept values, bins), from a demo model trained and profiled like
    `LocalStack.publish_demo_model` (3,000 training rows)."""
    from modelwatch.training.publish import build_model_folder  # scikit-learn: only when measuring

    folder = build_model_folder(spec, VERSION, demo_frame(3000, 11), demo_frame(1000, 12), NOW)
    baseline = DatasetProfile.from_json(folder.baseline)
    return VersionModels(baseline_reconstruction(baseline, spec), None, baseline_segment_cut(baseline, spec))


def measure_object(spec: MonitoringSpec, records: list[dict[str, Any]], models: VersionModels) -> dict:
    """One delivery object's worth of capture lines through the capture function's own work."""
    lines = [line for record in records for line in log_lines("capture", [record])]
    started = time.perf_counter()
    groups, unreadable = storage_groups((str(i), line) for i, line in enumerate(lines))
    assert not unreadable and len(groups) == 1, (len(groups), unreadable[:1])
    (grouped,) = groups.values()
    body = jsonl(grouped)
    profiled = profile_captures(spec, grouped, models.reconstruction, segment_cut=models.segment_cut)
    profile = profiled.profile.to_json()
    join_index = json.dumps(profiled.join_index).encode()
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert all(parse_line(line) for line in lines[:1])
    return {
        "records": len(records),
        "capture_bytes": len(body),
        "profile_bytes": len(profile),
        "join_bytes": len(join_index),
        "work_ms": elapsed_ms,
    }


def fit(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """(a, b) of y = a + b * x by least squares; None from fewer than two points."""
    if len(points) < 2:
        return None
    x, y = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def measure(spec: MonitoringSpec | None = None, sizes: Sequence[int] = SIZES) -> dict[str, Any]:
    spec = spec or load_spec(ROOT / "monitoring.toml")
    models = demo_version_models(spec)
    measure_object(spec, demo_capture_records(100, seed=1), models)  # warm: imports, first calls
    objects = [measure_object(spec, demo_capture_records(n), models) for n in sizes]
    one = demo_capture_records(1)
    capture_line = next(iter(log_lines("capture", one)))
    label_line = demo_label_line()
    # One log event per Logs record (the cost model's worst case), its line holding a request's
    # records: 1, 10 or 100 (a batch request's line grows, and so does the gzipped record).
    lines = [next(iter(log_lines("capture", demo_capture_records(k, seed=k)))) for k in LINE_RECORDS]
    records = [(len(line.encode()), *logs_record([line])) for line in lines]
    return {
        "objects": objects,
        "profile_exact": fit([(o["records"], o["profile_bytes"]) for o in objects if o["records"] <= SKETCH_K]),
        "profile_sketch": fit([(o["records"], o["profile_bytes"]) for o in objects if o["records"] > SKETCH_K]),
        "join": fit([(o["records"], o["join_bytes"]) for o in objects]),
        "capture_record_bytes": objects[-1]["capture_bytes"] / objects[-1]["records"],
        "work_ms": fit([(o["records"], o["work_ms"]) for o in objects]),
        "capture_line_bytes": len(capture_line.encode()) + 1,  # the line and its newline in the object
        "label_line_bytes": len(label_line.encode()) + 1,
        "label_record_bytes": len(jsonl([json.loads(label_line)["records"][0]])),
        "logs_record_capture": logs_record([capture_line]),
        "logs_record_label": logs_record([label_line]),
        "logs_record_gzip": fit([(line, gz) for line, gz, _ in records]),
        "logs_record_raw": fit([(line, raw) for line, _, raw in records]),
    }


def main() -> None:
    result = measure()
    for o in result["objects"]:
        print(
            f"{o['records']:>6} records: capture {o['capture_bytes']:>9,} B, profile {o['profile_bytes']:>8,} B, "
            f"join index {o['join_bytes']:>8,} B, work {o['work_ms']:8.1f} ms"
        )
    a, b = result["profile_exact"]
    print(f"partial profile bytes, up to {SKETCH_K:,} records = {a:.0f} + {b:.2f} * records")
    a, b = result["profile_sketch"]
    print(f"partial profile bytes, past {SKETCH_K:,} records = {a:.0f} + {b:.3f} * records")
    a, b = result["join"]
    print(f"join index bytes = {a:.0f} + {b:.2f} * records")
    print(f"capture object bytes per record = {result['capture_record_bytes']:.1f}")
    a, b = result["work_ms"]
    print(f"capture function work ms = {a:.2f} + {b:.4f} * records")
    print(f"capture line {result['capture_line_bytes']} B, feedback line {result['label_line_bytes']} B")
    print(f"labels object bytes per feedback piece = {result['label_record_bytes']}")
    for kind in ("capture", "label"):
        gz, raw = result[f"logs_record_{kind}"]
        print(f"Logs subscription record of one {kind} line: {gz} B gzipped, {raw} B decompressed")
    for name in ("gzip", "raw"):
        a, b = result[f"logs_record_{name}"]
        print(f"Logs record of one event, {name} bytes = {a:.0f} + {b:.3f} * line bytes")


if __name__ == "__main__":
    main()
