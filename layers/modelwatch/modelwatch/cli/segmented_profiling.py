"""Read a table once into its segments' profiles (`[[segments]]` in the spec): the baseline
keeps its most frequent values, and the window is cut by the values the baseline kept."""

from __future__ import annotations

from rich.progress import Progress

from modelwatch.cli.profiling import count_csv_rows
from modelwatch.cli.reading import advance, progress_task, read_at_most_twice, reading_plan
from modelwatch.cli.tabular import TableFile
from modelwatch.errors import UserInputError
from modelwatch.profiles import DatasetProfile, is_profile_file
from modelwatch.profiles.segment_values import SegmentValue
from modelwatch.profiles.segmented import SegmentedProfile, SegmentedProfileBuilder, ValueCounter
from modelwatch.spec.models import MonitoringSpec


def profile_segments(
    path: str,
    spec: MonitoringSpec,
    label: str,
    progress: Progress | None = None,
    loss_model: bytes | None = None,
    kept: dict[str, list[SegmentValue]] | None = None,
    chunks: int | None = None,
) -> SegmentedProfile:
    """`kept`: the baseline's values (SegmentedProfile.kept), for a window. None for the baseline:
    its `by` columns are counted first (a cheap read of those columns alone), so only the kept
    values are profiled."""
    if is_profile_file(path):
        return saved_segments(path, spec)
    table = TableFile(path, spec)
    reading = reading_plan(table, spec, loss_model)
    missing = sorted({name for segment in spec.segments for name in segment.by} - set(table.columns))
    if missing:
        raise UserInputError(f"{path}: no column {', '.join(map(repr, missing))} to cut the spec's segments by")

    if kept is None:
        kept = _most_frequent(table, spec, progress, label)
    chosen = kept
    total = table.row_count()
    chunk_rows = None
    if chunks:
        total = total if total is not None else count_csv_rows(table.path)
        chunk_rows = max(1, -(-total // chunks))

    def read() -> SegmentedProfile:
        builder = SegmentedProfileBuilder(reading.schema, spec.segments, chosen, chunk_rows)
        with progress_task(progress, label, table.row_count()) as task:
            for batch in table.batches(reading.numeric, reading.categorical):
                builder.add(batch)
                advance(progress, task, len(next(iter(batch.values()))))
        return builder.result()

    return read_at_most_twice(table, read)


def saved_segments(path: str, spec: MonitoringSpec) -> SegmentedProfile:
    """A saved profile's segments: it must hold every segment the spec names (a profile made
    with this spec by `modelwatch profile`, `train` or `import`)."""
    profile = DatasetProfile.load(path)
    missing = [segment.name for segment in spec.segments if segment.name not in profile.segments]
    if missing:
        raise UserInputError(
            f"{path}: the saved profile has no segment {', '.join(map(repr, missing))}; profile the data again "
            "with this spec, or give the rows (a CSV or Parquet file)"
        )
    return SegmentedProfile.of(profile)


def _most_frequent(
    table: TableFile, spec: MonitoringSpec, progress: Progress | None, label: str
) -> dict[str, list[SegmentValue]]:
    by = list(dict.fromkeys(name for segment in spec.segments for name in segment.by))

    def count() -> dict[str, list[SegmentValue]]:
        counter = ValueCounter(spec.segments)
        with progress_task(progress, f"{label}: counting values", table.row_count()) as task:
            for batch in table.batches([], by):
                counter.add(batch)
                advance(progress, task, len(next(iter(batch.values()))))
        return counter.kept()

    return read_at_most_twice(table, count)
