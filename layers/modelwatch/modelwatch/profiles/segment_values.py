"""A row's segment value: the tuple of its `by` columns' labels, encoded as one string per row
so that numpy can group a batch's rows by it in one call."""

from __future__ import annotations

import math

import numpy as np

from modelwatch.labels import label_of
from modelwatch.profiles.builder import Batch

# A segment value is the tuple of the row's labels of the segment's `by` columns; None stands
# for "other", every value not kept (beyond max_values, or never seen in the baseline).
SegmentValue = tuple[str, ...] | None
OTHER = "other"
# How a missing `by` value is labelled: missing is a value of its own (a client that sends no
# region is a slice worth watching), not a row to drop.
MISSING = "(missing)"
# Joins a row's labels into one key; a control character no label is expected to hold.
SEPARATOR = "\x1f"
# The encoded key of "other": no encoded value is empty (a missing label is MISSING).
OTHER_KEY = ""


def _label(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return MISSING
    return value if isinstance(value, str) else label_of(value)


def row_labels(values: object) -> np.ndarray:
    """Each row's label of one column (missing values labelled MISSING), as an object array."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return array.astype(str).astype(object)
    return np.array([_label(value) for value in array.tolist()], dtype=object)


def row_keys(batch: Batch, by: list[str]) -> np.ndarray:
    """Each row's encoded segment value. A `by` column the batch lacks is missing on every row."""
    rows = len(next(iter(batch.values())))
    labels = [row_labels(batch[name]) if name in batch else np.full(rows, MISSING, dtype=object) for name in by]
    keys = labels[0]
    for more in labels[1:]:
        keys = keys + SEPARATOR + more
    return keys


def encode(value: SegmentValue) -> str:
    return OTHER_KEY if value is None else SEPARATOR.join(value)


def decode(key: str) -> SegmentValue:
    return None if key == OTHER_KEY else tuple(key.split(SEPARATOR))
