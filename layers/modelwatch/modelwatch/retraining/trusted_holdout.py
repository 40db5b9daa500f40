"""A team's curated holdout ([retraining] holdout_source = "trusted"): labelled rows in CSV or
Parquet files under the data bucket's holdout/ area, which people upload and no API caller can
write, so a promotion decision cannot be steered through /feedback. Read as the prepared rows
are (numbers as float64 with NaN for missing, everything else as text)."""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from modelwatch.errors import UserInputError
from modelwatch.spec.models import MonitoringSpec

READERS = {
    ".csv": lambda body: pacsv.read_csv(io.BytesIO(body)),
    ".parquet": lambda body: pq.read_table(io.BytesIO(body)),
}


def holdout_columns(spec: MonitoringSpec, files: Iterable[tuple[str, bytes]]) -> dict[str, np.ndarray]:
    """The files' rows, the spec's features and target only; a file of another kind, or one that
    lacks a column, is a UserInputError naming the file and what it lacks."""
    target = spec.columns.target
    assert target is not None
    wanted = [*spec.features, target]
    tables = []
    for key, body in files:
        suffix = key[key.rfind(".") :].lower() if "." in key else ""
        if suffix not in READERS:
            raise UserInputError(f"{key}: a trusted holdout file is CSV or Parquet (.csv, .parquet)")
        table = READERS[suffix](body)
        missing = [name for name in wanted if name not in table.column_names]
        if missing:
            raise UserInputError(f"{key}: the trusted holdout lacks {', '.join(missing)}")
        tables.append(table.select(wanted))
    columns: dict[str, list] = {name: [] for name in wanted}
    for table in tables:
        for name in wanted:
            columns[name] += table.column(name).to_pylist()
    numeric = set(spec.numeric_features)
    return {
        name: np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        if name in numeric
        else np.array(values, dtype=object)
        for name, values in columns.items()
    }
