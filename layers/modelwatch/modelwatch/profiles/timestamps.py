"""A timestamp column's values as UTC microseconds since the epoch, whatever form a table gave
them in: a datetime column (CSV inference, Parquet), dates, or ISO 8601 text with or without a
zone offset. Time without a zone is read as UTC, so chunk boundaries never depend on where the
command runs."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelwatch.errors import UserInputError

MICROSECONDS = "datetime64[us]"


def utc_microseconds(values: np.ndarray, column: str) -> np.ndarray:
    """int64 microseconds since 1970-01-01 UTC, one per value; a value that is missing or does
    not parse is an error naming the column (a row without a time has no chunk to go in)."""
    if values.dtype.kind == "M":
        parsed = values.astype(MICROSECONDS)
        _require_all(column, values, np.isnat(parsed))
        return parsed.astype(np.int64)
    if values.dtype.kind in "iufb":
        raise UserInputError(
            f"--timestamp {column}: the column holds numbers, not times (give ISO 8601 text or a datetime column)"
        )
    return _parsed_text(values, column)


def _parsed_text(values: np.ndarray, column: str) -> np.ndarray:
    items = values.tolist()
    if all(isinstance(item, datetime) for item in items):
        return np.array([_aware(item) for item in items], dtype=np.int64)
    text = pa.array([None if item is None else str(item).strip() for item in items], pa.string())
    # Arrow parses one form per array fast: all with a zone, or all without one.
    for target in (pa.timestamp("us", "UTC"), pa.timestamp("us")):
        try:
            parsed = pc.cast(text, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        missing = np.asarray(parsed.is_null().to_numpy(zero_copy_only=False))
        _require_all(column, values, missing)
        return parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)
    # Forms mixed in one batch (offsets on some rows only, dates beside times): one by one.
    return np.array([_one(item, column) for item in text.to_pylist()], dtype=np.int64)


def _one(text: str | None, column: str) -> int:
    try:
        return _aware(datetime.fromisoformat(text or ""))
    except ValueError:
        raise UserInputError(
            f"--timestamp {column}: {text!r} is not a time (expected ISO 8601, e.g. 2026-01-05T14:30:00Z)"
        ) from None


def _aware(moment: datetime) -> int:
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _require_all(column: str, values: np.ndarray, missing: np.ndarray) -> None:
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        shown = values[first]
        what = "no time" if shown is None or (isinstance(shown, float) and shown != shown) else repr(str(shown))
        raise UserInputError(
            f"--timestamp {column}: {int(missing.sum()):,} row(s) without a readable time "
            f"(the first holds {what}; expected ISO 8601, e.g. 2026-01-05T14:30:00Z)"
        )


def iso(microseconds: int) -> str:
    """The UTC time as ISO 8601 with a Z, to the second (chunk bounds are whole hours or rows' times)."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + np.timedelta64(int(microseconds), "us").astype(object)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
