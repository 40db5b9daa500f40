"""Profile a data file, or load a saved profile, with a progress display."""

from __future__ import annotations

from pathlib import Path

from rich.progress import Progress

from modelwatch.cli.tabular import RereadNeeded, TableFile
from modelwatch.profiles import DatasetProfile, ProfileBuilder, ProfileSchema, is_profile_file
from modelwatch.spec.models import MonitoringSpec


def profile_table(
    table: TableFile,
    spec: MonitoringSpec,
    label: str,
    progress: Progress | None = None,
    chunks: int | None = None,
) -> DatasetProfile:
    """Stream the table into a profile; `chunks` > 0 keeps that many consecutive chunks."""
    schema = ProfileSchema.from_spec(spec)
    roles = [c for c in (schema.target, schema.prediction, schema.score) if c is not None]
    numeric = [*schema.numeric, *([schema.score] if schema.score else [])]
    categorical = [*schema.categorical, *(c for c in (schema.target, schema.prediction) if c is not None)]
    total = table.row_count()
    chunk_rows = None
    if chunks:
        total = total if total is not None else _count_csv_rows(table.path)
        chunk_rows = max(1, -(-total // chunks))
    # Features not needed row by row are counted by Arrow; roles must stay aligned per row.
    precount = frozenset() if chunk_rows else frozenset(c for c in schema.categorical if c not in roles)
    for attempt in (1, 2):
        builder = ProfileBuilder(schema, chunk_rows=chunk_rows)
        task = progress.add_task(label, total=total) if progress is not None else None
        try:
            for batch in table.batches(numeric, categorical, precount):
                builder.add(batch)
                if progress is not None and task is not None:
                    progress.advance(task, len(next(iter(batch.values()))))
            return builder.result()
        except RereadNeeded:
            if attempt == 2:
                raise
            table.read_tolerantly()
        finally:
            if progress is not None and task is not None:
                progress.remove_task(task)
    raise AssertionError("unreachable")


def _count_csv_rows(path: Path) -> int:
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1  # a last line without a newline
    return max(lines - 1, 0)  # minus the header


def load_or_profile(path: str, spec: MonitoringSpec, label: str, progress: Progress | None) -> DatasetProfile:
    if is_profile_file(path):
        return DatasetProfile.load(path)
    table = TableFile(path)
    table.require(list(spec.features), label)
    return profile_table(table, spec, label, progress)
