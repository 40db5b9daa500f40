"""False flags and power per window size: ModelWatch's default rule, and Evidently 0.7's
DataDriftPreset on the same windows for the false-alarm columns.

Ten mixed features (drift_scenarios.py: skewed, heavy-tailed, tied, zero-inflated, bimodal
numeric values; rare, binary and five-level categories) against references of 1,000 and 50,000
rows. Windows are profiled straight from generated arrays, as the capture path profiles records.

- False flags: --windows stable windows (default 400) of 100, 1,000, 10,000 and 100,000 rows.
  The share of windows in which ANY feature is flagged drifted (the per-check rate the spec's
  p_value_threshold bounds, 0.05), and the share with dataset drift.
- Power (50,000-row reference): a 0.5 sd mean shift in one numeric feature, found (that feature
  flagged) in windows of 1,000 rows and more; a 0.25 sd shift in windows of 10,000 and more.
  Each of the six mean-shiftable features takes its turn; the line shows the worst.

Evidently runs from its own virtual environment (.venv-evidently, as drift_throughput.py makes
it) on --evidently-windows of each kind (default 40, it is slow); --no-evidently skips it.

    python -m benchmarks.drift_verdicts [--windows 400] [--no-evidently]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.drift_scenarios import CATEGORICAL, MEAN_SHIFTABLE, NUMERIC, counted, spec_document, window
from benchmarks.drift_throughput import evidently_python
from modelwatch.drift import analyze
from modelwatch.profiles import ProfileSchema, profile_batch
from modelwatch.spec import parse_spec

REFERENCES = (1000, 50_000)
SIZES = (100, 1000, 10_000, 100_000)
FALSE_FLAG_TARGET = 0.05
# (shift in sd, smallest window that must find it at least 95% of the time)
POWER_LINES = ((0.5, 1000), (0.25, 10_000))
POWER_TARGET = 0.95
POWER_WINDOWS = 100  # per feature, shift and size


def _evidently(reference: Path, folder: Path) -> dict[str, dict[str, bool]]:
    result = subprocess.run(
        [
            str(evidently_python()),
            str(Path(__file__).with_name("evidently_verdicts.py")),
            str(reference),
            str(folder),
            ",".join(NUMERIC),
            ",".join(CATEGORICAL),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"evidently failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _false_flags(args: argparse.Namespace, spec, schema) -> float:
    features = len(NUMERIC + CATEGORICAL)
    print(f"stable windows: {args.windows} per size; a window counts when any of {features} features is flagged")
    print(f"{'':>18}  {'modelwatch':>21}  {'evidently':>21}")
    print(f"{'reference':>10}{'window':>8}  {'any feature':>12}{'dataset':>9}  {'any feature':>12}{'dataset':>9}")
    worst = 0.0
    for reference_rows in REFERENCES:
        rng = np.random.default_rng(reference_rows)
        reference_frame = window(rng, reference_rows)
        reference = profile_batch(schema, counted(reference_frame))
        with tempfile.TemporaryDirectory() as temporary:
            folder = Path(temporary)
            pq.write_table(pa.table(reference_frame), folder / "reference.parquet")
            (folder / "windows").mkdir()
            rates = {}
            for rows in SIZES:
                flagged = dataset = 0
                for index in range(args.windows):
                    frame = window(rng, rows)
                    report = analyze(spec, reference, profile_batch(schema, counted(frame)))
                    flagged += bool(report.drifted)
                    dataset += bool(report.dataset_drift)
                    if not args.no_evidently and index < args.evidently_windows:
                        pq.write_table(pa.table(frame), folder / "windows" / f"stable-{rows:06d}-{index:03d}.parquet")
                rates[rows] = (flagged / args.windows, dataset / args.windows)
            theirs = {} if args.no_evidently else _evidently(folder / "reference.parquet", folder / "windows")
        for rows in SIZES:
            anyone, dataset = rates[rows]
            worst = max(worst, anyone)
            names = [f"stable-{rows:06d}-{index:03d}.parquet" for index in range(args.evidently_windows)]
            evidently = f"{'-':>12}{'-':>9}"
            if theirs:
                evidently = "".join(
                    f"{np.mean([theirs[n][key] for n in names]):>{width}.3f}"
                    for key, width in (("any", 12), ("dataset", 9))
                )
            print(f"{reference_rows:>10}{rows:>8}  {anyone:>12.3f}{dataset:>9.3f}  {evidently}", flush=True)
    return worst


def _power(spec, schema) -> list[float]:
    reference_rows = REFERENCES[-1]
    reference = profile_batch(schema, counted(window(np.random.default_rng(reference_rows), reference_rows)))
    print(
        f"\npower: one numeric feature shifted, {POWER_WINDOWS} windows per feature, {reference_rows:,}-row reference"
    )
    print(f"{'shift':>7}{'window':>8}  {'worst feature':>15}{'found':>8}  {'every feature':>14}")
    worst = []
    for sigmas, smallest in POWER_LINES:
        for rows in (size for size in SIZES if size >= smallest):
            found = {}
            for feature in MEAN_SHIFTABLE:
                rng = np.random.default_rng([rows, int(sigmas * 100), MEAN_SHIFTABLE.index(feature)])
                hits = 0
                for _ in range(POWER_WINDOWS):
                    current = profile_batch(schema, counted(window(rng, rows, (feature,), sigmas)))
                    verdicts = {f.name: f.drifted for f in analyze(spec, reference, current).features}
                    hits += bool(verdicts[feature])
                found[feature] = hits / POWER_WINDOWS
            weakest = min(found, key=found.__getitem__)
            worst.append(found[weakest])
            every = " ".join(f"{found[f]:.2f}" for f in MEAN_SHIFTABLE)
            print(f"{sigmas:>6.2f}σ{rows:>8}  {weakest:>15}{found[weakest]:>8.3f}  {every}", flush=True)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=400, help="stable windows per size (default 400)")
    parser.add_argument("--evidently-windows", type=int, default=40, help="of those, how many Evidently judges")
    parser.add_argument("--no-evidently", action="store_true", help="ModelWatch only")
    args = parser.parse_args()
    args.evidently_windows = min(args.evidently_windows, args.windows)
    spec = parse_spec(spec_document())
    schema = ProfileSchema.from_spec(spec)
    worst_false = _false_flags(args, spec, schema)
    worst_power = _power(spec, schema)
    print(
        f"ratio: worst any-feature false-flag rate {worst_false:.3f} (target <= {FALSE_FLAG_TARGET}), "
        f"worst power {min(worst_power):.3f} (target >= {POWER_TARGET})"
    )


if __name__ == "__main__":
    main()
