"""Turn raw column values into what profiles count: finite floats, or category strings.

Captured data is messy: numbers arrive as strings, booleans or nulls. Values that cannot be
read as a finite number are counted as type errors, never silently dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from modelwatch.labels import label_of


@dataclass(frozen=True)
class CategoryCounts:
    """A categorical column already counted by the reader (e.g. Arrow's value_counts)."""

    counts: dict[str, int]
    missing: int
    rows: int

    def __len__(self) -> int:
        return self.rows


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def as_finite_floats(values: np.ndarray | list) -> tuple[np.ndarray, int, int]:
    """Return (finite values, missing count, type-error count)."""
    array = np.asarray(values)
    if array.dtype.kind in "iuf":
        floats = array.astype(np.float64, copy=False)
        finite = np.isfinite(floats)
        if finite.all():
            return floats, 0, 0
        missing = int(np.isnan(floats).sum())
        return floats[finite], missing, int(len(floats) - finite.sum()) - missing
    if array.dtype.kind == "b":
        return np.empty(0), 0, len(array)
    parsed: list[float] = []
    missing = type_errors = 0
    for value in array.tolist():
        if _is_missing(value) or (isinstance(value, str) and value.strip() == ""):
            missing += 1
            continue
        if isinstance(value, bool):
            type_errors += 1
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            type_errors += 1
            continue
        if math.isfinite(number):
            parsed.append(number)
        else:
            type_errors += 1
    return np.asarray(parsed, dtype=np.float64), missing, type_errors


def as_labels(values: np.ndarray | list) -> tuple[list[str], int]:
    """Return (category labels of the non-missing values, missing count)."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return [str(v) for v in array.tolist()], 0
    if array.dtype.kind == "f":
        nan = np.isnan(array)
        return [label_of(v) for v in array[~nan].tolist()], int(nan.sum())
    labels: list[str] = []
    missing = 0
    for value in array.tolist():
        if _is_missing(value) or (isinstance(value, str) and value == ""):
            missing += 1
        elif isinstance(value, str):
            labels.append(value)
        else:
            labels.append(label_of(value))
    return labels, missing
