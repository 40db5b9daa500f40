"""A folder of capture objects read as a table: the JSON-lines objects the capture function files
under capture/model_version=V/dt=…/ (and `modelwatch serve --capture-dir` keeps on disk), every
`*.jsonl` below the folder. Each record's `features` become columns, and its prediction and
probabilities become the prediction and score columns the spec's [columns] names, by the capture
function's own mapping (windows.capture_profile.capture_columns): `modelwatch drift` then reads a
local capture as the deployed drift check reads the same records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from modelwatch.errors import UserInputError
from modelwatch.spec.models import MonitoringSpec
from modelwatch.windows.capture_profile import PoisonCaptureError, capture_columns, parse_capture

CAPTURE_SUFFIX = ".jsonl"
# The record's own field holding when the prediction was served: `--timestamp timestamp` on a
# capture folder cuts it into chunks by that time.
CAPTURE_TIME = "timestamp"


def capture_files(folder: Path) -> list[Path]:
    """The capture objects below `folder`, in key order (model version, then hour, then batch)."""
    return sorted(path for path in folder.rglob(f"*{CAPTURE_SUFFIX}") if path.is_file())


def read_capture_records(folder: Path) -> list[dict[str, Any]]:
    files = capture_files(folder)
    if not files:
        raise UserInputError(f"{folder}: no capture objects (*{CAPTURE_SUFFIX}) in this folder")
    records: list[dict[str, Any]] = []
    for path in files:
        try:
            records.extend(parse_capture(path.read_bytes()))
        except (PoisonCaptureError, UnicodeDecodeError) as error:
            raise UserInputError(f"{path}: not a capture object: {error}") from None
    return records


def read_capture_folder(folder: Path, spec: MonitoringSpec | None, timestamp: str | None = None) -> pa.Table:
    """The folder's capture records as one table. With a spec: its features and role columns.
    Without one (a spec inferred from this very table): the features only, every name any record
    carries, since there are no [columns] names to put the prediction under. `timestamp` =
    CAPTURE_TIME adds each record's serving time as that column (unless a feature has the name)."""
    records = read_capture_records(folder)
    if spec is None:
        names = list(dict.fromkeys(name for record in records for name in record["features"]))
        columns = {name: np.array([record["features"].get(name) for record in records], dtype=object) for name in names}
    else:
        columns, _ = capture_columns(spec, records)
    if timestamp == CAPTURE_TIME and timestamp not in columns:
        columns[timestamp] = np.array([record.get(CAPTURE_TIME) for record in records], dtype=object)
    return pa.table({name: _arrow_column(values) for name, values in columns.items()})


def _arrow_column(values: np.ndarray) -> pa.Array:
    """Numbers stay numbers, so the profile bins them; a column mixing numbers and text becomes
    text, which the profile then counts as type errors of a numeric feature, as it does in a CSV."""
    if values.dtype.kind in "iuf":
        return pa.array(values)
    try:
        return pa.array(values.tolist())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if value is None else str(value) for value in values.tolist()], pa.string())
