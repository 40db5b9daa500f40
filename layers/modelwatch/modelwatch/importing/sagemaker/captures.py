"""Model Monitor's data capture (JSON lines, one request per line) and ground truth, as columns.

A capture line holds captureData.endpointInput and .endpointOutput, each a payload string
(`data`) in an `encoding`: CSV, JSON, or BASE64 (then observedContentType says what the decoded
bytes are). A payload may hold several rows (CSV lines, or a JSON list of instances). A row is
the output's values then the input's (the column order Model Monitor's own analysis gives a
capture, output first), named by `column_names`. Ground-truth lines (groundTruthData) join to
captures on eventMetadata.inferenceId when the capture has one, else on eventId.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelwatch.errors import UserInputError

CAPTURE_KEY = "captureData"
GROUND_TRUTH_KEY = "groundTruthData"
# The column `drift --timestamp inferenceTime` reads each captured request's time from.
INFERENCE_TIME = "inferenceTime"
# Keys under which JSON payloads wrap their rows (TensorFlow Serving's and SageMaker's).
ROW_LISTS = ("instances", "inputs", "predictions", "outputs", "data")

Value = float | str | None


@dataclass
class CaptureRow:
    """One row of a request: the output's and the input's positional values (CSV, lists), and
    named ones (JSON objects)."""

    join_key: str
    # eventMetadata.inferenceTime, as written (ISO 8601 in UTC).
    inference_time: str | None = None
    outputs: list[Value] = field(default_factory=list)
    inputs: list[Value] = field(default_factory=list)
    named: dict[str, Value] = field(default_factory=dict)

    @property
    def values(self) -> list[Value]:
        """Output first, then input: the column order Model Monitor gives a capture."""
        return self.outputs + self.inputs


def jsonl_files(path: Path) -> list[Path]:
    """The file itself, or every *.jsonl below a folder (in key order: endpoint, variant, hour)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.jsonl") if p.is_file())
    return [path]


def _first_record(path: Path) -> dict[str, Any] | None:
    for file in jsonl_files(path)[:1]:
        try:
            with file.open("rb") as handle:
                for line in handle:
                    if line.strip():
                        record = json.loads(line)
                        return record if isinstance(record, dict) else None
        except (OSError, ValueError):
            return None
    return None


def is_model_monitor_capture(path: Path) -> bool:
    """Whether `path` (a file or folder of JSON lines) holds Model Monitor captures: by the first
    line's shape, so a CSV or ModelWatch's own capture objects are never taken for one."""
    if not path.exists() or (path.is_file() and path.suffix.lower() not in (".jsonl", ".json")):
        return False
    record = _first_record(path)
    return record is not None and isinstance(record.get(CAPTURE_KEY), dict)


