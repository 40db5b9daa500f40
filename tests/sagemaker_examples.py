"""SageMaker Model Monitor's example files (tests/data/sagemaker, copies of AWS's own test data:
see its NOTICE.md) and captures built in their format from the pipeline example's baseline rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

SAGEMAKER = Path(__file__).resolve().parent / "data" / "sagemaker"
PIPELINE_STATISTICS = SAGEMAKER / "data_quality" / "sdk_pipeline_dq_statistics.json"
PIPELINE_CONSTRAINTS = SAGEMAKER / "data_quality" / "sdk_pipeline_dq_constraints.json"
PIPELINE_DATASET = SAGEMAKER / "data_quality" / "sdk_pipeline_dq_baseline_dataset.csv"
MONITOR_STATISTICS = SAGEMAKER / "data_quality" / "sdk_monitor_statistics.json"
MONITOR_CONSTRAINTS = SAGEMAKER / "data_quality" / "sdk_monitor_constraints.json"
CSV_CAPTURE = SAGEMAKER / "capture" / "sdk_monitor_capture.jsonl"
JSON_CAPTURE = SAGEMAKER / "capture" / "sdk_monitor_captured-data.jsonl"
ACTUALS = SAGEMAKER / "ground_truth" / "sdk_monitor_actuals.jsonl"
ONE_GROUND_TRUTH = SAGEMAKER / "ground_truth" / "examples_test_gt_01d3c1a8-aa99-4149-9d5e-78bea047a788.jsonl"

Row = list[str]


def pipeline_rows() -> list[Row]:
    """The pipeline example's 100 baseline rows (headerless: _c0 … _c5), as text."""
    with PIPELINE_DATASET.open(newline="") as handle:
        return [row for row in csv.reader(handle) if row]


def _payload(values: Row, mode: str) -> dict[str, str]:
    return {"observedContentType": "text/csv", "mode": mode, "data": ",".join(values), "encoding": "CSV"}


def capture_line(event_id: str, inputs: Row, outputs: Row, inference_id: str | None = None) -> str:
    """One Model Monitor capture line with CSV payloads, as an endpoint writes it (no outputs:
    an endpoint capturing its inputs only)."""
    metadata = {"eventId": event_id, "inferenceTime": "2024-05-01T10:00:00.000Z"}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    capture = {"endpointInput": _payload(inputs, "INPUT")}
    if outputs:
        capture["endpointOutput"] = _payload(outputs, "OUTPUT")
    return json.dumps({"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"})


def write_pipeline_capture(path: Path, change: Callable[[int, Row], Row] | None = None) -> Path:
    """The pipeline example's rows as a capture: _c0 is the endpoint's output, _c1 … _c5 its input
    (Model Monitor puts a capture's output columns first). `change(index, row)` alters a row."""
    lines = []
    for index, row in enumerate(pipeline_rows()):
        row = change(index, list(row)) if change is not None else row
        lines.append(capture_line(f"event-{index:04d}", row[1:], row[:1]))
    path.write_text("\n".join(lines) + "\n")
    return path
