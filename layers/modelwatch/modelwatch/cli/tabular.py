"""Stream CSV and Parquet files in batches of columns, without holding the file in memory; or a
folder of capture objects (modelwatch.cli.capture_folder), held in memory: a capture folder is
what one local `modelwatch serve` saw, small beside the tables this module streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from modelwatch.errors import UserInputError
from modelwatch.profiles.coercion import CategoryCounts

if TYPE_CHECKING:
    from modelwatch.spec.models import MonitoringSpec

# Small batches and no pre-buffering keep memory flat: Parquet's reader then holds one
# batch's pages, not a whole row group (a 1M-row group would cost ~190 MB at once).
BATCH_ROWS = 65_536
PARQUET_BUFFER_BYTES = 1 << 20
CSV_BLOCK_BYTES = 4 << 20


class RereadNeededError(Exception):
    """The fast CSV reader met a value its inferred type cannot hold: read again, tolerant."""


@dataclass(frozen=True)
class ColumnKinds:
    numeric: list[str]
    categorical: list[str]


def _is_numeric(data_type: pa.DataType) -> bool:
    return pa.types.is_integer(data_type) or pa.types.is_floating(data_type) or pa.types.is_decimal(data_type)


class TableFile:
    """A CSV or Parquet file, or a folder of capture objects, read in batches; `batches()` yields
    {column: values}. `spec` names a capture folder's prediction and score columns; `timestamp`
    the column drift over time reads each row's time from (a capture folder: its records' time)."""

    def __init__(self, path: Path | str, spec: MonitoringSpec | None = None, timestamp: str | None = None) -> None:
        self.path = Path(path)
        self._captures: pa.Table | None = None
        if self.path.is_dir():
            # Imported here: the capture mapping loads the spec models, which a CSV never needs.
            from modelwatch.cli.capture_folder import read_capture_folder

            self.format = "captures"
            self._captures = read_capture_folder(self.path, spec, timestamp)
        elif not self.path.is_file():
            raise UserInputError(f"{self.path}: no such file")
        else:
            self.format = "parquet" if self.path.suffix.lower() in (".parquet", ".pq") else "csv"
        try:
            self.schema = self._read_schema()
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            raise UserInputError(f"{self.path}: cannot read as {self.format.upper()}: {_first_line(exc)}") from None
        if not len(self.schema):
            raise UserInputError(f"{self.path}: no columns")
        self._tolerant = False

    def _read_schema(self) -> pa.Schema:
        if self._captures is not None:
            return self._captures.schema
        if self.format == "parquet":
            return pq.ParquetFile(self.path).schema_arrow
        with pacsv.open_csv(self.path, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES)) as reader:
            return reader.schema

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def inferred_kinds(self) -> ColumnKinds:
        """Numeric columns by their stored type; everything else is categorical."""
        numeric = [f.name for f in self.schema if _is_numeric(f.type)]
        return ColumnKinds(numeric, [f.name for f in self.schema if f.name not in numeric])

    def row_count(self) -> int | None:
        if self._captures is not None:
            return self._captures.num_rows
        if self.format == "parquet":
            return pq.ParquetFile(self.path).metadata.num_rows
        return None

    def require(self, columns: list[str], role: str) -> None:
        missing = [c for c in columns if c not in self.schema.names]
        if missing:
            raise UserInputError(f"{self.path}: {role} data lacks column(s) {', '.join(repr(c) for c in missing)}")

    def read_columns(self, names: list[str]) -> dict[str, np.ndarray]:
        """Whole columns in memory (training needs all rows at once); numbers as float64."""
        try:
            if self._captures is not None:
                table = self._captures.select(names)
            elif self.format == "parquet":
                table = pq.read_table(self.path, columns=names)
            else:
                table = pacsv.read_csv(self.path, convert_options=pacsv.ConvertOptions(include_columns=names))
        except (pa.ArrowException, OSError) as exc:
            raise UserInputError(f"{self.path}: cannot read: {_first_line(exc)}") from None
        columns = {}
        for name in names:
            column = table.column(name).combine_chunks()
            numeric = _is_numeric(column.type)
            columns[name] = (
                pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
                if numeric
                else column.to_numpy(zero_copy_only=False)
            )
        return columns

    def batches(
        self, numeric: list[str], categorical: list[str], precount: frozenset[str] = frozenset()
    ) -> Iterator[dict[str, np.ndarray | CategoryCounts]]:
        """Yield the named columns batch by batch; `precount` columns come as CategoryCounts."""
        wanted = [c for c in dict.fromkeys([*numeric, *categorical]) if c in self.schema.names]
        try:
            for record_batch in self._record_batches(wanted):
                yield {name: _convert(record_batch.column(name), name in numeric, name in precount) for name in wanted}
        except RereadNeededError:
            raise
        except (pa.ArrowException, OSError) as exc:
            raise UserInputError(f"{self.path}: cannot read: {_first_line(exc)}") from None

    def _record_batches(self, wanted: list[str]) -> Iterator[pa.RecordBatch]:
        if self._captures is not None:
            yield from self._captures.select(wanted).to_batches(max_chunksize=BATCH_ROWS)
            return
        if self.format == "parquet":
            parquet = pq.ParquetFile(self.path, pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES)
            yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=wanted, use_threads=False)
            return
        convert = pacsv.ConvertOptions(include_columns=wanted)
        if self._tolerant:
            # Every column as text; the profile counts what does not parse as a type error.
            convert = pacsv.ConvertOptions(include_columns=wanted, column_types=dict.fromkeys(wanted, pa.string()))
        reader = pacsv.open_csv(
            self.path, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES), convert_options=convert
        )
        with reader:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except pa.ArrowInvalid as exc:
                    if not self._tolerant and "conversion error" in str(exc).lower():
                        raise RereadNeededError from None
                    raise
                yield batch

    def read_tolerantly(self) -> None:
        """Switch to reading every CSV column as text (after a value broke the inferred types)."""
        self._tolerant = True


def _convert(column: pa.Array, numeric: bool, precount: bool) -> np.ndarray | CategoryCounts:
    if numeric and _is_numeric(column.type):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    if precount and not numeric:
        missing = column.null_count
        text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
        counted = pc.value_counts(text.drop_null())
        labels = counted.field(0).to_pylist()
        counts = counted.field(1).to_pylist()
        empty = sum(n for label, n in zip(labels, counts, strict=True) if label == "")
        return CategoryCounts(
            counts={label: n for label, n in zip(labels, counts, strict=True) if label != ""},
            missing=missing + empty,
            rows=len(column),
        )
    return column.to_numpy(zero_copy_only=False)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
