"""Read a table once into its whole profile and one profile per chunk (drift over time)."""

from __future__ import annotations

from typing import Any

from rich.progress import Progress

from modelwatch.cli.reading import reading_plan
from modelwatch.cli.tabular import RereadNeededError, TableFile
from modelwatch.profiles import DatasetProfile
from modelwatch.profiles.chunking import ChunkAssigner, ChunkedProfile, ChunkPlan
from modelwatch.profiles.grouped import GroupedProfileBuilder
from modelwatch.profiles.timestamps import utc_microseconds
from modelwatch.spec.models import MonitoringSpec


def profile_in_chunks(
    table: TableFile,
    spec: MonitoringSpec,
    plan: ChunkPlan,
    label: str,
    progress: Progress | None = None,
    loss_model: bytes | None = None,
    reconstruction: Any = None,
) -> ChunkedProfile:
    """Every row goes to the whole profile and to its chunk's, so the whole window is judged as
    without chunks. Rows are read as values, not counted in advance: they are split by chunk."""
    reading = reading_plan(table, spec, loss_model, reconstruction)
    categorical = [*reading.categorical, *([plan.timestamp] if plan.timestamp else [])]
    for attempt in (1, 2):
        assigner = ChunkAssigner(plan)
        builder = GroupedProfileBuilder(reading.schema)
        task = progress.add_task(label, total=table.row_count()) if progress is not None else None
        try:
            for batch in table.batches(reading.numeric, categorical):
                rows = len(next(iter(batch.values())))
                times = None
                if plan.timestamp is not None:
                    times = utc_microseconds(batch.pop(plan.timestamp), plan.timestamp)  # type: ignore[arg-type]
                builder.add(batch, assigner.keys(times, rows))
                if progress is not None and task is not None:
                    progress.advance(task, rows)
            break
        except RereadNeededError:
            if attempt == 2:
                raise
            table.read_tolerantly()
        finally:
            if progress is not None and task is not None:
                progress.remove_task(task)
    whole, groups = builder.result()
    return ChunkedProfile(whole, [(chunk, groups.get(chunk.key) or DatasetProfile()) for chunk in assigner.chunks()])
