"""Read a table once into its whole profile and one profile per chunk (drift over time)."""

from __future__ import annotations

from typing import Any

from rich.progress import Progress

from modelwatch.cli.reading import advance, progress_task, read_at_most_twice, reading_plan
from modelwatch.cli.tabular import TableFile
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

    def read() -> ChunkedProfile:
        assigner = ChunkAssigner(plan)
        builder = GroupedProfileBuilder(reading.schema)
        with progress_task(progress, label, table.row_count()) as task:
            for batch in table.batches(reading.numeric, categorical):
                rows = len(next(iter(batch.values())))
                times = None
                if plan.timestamp is not None:
                    times = utc_microseconds(batch.pop(plan.timestamp), plan.timestamp)  # type: ignore[arg-type]
                builder.add(batch, assigner.keys(times, rows))
                advance(progress, task, rows)
        whole, groups = builder.result()
        return ChunkedProfile(
            whole, [(chunk, groups.get(chunk.key) or DatasetProfile()) for chunk in assigner.chunks()]
        )

    return read_at_most_twice(table, read)
