"""Read a table once into its segments' profiles (`[[segments]]` in the spec): the baseline
keeps its most frequent values, and the window is cut by the values the baseline kept."""

from __future__ import annotations

from typing import Any

from rich.progress import Progress

from modelwatch.cli.profiling import count_csv_rows
from modelwatch.cli.reading import advance, progress_task, read_at_most_twice, reading_plan
from modelwatch.cli.tabular import TableFile
from modelwatch.errors import UserInputError
from modelwatch.profiles import DatasetProfile, is_profile_file
from modelwatch.profiles.segment_values import SegmentValue
from modelwatch.profiles.segmented import SegmentCut, SegmentedProfile, SegmentedProfileBuilder, ValueCounter
from modelwatch.spec.models import MonitoringSpec
from modelwatch.spec.segments import Segment


def profile_segments(
    path: str,
    spec: MonitoringSpec,
    label: str,
    progress: Progress | None = None,
    loss_model: bytes | None = None,
    cut: SegmentCut | None = None,
    chunks: int | None = None,
    open_segments: frozenset[str] = frozenset(),
    reconstruction: Any = None,
) -> SegmentedProfile:
    """`cut`: the baseline's values and bins (SegmentedProfile.cut), for a window. None for the baseline:
    its `by` columns are counted first (a cheap read of those columns alone), so only the kept
    values are profiled.

    A request attribute (the spec's [attributes]) is read as a segment key only, never profiled.
    A baseline may lack an attribute's column (training data seldom holds a client id): its
    segments by it are then left out of the result (unsliced_attribute_segments names them), and the
    window, given them as `open_segments`, keeps its own most frequent values of them.
    `reconstruction` (the reference's PCA model): each window row's reconstruction error is
    profiled as it is read."""
    if is_profile_file(path):
        return saved_segments(path, spec)
    table = TableFile(path, spec)
    table.require(list(spec.features), label)
    reading = reading_plan(table, spec, loss_model, reconstruction)
    by_columns = {name for segment in spec.segments for name in segment.by}
    missing = sorted(by_columns - set(table.columns))
    if cut is None:  # the baseline: an attribute it lacks leaves its segments without slices
        missing = [name for name in missing if name not in spec.attributes]
    if missing:
        raise UserInputError(f"{path}: no column {', '.join(map(repr, missing))} to cut the spec's segments by")
    segments = [segment for segment in spec.segments if set(segment.by) <= set(table.columns)]
    attributes = [name for name in spec.segment_attributes if name in table.columns]

    # The baseline: only its most frequent values are profiled, binned over its own bins.
    kept = _most_frequent(table, segments, progress, label) if cut is None else cut.kept
    total = table.row_count()
    chunk_rows = None
    if chunks:
        total = total if total is not None else count_csv_rows(table.path)
        chunk_rows = max(1, -(-total // chunks))

    def read() -> SegmentedProfile:
        builder = SegmentedProfileBuilder(
            reading.schema, segments, cut, chunk_rows, open_segments=open_segments, leave_out=spec.sensitive_features
        )
        if cut is None:
            builder.keep_only(kept)
        with progress_task(progress, label, table.row_count()) as task:
            # The attributes as labels beside the profiled columns: the schema leaves them out
            # of every column profile, the builder cuts segments by them.
            for batch in table.batches(reading.numeric, [*reading.categorical, *attributes]):
                builder.add(batch)
                advance(progress, task, len(next(iter(batch.values()))))
        return builder.result()

    return read_at_most_twice(table, read)


def saved_segments(path: str, spec: MonitoringSpec) -> SegmentedProfile:
    """A saved profile's segments: it must hold every segment the spec names (a profile made
    with this spec by `modelwatch profile`, `train` or `import`), but those cut by a request
    attribute, which a baseline made from data without the attribute's column leaves out."""
    profile = DatasetProfile.load(path)
    missing = [
        segment.name
        for segment in spec.segments
        if segment.name not in profile.segments and not set(segment.by) & set(spec.attributes)
    ]
    if missing:
        raise UserInputError(
            f"{path}: the saved profile has no segment {', '.join(map(repr, missing))}; profile the data again "
            "with this spec, or give the rows (a CSV or Parquet file)"
        )
    return SegmentedProfile.of(profile)


def _most_frequent(
    table: TableFile, segments: list[Segment], progress: Progress | None, label: str
) -> dict[str, list[SegmentValue]]:
    by = list(dict.fromkeys(name for segment in segments for name in segment.by))
    if not by:  # every segment is by an attribute this table lacks: nothing to count
        return {}

    def count() -> dict[str, list[SegmentValue]]:
        counter = ValueCounter(segments)
        with progress_task(progress, f"{label}: counting values", table.row_count()) as task:
            for batch in table.batches([], by):
                counter.add(batch)
                advance(progress, task, len(next(iter(batch.values()))))
        return counter.kept()

    return read_at_most_twice(table, count)
