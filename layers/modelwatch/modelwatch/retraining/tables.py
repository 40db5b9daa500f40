"""Training and holdout columns as Parquet bytes between the steps of a retraining run: typed,
compact, and read back without running any code (unlike a pickle)."""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def to_parquet(columns: Mapping[str, np.ndarray]) -> bytes:
    table = pa.table({name: pa.array(values.tolist()) for name, values in columns.items()})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def from_parquet(body: bytes, numeric: list[str]) -> dict[str, np.ndarray]:
    table = pq.read_table(io.BytesIO(body))
    columns: dict[str, np.ndarray] = {}
    for name in table.column_names:
        values = table.column(name).to_pylist()
        if name in numeric:
            columns[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        else:
            columns[name] = np.array(values, dtype=object)
    return columns
