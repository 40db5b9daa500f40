"""`modelwatch drift --timestamp COL --chunk-period 1h|1d|1w` (or `--chunk-size N`): the flags,
their checks, and each chunk's analysis with a progress bar. Only argparse at import: `main`
adds the flags on every start, and the chunk machinery loads when a run asks for it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from modelwatch.errors import UserInputError

if TYPE_CHECKING:
    from rich.console import Console

    from modelwatch.drift.chunks import ChunkedDrift
    from modelwatch.profiles import DatasetProfile
    from modelwatch.profiles.chunking import ChunkedProfile, ChunkPlan
    from modelwatch.spec import MonitoringSpec

PERIODS = ("1h", "1d", "1w")


def add_chunk_options(parser: argparse.ArgumentParser) -> None:
    over_time = parser.add_argument_group(
        "drift over time",
        "check each chunk of --current against the reference too (the whole file is still judged as one); "
        "periods are calendar hours, days or ISO weeks (from Monday) in UTC",
    )
    over_time.add_argument(
        "--timestamp",
        metavar="COL",
        help="column holding each row's time: ISO 8601 text (no zone: UTC) or a datetime column; "
        "for a capture folder, 'timestamp' is each record's serving time",
    )
    cut = over_time.add_mutually_exclusive_group()
    cut.add_argument("--chunk-period", choices=PERIODS, help="one chunk per hour, day or week of --timestamp")
    cut.add_argument(
        "--chunk-size",
        type=int,
        metavar="N",
        help="one chunk per N consecutive rows in file order (sort by time first); "
        "with --timestamp each chunk is labelled with its first and last time",
    )


def chunk_plan(args: argparse.Namespace) -> ChunkPlan | None:
    """The chunking the flags ask for; None without them."""
    timestamp = getattr(args, "timestamp", None)
    period, size = getattr(args, "chunk_period", None), getattr(args, "chunk_size", None)
    if period is None and size is None:
        if timestamp is not None:
            raise UserInputError("--timestamp needs --chunk-period or --chunk-size: how long a chunk is")
        return None
    from modelwatch.profiles.chunking import ChunkPlan

    return ChunkPlan(timestamp=timestamp, period=period, size=size)


def without_time_column(spec: MonitoringSpec, plan: ChunkPlan) -> MonitoringSpec:
    """The time column is the chunks' axis, never a feature (an inferred spec would take it for
    one: every value new, so always "drifted")."""
    if plan.timestamp is None or plan.timestamp not in spec.features:
        return spec
    from modelwatch.spec import parse_spec

    document = spec.model_dump(mode="json", exclude_unset=True)
    document["features"].pop(plan.timestamp)
    if not document["features"]:
        raise UserInputError(f"--timestamp {plan.timestamp}: the spec has no feature besides the time column")
    return parse_spec(document, "<spec without the time column>", deployable=False)


def require_time_column(plan: ChunkPlan, current: str, spec: MonitoringSpec) -> None:
    """`--current` must be a table holding the column: checked before any row is read."""
    if plan.timestamp is None:
        return
    from modelwatch.cli.tabular import TableFile
    from modelwatch.profiles import is_profile_file

    if is_profile_file(current):
        raise UserInputError(f"{current}: a saved profile has no rows to cut into chunks; give the table itself")
    columns = TableFile(current, spec, timestamp=plan.timestamp).columns
    if plan.timestamp not in columns:
        raise UserInputError(
            f"{current}: no column {plan.timestamp!r} for --timestamp (its columns: {', '.join(sorted(columns)[:12])})"
        )


def analyze_over_time(
    spec: MonitoringSpec, reference: DatasetProfile, chunked: ChunkedProfile, plan: ChunkPlan, console: Console
) -> ChunkedDrift:
    """Each chunk against the reference, with a bar: a chunk's analysis takes up to a second."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from modelwatch.drift.chunks import analyze_chunks

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task(f"drift by {plan.by}", total=len(chunked.chunks))
        return analyze_chunks(spec, reference, chunked.chunks, plan, lambda: progress.advance(task))
