"""Which columns a profile of a table reads, and how: shared by the whole-table profiler and the
chunked one, so both see a table the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from rich.progress import Progress, TaskID

from modelwatch.cli.tabular import RereadNeededError, TableFile
from modelwatch.dle import LossModel, loss_columns
from modelwatch.profiles import ProfileSchema
from modelwatch.spec.models import MonitoringSpec


@dataclass(frozen=True)
class ReadingPlan:
    """What a profile of `table` reads: its schema, and which columns as numbers or as labels."""

    schema: ProfileSchema
    numeric: list[str]
    categorical: list[str]
    roles: list[str]


def reading_plan(
    table: TableFile, spec: MonitoringSpec, loss_model: bytes | None = None, reconstruction: Any = None
) -> ReadingPlan:
    schema = replace(ProfileSchema.from_spec(spec), reconstruction=reconstruction)
    if loss_model is not None and spec.task == "regression" and schema.prediction is not None:
        schema = replace(
            schema, expected_losses=partial(loss_columns, LossModel.from_bytes(loss_model), schema.prediction)
        )
    score_columns = list(schema.class_score_columns(table.columns).values())
    roles = [c for c in (schema.target, schema.prediction, schema.score) if c is not None] + score_columns
    numeric = [*schema.numeric, *schema.numeric_roles, *score_columns]
    categorical = [
        *schema.categorical,
        *(c for c in (schema.target, schema.prediction) if c is not None and c not in schema.numeric_roles),
    ]
    return ReadingPlan(schema, numeric, categorical, roles)


T = TypeVar("T")


def read_at_most_twice(table: TableFile, read: Callable[[], T]) -> T:
    """`read()`, and once more, tolerantly, if it met what a strict read refuses
    (RereadNeededError): a second refusal is the table's fault and is raised."""
    try:
        return read()
    except RereadNeededError:
        table.read_tolerantly()
    return read()


@contextmanager
def progress_task(progress: Progress | None, label: str, total: float | None) -> Iterator[TaskID | None]:
    """A progress bar for one read of a table, removed when the read ends (either way)."""
    task = progress.add_task(label, total=total) if progress is not None else None
    try:
        yield task
    finally:
        if progress is not None and task is not None:
            progress.remove_task(task)


def advance(progress: Progress | None, task: TaskID | None, rows: float) -> None:
    """Move a read's progress bar on by the rows just read (no bar: nothing)."""
    if progress is not None and task is not None:
        progress.advance(task, rows)
