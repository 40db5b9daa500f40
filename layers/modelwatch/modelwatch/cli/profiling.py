"""Profile a data file, or load a saved profile, with a progress display."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from rich.progress import Progress

from modelwatch.cli.reading import advance, progress_task, read_at_most_twice, reading_plan
from modelwatch.cli.tabular import TableFile
from modelwatch.profiles import DatasetProfile, ProfileBuilder, ProfileSchema, is_profile_file
from modelwatch.profiles.chunking import ChunkedProfile, ChunkPlan
from modelwatch.spec.models import MonitoringSpec

# The input `modelwatch drift` cuts into chunks (drift over time).
CHUNKED_INPUT = "current"


def profile_table(
    table: TableFile,
    spec: MonitoringSpec,
    label: str,
    progress: Progress | None = None,
    chunks: int | None = None,
    loss_model: bytes | None = None,
    reconstruction: Any = None,
) -> DatasetProfile:
    """Stream the table into a profile; `chunks` > 0 keeps that many consecutive chunks.
    `loss_model` (regression): DLE's loss model, run on every record as it is read.
    `reconstruction` (a baseline's PCA model) profiles each row's reconstruction error too."""
    reading = reading_plan(table, spec, loss_model, reconstruction)
    schema, numeric, categorical, roles = reading.schema, reading.numeric, reading.categorical, reading.roles
    total = table.row_count()
    chunk_rows = None
    if chunks:
        total = total if total is not None else count_csv_rows(table.path)
        chunk_rows = max(1, -(-total // chunks))
    # Features not needed row by row are counted by Arrow; roles must stay aligned per row, and
    # a loss model reads every feature of each record.
    per_record = chunk_rows is not None or schema.expected_losses is not None
    precount = frozenset() if per_record else frozenset(c for c in schema.categorical if c not in roles)
    if not per_record and table.format == "parquet":
        return _profile_by_columns(table, schema, numeric, categorical, roles, precount, label, progress, total)

    def read() -> DatasetProfile:
        builder = ProfileBuilder(schema, chunk_rows=chunk_rows)
        with progress_task(progress, label, total) as task:
            for batch in table.batches(numeric, categorical, precount):
                builder.add(batch)
                advance(progress, task, len(next(iter(batch.values()))))
        return builder.result()

    return read_at_most_twice(table, read)


def _profile_by_columns(
    table: TableFile,
    schema: ProfileSchema,
    numeric: list[str],
    categorical: list[str],
    roles: list[str],
    precount: frozenset[str],
    label: str,
    progress: Progress | None,
    total: int | None,
) -> DatasetProfile:
    """Parquet is columnar: stream one column at a time (the roles together, as performance
    pairs them row by row). Memory then holds one column's pages, not every column's."""
    # The numeric features together: multivariate drift profiles them row by row.
    together = [c for c in schema.numeric if c not in roles] if len(schema.numeric) >= 2 else []
    groups = [together] if together else []
    groups += [[c] for c in dict.fromkeys([*numeric, *categorical]) if c not in roles and c not in together]
    groups += [roles]
    # Roles the spec names may be absent (a window without labels): read what is there.
    groups = [[c for c in group if c in table.columns] for group in groups]
    groups = [group for group in groups if group]
    task = progress.add_task(label, total=total) if progress is not None else None
    parts = []
    try:
        for group in groups:
            builder = ProfileBuilder(schema)
            group_numeric = [c for c in group if c in numeric]
            group_categorical = [c for c in group if c in categorical]
            for batch in table.batches(group_numeric, group_categorical, precount):
                builder.add(batch)
                advance(progress, task, len(next(iter(batch.values()))) / len(groups))
            parts.append(builder.result())
    finally:
        if progress is not None and task is not None:
            progress.remove_task(task)
    return DatasetProfile.side_by_side(parts)


def count_csv_rows(path: Path) -> int:
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1  # a last line without a newline
    return max(lines - 1, 0)  # minus the header


class _CountingProgress:
    """Stands in for a rich Progress inside a worker: publishes rows done to a shared counter."""

    def __init__(self, counter: Synchronized) -> None:
        self.counter = counter

    def add_task(self, description: str, total: int | None = None) -> int:
        return 0

    def advance(self, task: int, rows: float) -> None:
        with self.counter.get_lock():
            self.counter.value += int(rows)

    def remove_task(self, task: int) -> None:
        pass


def _profile_in_worker(
    path: str,
    spec_document: dict,
    label: str,
    counter: Synchronized,
    loss_model: bytes | None,
    chunking: ChunkPlan | None = None,
) -> bytes:
    from modelwatch.spec import parse_spec

    # The parent process validated the spec, deployable or for this command alone; the worker
    # rebuilds it from its dump, which is no deployment.
    spec = parse_spec(spec_document, deployable=False)
    progress = _CountingProgress(counter)
    if chunking is not None and label == CHUNKED_INPUT:
        from modelwatch.cli.chunked_profiling import profile_in_chunks

        table = TableFile(path, spec, timestamp=chunking.timestamp)
        return profile_in_chunks(table, spec, chunking, label, progress, loss_model).to_json()  # type: ignore[arg-type]
    chunks = calibration_chunks(spec, label)
    profile = profile_table(TableFile(path, spec), spec, label, progress, chunks=chunks, loss_model=loss_model)  # type: ignore[arg-type]
    return profile.to_json()


_workers_counters: dict[str, Synchronized] = {}


def _remember_counters(counters: dict[str, Synchronized]) -> None:
    _workers_counters.update(counters)


def _worker_job(
    path: str, spec_document: dict, label: str, loss_model: bytes | None, chunking: ChunkPlan | None
) -> bytes:
    return _profile_in_worker(path, spec_document, label, _workers_counters[label], loss_model, chunking)


def calibration_chunks(spec: MonitoringSpec, label: str) -> int | None:
    """A reference read from a data file keeps its chunks when any feature's threshold is
    "calibrated", so such a spec runs on a CSV or Parquet reference too, not only on a saved one."""
    if label != "reference":
        return None
    calibrated = any(spec.feature_drift(name).threshold == "calibrated" for name in spec.features)
    return spec.drift.calibration_chunks if calibrated else None


def baseline_model(reference: DatasetProfile | None, spec: MonitoringSpec) -> Any:
    """A saved baseline's PCA, so the window's rows are scored as records are profiled (their
    errors then merge like any column). Two tables profile in parallel: the window falls back
    to its row sample there."""
    if reference is None or reference.multivariate is None or not spec.drift.multivariate.pca_reconstruction:
        return None
    if len(reference.multivariate.features) < 2 or not reference.multivariate.count:
        return None
    from modelwatch.stats.pca import reference_model

    return reference_model(reference.multivariate, spec.drift)


def usable_cpus() -> int:
    """The CPUs this process may run on (`taskset`, a container's cpuset), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def profile_inputs(
    inputs: dict[str, str],
    spec: MonitoringSpec,
    progress: Progress,
    while_waiting: Callable[[], object] = lambda: None,
    loss_model: bytes | None = None,
) -> dict[str, DatasetProfile]:
    """Profile several files at once (see profile_inputs_and_chunks)."""
    profiles, _ = profile_inputs_and_chunks(inputs, spec, progress, while_waiting, loss_model)
    return profiles


def profile_inputs_and_chunks(
    inputs: dict[str, str],
    spec: MonitoringSpec,
    progress: Progress,
    while_waiting: Callable[[], object] = lambda: None,
    loss_model: bytes | None = None,
    chunking: ChunkPlan | None = None,
) -> tuple[dict[str, DatasetProfile], ChunkedProfile | None]:
    """Profile several files at once, one process each (the sketches hold the GIL) up to the CPUs
    this process may use, in this process when it may use one; load saved profiles.
    With `chunking`, the CHUNKED_INPUT table is also profiled chunk by chunk, in the same read.

    Files are checked (readable, every feature column present) before any work starts.
    `while_waiting` runs in this process while the workers profile (e.g. slow imports).
    """
    profiles: dict[str, DatasetProfile] = {}
    tables: dict[str, TableFile] = {}
    chunked: ChunkedProfile | None = None
    for label, path in inputs.items():
        if is_profile_file(path):
            profiles[label] = DatasetProfile.load(path)
        else:
            timestamp = chunking.timestamp if chunking is not None and label == CHUNKED_INPUT else None
            tables[label] = TableFile(path, spec, timestamp=timestamp)
            tables[label].require(list(spec.features), label)
    workers = min(len(tables), usable_cpus())
    if workers < 2:
        # One file, or one CPU: a worker would only add a process's memory and a copy of each
        # profile, never speed.
        model = baseline_model(profiles.get("reference"), spec)
        for label, table in tables.items():
            if chunking is not None and label == CHUNKED_INPUT:
                from modelwatch.cli.chunked_profiling import profile_in_chunks

                chunked = profile_in_chunks(table, spec, chunking, label, progress, loss_model, model)
                profiles[label] = chunked.whole
                continue
            chunks = calibration_chunks(spec, label)
            profiles[label] = profile_table(
                table, spec, label, progress, chunks=chunks, loss_model=loss_model, reconstruction=model
            )
        while_waiting()
        return profiles, chunked
    # Objects imported so far move to a permanent generation: the workers' garbage collector
    # then leaves them alone instead of copying every page it touches (copy-on-write).
    gc.freeze()
    context = multiprocessing.get_context("fork")
    counters = {label: context.Value("q", 0) for label in tables}
    document = spec.model_dump(mode="json")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_remember_counters, initargs=(counters,)) as pool:
        futures = {
            label: pool.submit(_worker_job, str(t.path), document, label, loss_model, chunking)
            for label, t in tables.items()
        }
        tasks = {label: progress.add_task(label, total=t.row_count()) for label, t in tables.items()}
        while_waiting()
        while not all(f.done() for f in futures.values()):
            for label, task in tasks.items():
                progress.update(task, completed=counters[label].value)
            wait(list(futures.values()), timeout=0.1)
        for label, future in futures.items():
            if chunking is not None and label == CHUNKED_INPUT:
                chunked = ChunkedProfile.from_json(future.result())
                profiles[label] = chunked.whole
            else:
                profiles[label] = DatasetProfile.from_json(future.result())
            progress.remove_task(tasks[label])
    return profiles, chunked
