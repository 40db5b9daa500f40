"""Drift check throughput: ModelWatch against Evidently 0.7's DataDriftPreset on the same files.

1M reference and 1M current rows (8 numeric, 2 categorical columns; 3 numeric columns shifted
by 0.25 sigma) are written to CSV; each tool then runs as a fresh process on those files,
reading included. Evidently runs from a virtual environment of its own (.venv-evidently,
created on first use: it needs pandas < 3).

Two lines: both tools pinned to one CPU (`taskset -c 0`: ModelWatch then starts no worker
process), and both free to use the machine's CPUs. Memory is each process tree's exact peak
(benchmarks/process_tree.py: the kernel's high-water mark of every process, summed); CPU time
is printed beside wall time. Judged on the one-CPU line: ModelWatch's time at most 0.1 of
Evidently's and peak memory at most 0.5, counted only when both tools flag the same columns.
ModelWatch runs three times per line (median time, worst peak); Evidently once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from benchmarks.process_tree import Measurement, measure

ROOT = Path(__file__).resolve().parent.parent
EVIDENTLY_VENV = ROOT / ".venv-evidently"
EVIDENTLY_PACKAGES = ["evidently==0.7.23", "pandas==2.3.3", "pyarrow==26.0.1"]
NUMERIC = [f"n{i}" for i in range(8)]
CATEGORICAL = ["c0", "c1"]
SHIFTED = ("n1", "n4", "n6")


def write_data(folder: Path, rows: int) -> tuple[Path, Path]:
    paths = []
    for name, seed, shift in (("reference", 1, 0.0), ("current", 2, 0.25)):
        rng = np.random.default_rng(seed)
        columns = {}
        for i, column in enumerate(NUMERIC):
            sigma = 1.0 + i
            columns[column] = rng.normal(10.0 * i + (shift * sigma if column in SHIFTED else 0.0), sigma, rows)
        columns["c0"] = rng.choice(["x", "y", "z"], rows, p=[0.5, 0.3, 0.2])
        columns["c1"] = rng.choice(["p", "q", "r", "s"], rows)
        path = folder / f"{name}.csv"
        pacsv.write_csv(pa.table(columns), path)
        paths.append(path)
    return paths[0], paths[1]


def evidently_python() -> Path:
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        print("creating .venv-evidently (first run only) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *EVIDENTLY_PACKAGES], check=True)
    return python


SINGLE_CORE = 0  # the one CPU both tools run on in the one-CPU line


def _modelwatch(reference: Path, current: Path, folder: Path, core: int | None) -> tuple[Measurement, list[str]]:
    output = folder / "drift.json"
    command = [str(Path(sys.executable).parent / "modelwatch"), "drift", "--reference", str(reference)]
    command += ["--current", str(current), "--json", str(output)]
    # Three runs, median time and worst peak: one run of a 1-second tool on a shared 2-core
    # machine is mostly noise; Evidently's 35-second run varies by a few percent.
    runs = [measure(command, core=core) for _ in range(3)]
    print("  modelwatch runs (s): " + ", ".join(f"{r.seconds:.2f}" for r in runs), flush=True)
    failed = [r for r in runs if r.returncode not in (0, 1)]
    if failed:
        sys.exit(f"modelwatch failed: {failed[0].stderr}")
    document = json.loads(output.read_text())
    combined = Measurement(
        seconds=statistics.median(r.seconds for r in runs),
        peak_mb=max(r.peak_mb for r in runs),
        cpu_seconds=statistics.median(r.cpu_seconds for r in runs),
        returncode=0,
        stdout=runs[-1].stdout,
        stderr=runs[-1].stderr,
        processes=max(r.processes for r in runs),
    )
    return combined, sorted(f["name"] for f in document["features"] if f["drifted"])


def _evidently_run(reference: Path, current: Path, core: int | None) -> tuple[Measurement, list[str]]:
    command = [str(evidently_python()), str(Path(__file__).with_name("evidently_drift.py")), str(reference)]
    command += [str(current), ",".join(NUMERIC), ",".join(CATEGORICAL)]
    result = measure(command, core=core)
    if result.returncode != 0:
        sys.exit(f"evidently failed: {result.stderr[-2000:]}")
    return result, sorted(json.loads(result.stdout.strip().splitlines()[-1])["drifted"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        reference, current = write_data(folder, args.rows)
        print(f"data: {args.rows:,} reference + {args.rows:,} current rows from CSV, 8 numeric + 2 categorical columns")
        for label, core in (("one CPU", SINGLE_CORE), (f"{len(os.sched_getaffinity(0))} CPUs", None)):
            print(f"{label}:", flush=True)
            ours, our_drifted = _modelwatch(reference, current, folder, core)
            theirs, their_drifted = _evidently_run(reference, current, core)
            lines.append((label, ours, our_drifted, theirs, their_drifted))

    print("peak memory: each process tree's exact peak (every process's high-water mark, summed)")
    print(f"{'CPUs':<9}{'tool':<12}{'wall s':>9}{'CPU s':>9}{'peak MB':>9}{'procs':>7}  drifted columns")
    for label, ours, our_drifted, theirs, their_drifted in lines:
        for name, result, drifted in (("modelwatch", ours, our_drifted), ("evidently", theirs, their_drifted)):
            print(
                f"{label:<9}{name:<12}{result.seconds:>9.2f}{result.cpu_seconds:>9.2f}{result.peak_mb:>9.0f}"
                f"{result.processes:>7}  {drifted}"
            )
        agree = our_drifted == their_drifted
        print(
            f"{label:<9}{'ratio':<12}{ours.seconds / theirs.seconds:>9.3f}{ours.cpu_seconds / theirs.cpu_seconds:>9.3f}"
            f"{ours.peak_mb / theirs.peak_mb:>9.2f}{'':>7}  verdicts {'agree' if agree else 'DIFFER: not judged'}"
        )
    label, ours, our_drifted, theirs, their_drifted = lines[0]
    if our_drifted != their_drifted:
        print(f"ratio: not judged, the verdicts differ ({our_drifted} against {their_drifted})")
        return
    print(
        f"ratio: {label}: time {ours.seconds / theirs.seconds:.3f} of Evidently's (target <= 0.1), "
        f"peak memory {ours.peak_mb / theirs.peak_mb:.2f} (target <= 0.5)"
    )


if __name__ == "__main__":
    main()