def _lines(path: Path, expected: str) -> Iterator[tuple[str, int, dict[str, Any]]]:
    files = jsonl_files(path)
    if not files:
        raise UserInputError(f"{path}: no *.jsonl files in this folder")
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UserInputError(f"{file}: cannot read: {error}") from None
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise UserInputError(f"{file}:{number}: not a JSON line ({error.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get(expected), dict):
                raise UserInputError(f"{file}:{number}: not a Model Monitor {expected} line (no '{expected}' object)")
            yield f"{file}:{number}", number, record


def _decoded(payload: dict[str, Any], where: str) -> tuple[str, str]:
    """The payload's text and its format ("csv" or "json")."""
    data, encoding = payload.get("data"), str(payload.get("encoding", "")).upper()
    content_type = str(payload.get("observedContentType", "")).lower()
    if not isinstance(data, str):
        raise UserInputError(f"{where}: the payload has no 'data' string")
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise UserInputError(f"{where}: BASE64 payload that does not decode to UTF-8 text ({error})") from None
        encoding = "JSON" if "json" in content_type else "CSV"
    if encoding not in ("CSV", "JSON"):
        raise UserInputError(f"{where}: encoding {encoding or 'missing'} (CSV, JSON or BASE64 are read)")
    return data, encoding.lower()


def parse_value(text: Any) -> Value:
    """A number where the text is one (Model Monitor's analysis infers types the same way)."""
    if text is None or isinstance(text, bool):
        return None if text is None else str(text).lower()
    if isinstance(text, int | float):
        return float(text)
    if isinstance(text, str):
        stripped = text.strip()
        if stripped == "":
            return None
        try:
            return float(stripped)
        except ValueError:
            return stripped
    return json.dumps(text)  # a nested value stays one text value


def _payload(holder: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    """The payload object under `key` (None when the capture has none, as with input-only capture)."""
    payload = holder.get(key)
    if payload is not None and not isinstance(payload, dict):
        raise UserInputError(f"{where}: {key} is not an object")
    return payload


def _payload_rows(payload: dict[str, Any] | None, where: str) -> list[list[Value] | dict[str, Value]]:
    if payload is None:
        return []
    data, kind = _decoded(payload, where)
    if kind == "csv":
        try:
            return [[parse_value(cell) for cell in row] for row in csv.reader(io.StringIO(data)) if row]
        except csv.Error as error:
            raise UserInputError(f"{where}: CSV payload that does not parse ({error})") from None
    try:
        document = json.loads(data)
    except json.JSONDecodeError as error:
        raise UserInputError(f"{where}: JSON payload that does not parse ({error.msg})") from None
    if isinstance(document, dict):
        wrapped = [key for key in ROW_LISTS if key in document]
        if not wrapped:
            return [{str(k): parse_value(v) for k, v in document.items()}]  # one named row
        document = document[wrapped[0]]
    if not isinstance(document, list):
        return [[parse_value(document)]]
    rows: list[list[Value] | dict[str, Value]] = []
    for item in document:
        if isinstance(item, list):
            rows.append([parse_value(v) for v in item])
        elif isinstance(item, dict):
            features = item.get("features")
            if isinstance(features, list) and len(item) == 1:
                rows.append([parse_value(v) for v in features])
            else:
                rows.append({str(k): parse_value(v) for k, v in item.items()})
        else:
            rows.append([parse_value(item)])  # a list of scalars: one instance each
    return rows


def join_key(record: dict[str, Any]) -> str:
    """inferenceId when the record has one, else eventId (how Model Monitor merges ground truth)."""
    metadata = record.get("eventMetadata")
    if not isinstance(metadata, dict):
        return ""
    return str(metadata.get("inferenceId") or metadata.get("eventId") or "")


def read_capture_rows(path: Path) -> list[CaptureRow]:
    """Every row of every capture line below `path`, in file and line order."""
    rows: list[CaptureRow] = []
    for where, _, record in _lines(path, CAPTURE_KEY):
        capture = record[CAPTURE_KEY]
        inputs = _payload_rows(_payload(capture, "endpointInput", where), where)
        outputs = _payload_rows(_payload(capture, "endpointOutput", where), where)
        if inputs and outputs and len(inputs) != len(outputs):
            raise UserInputError(f"{where}: {len(inputs)} input rows but {len(outputs)} output rows")
        key = join_key(record)
        metadata = record.get("eventMetadata")
        time = metadata.get("inferenceTime") if isinstance(metadata, dict) else None
        for index in range(max(len(inputs), len(outputs))):
            row = CaptureRow(key, time if isinstance(time, str) else None)
            for part, positional in ((outputs, row.outputs), (inputs, row.inputs)):
                values = part[index] if part else []
                if isinstance(values, dict):
                    row.named.update(values)
                else:
                    positional.extend(values)
            rows.append(row)
    return rows


def read_ground_truth(path: Path) -> dict[str, Value]:
    """Each ground-truth line's label by its join key (its inferenceId, else its eventId)."""
    labels: dict[str, Value] = {}
    for where, _, record in _lines(path, GROUND_TRUTH_KEY):
        data, kind = _decoded(record[GROUND_TRUTH_KEY], where)
        value: Any = data
        if kind == "json":
            try:
                value = json.loads(data)
            except json.JSONDecodeError as error:
                raise UserInputError(f"{where}: JSON ground truth that does not parse ({error.msg})") from None
        key = join_key(record)
        if not key:
            raise UserInputError(f"{where}: no eventMetadata.eventId or inferenceId to join on")
        labels[key] = parse_value(value)
    return labels


def column_names(width: int, named: list[str], first: int = 0) -> list[str]:
    """Positional columns by the given names in order, then Spark's _c<position> beyond them."""
    return [named[i] if i < len(named) else f"_c{first + i}" for i in range(width)]


def positional_names(rows: list[CaptureRow], features: list[str], prediction: str | None) -> list[str]:
    """Names for a row's positional values (output first, then input). With the spec's prediction
    column the output goes under it and the inputs are the features in order; without one every
    value is a feature by position, output first, as Model Monitor's analysis of a capture sees
    it (a baseline of training rows whose first column is the label). Guessing from the widths
    instead would shift every name by one the day a request carries an extra column."""
    outputs = max((len(row.outputs) for row in rows), default=0)
    inputs = max((len(row.inputs) for row in rows), default=0)
    if outputs and prediction is not None:
        output_names = [prediction] + [f"{prediction}_{i}" for i in range(1, outputs)]
        return output_names + column_names(inputs, features, outputs)
    return column_names(outputs + inputs, features)


def capture_columns(
    rows: list[CaptureRow],
    features: list[str],
    label_column: str | None = None,
    labels: dict[str, Value] | None = None,
    prediction: str | None = None,
) -> dict[str, list[Value]]:
    """The rows as columns: positional values named by positional_names, named values by their
    own names; with `labels`, the ground truth joined under `label_column`."""
    positional = positional_names(rows, features, prediction)
    columns: dict[str, list[Value]] = {name: [] for name in positional}
    named = [name for name in dict.fromkeys(key for row in rows for key in row.named) if name not in columns]
    columns.update({name: [] for name in named})
    output_width = max((len(row.outputs) for row in rows), default=0)
    for row in rows:
        # A request without an output (or a shorter one) keeps its inputs under their names.
        values = row.outputs + [None] * (output_width - len(row.outputs)) + row.inputs
        for index, name in enumerate(positional):
            columns[name].append(values[index] if index < len(values) else None)
        for name in named:
            columns[name].append(row.named.get(name))
    if labels is not None and label_column is not None:
        columns[label_column] = [labels.get(row.join_key) for row in rows]
    return columns
