"""One profile of every row and one per group of rows (e.g. a time chunk), from the same batches:
a table is read once however many groups its rows fall in."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from modelwatch.profiles.builder import Batch, ProfileBuilder, ProfileSchema
from modelwatch.profiles.coercion import CategoryCounts
from modelwatch.profiles.dataset import DatasetProfile


class GroupedProfileBuilder:
    def __init__(self, schema: ProfileSchema) -> None:
        self.schema = schema
        self.whole = ProfileBuilder(schema)
        self._groups: dict[Hashable, ProfileBuilder] = {}

    def add(self, batch: Batch, keys: np.ndarray) -> None:
        """`keys[i]` is the group of the batch's row i."""
        self.whole.add(batch)
        add_by_group(self._groups, self.schema, batch, keys)

    def result(self) -> tuple[DatasetProfile, dict[Hashable, DatasetProfile]]:
        """The whole profile, and each group's (a group without rows has none)."""
        return self.whole.result(), {key: builder.result() for key, builder in self._groups.items()}


def add_by_group(groups: dict[Hashable, ProfileBuilder], schema: ProfileSchema, batch: Batch, keys: np.ndarray) -> None:
    """Each of the batch's rows into its group's builder (`keys[i]`: row i's group), created on
    first sight. Shared by the chunked and the segmented profilers."""
    if any(isinstance(values, CategoryCounts) for values in batch.values()):
        raise ValueError("rows counted in advance cannot be split into groups")
    unique, inverse = np.unique(keys, return_inverse=True)
    for position, key in enumerate(unique.tolist()):
        builder = groups.setdefault(key, ProfileBuilder(schema))
        if len(unique) == 1:
            builder.add(batch)  # the usual case for rows in time order: no copy
            continue
        rows = np.flatnonzero(inverse == position)
        builder.add({name: np.asarray(values)[rows] for name, values in batch.items()})
