"""False alarms and detection per window size: ModelWatch's default rule beside Evidently 0.7's
DataDriftPreset, on the same windows.

Stable windows (no drift; skewed, heavy-tailed, tied numeric values, rare categories: see
drift_scenarios.py) and windows with a 0.5 sd mean shift in half the features, of 30 to
100,000 rows, against references of 1,000 and 50,000 rows. Prints, per size, the share of
windows with dataset drift: the false-alarm rate on stable windows and the detection rate on
shifted ones. Evidently runs from its own virtual environment (.venv-evidently, as
drift_throughput.py makes it); --no-evidently skips it.
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

from benchmarks.drift_scenarios import CATEGORICAL, NUMERIC, SHIFTED, counted, spec_document, window
from benchmarks.drift_throughput import evidently_python
from modelwatch.drift import analyze
from modelwatch.profiles import ProfileSchema, profile_batch
from modelwatch.spec import parse_spec

REFERENCES = (1000, 50_000)
SIZES = (30, 100, 300, 1000, 10_000, 100_000)


def _evidently(reference: Path, folder: Path) -> dict[str, bool]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=40, help="windows per size and kind (default 40)")
    parser.add_argument("--no-evidently", action="store_true", help="ModelWatch only")
    args = parser.parse_args()
    spec = parse_spec(spec_document())
    schema = ProfileSchema.from_spec(spec)
    print(f"{args.windows} stable and {args.windows} shifted windows per size; dataset drift share >= 0.5")
    print(f"{'reference':>10}{'window':>8}  {'false alarms':>25}  {'detection (0.5 sd, half)':>25}")
    print(f"{'':>10}{'':>8}  {'modelwatch':>12}{'evidently':>13}  {'modelwatch':>12}{'evidently':>13}")
    false_alarms: list[float] = []  # ModelWatch's rate per size and reference, stable windows
    detection_large: list[float] = []  # ... on shifted windows of 1,000 rows and more
    for reference_rows in REFERENCES:
        rng = np.random.default_rng(reference_rows)
        reference_frame = window(rng, reference_rows)
        reference = profile_batch(schema, counted(reference_frame))
        with tempfile.TemporaryDirectory() as temporary:
            folder = Path(temporary)
            pq.write_table(pa.table(reference_frame), folder / "reference.parquet")
            ours: dict[str, bool] = {}
            (folder / "windows").mkdir()
            for rows in SIZES:
                for kind, shifted in (("stable", ()), ("shifted", SHIFTED)):
                    for index in range(args.windows):
                        frame = window(rng, rows, shifted)
                        name = f"{kind}-{rows:06d}-{index:03d}.parquet"
                        ours[name] = bool(analyze(spec, reference, profile_batch(schema, counted(frame))).dataset_drift)
                        if not args.no_evidently:
                            pq.write_table(pa.table(frame), folder / "windows" / name)
            theirs = {} if args.no_evidently else _evidently(folder / "reference.parquet", folder / "windows")
        for rows in SIZES:
            cells = []
            for kind in ("stable", "shifted"):
                names = [f"{kind}-{rows:06d}-{index:03d}.parquet" for index in range(args.windows)]
                rate = float(np.mean([ours[n] for n in names]))
                if kind == "stable":
                    false_alarms.append(rate)
                elif rows >= 1000:
                    detection_large.append(rate)
                cells.append(f"{rate:>12.3f}")
                cells.append(f"{np.mean([theirs[n] for n in names]):>13.3f}" if theirs else f"{'-':>13}")
            print(f"{reference_rows:>10}{rows:>8}  {''.join(cells[:2])}  {''.join(cells[2:])}", flush=True)
    print(
        f"ratio: worst false-alarm rate {max(false_alarms):.3f} (target <= 0.05 at every size), "
        f"worst detection from 1,000 rows {min(detection_large):.3f} (target >= 0.95)"
    )


if __name__ == "__main__":
    main()
