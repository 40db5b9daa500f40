"""Drift window cost: merging N partial profiles and comparing with the baseline.

For windows of 10, 100 and 1,000 partial profiles of 10,000 rows each (the demo model's five
features plus prediction and score), a fresh process reads the serialized profiles, merges them
and runs the full comparison; it reports wall time and peak memory, in total and per profile.
Then, at 100 profiles, the rows per profile grow from 10,000 to 1,000,000: a KLL sketch keeps
about k log(n/k) values, so past its exact size (2,000 values) the cost per profile barely grows.

Judged by: the time per profile at 1,000 profiles against 10, and at 1,000,000 rows per profile
against 10,000 (flat is about 1).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTINCT = 20  # distinct partial profiles built; larger windows reuse them in turn


# VmHWM, not ru_maxrss: on Linux ru_maxrss survives execve, so a child would report the peak of
# the parent it was forked from.
CHILD = """
import json, sys, time
from pathlib import Path
from modelwatch.drift import analyze
from modelwatch.profiles import DatasetProfile, merge_profiles
from modelwatch.spec import load_spec
folder, count = Path(sys.argv[1]), int(sys.argv[2])
spec = load_spec(sys.argv[3])
baseline = DatasetProfile.from_json((folder / "baseline.json").read_bytes())
files = sorted(folder.glob("part-*.json"))
def high_water_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
before = high_water_kb()
started = time.perf_counter()
merged = merge_profiles(DatasetProfile.from_json(files[i % len(files)].read_bytes()) for i in range(count))
report = analyze(spec, baseline, merged)
seconds = time.perf_counter() - started
peak = high_water_kb()
result = {"seconds": seconds, "rows": merged.rows, "peak_mb": peak / 1024, "growth_mb": (peak - before) / 1024}
print(json.dumps(result))
"""


def build(folder: Path, rows_per_profile: int) -> None:
    from modelwatch.demo.data import demo_frame
    from modelwatch.profiles import ProfileBuilder, ProfileSchema
    from modelwatch.spec import load_spec

    spec = load_spec(ROOT / "monitoring.toml")
    schema = ProfileSchema.from_spec(spec)
    builder = ProfileBuilder(schema, chunk_rows=5000)
    builder.add(demo_frame(50_000, 1))
    (folder / "baseline.json").write_bytes(builder.result().to_json())
    for i in range(DISTINCT):
        part = ProfileBuilder(schema)
        frame = demo_frame(rows_per_profile, 1000 + i)
        part.add({k: v for k, v in frame.items() if k != "label"})
        (folder / f"part-{i:04d}.json").write_bytes(part.result().to_json())


def measure(folder: Path, count: int) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), str(count), str(ROOT / "monitoring.toml")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _row(count: int, rows: int, result: dict) -> str:
    per_profile = result["seconds"] / count * 1000
    return (
        f"{count:>9} {rows:>13,} {result['seconds']:>9.2f} {per_profile:>11.2f} "
        f"{result['peak_mb']:>8.0f} {result['growth_mb']:>10.0f}"
    )


def main() -> None:
    print(f"{'profiles':>9} {'rows/profile':>13} {'total s':>9} {'ms/profile':>11} {'peak MB':>8} {'growth MB':>10}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rows, counts in ((10_000, (10, 100, 1000)), (100_000, (100,)), (1_000_000, (100,))):
            folder = Path(tmp) / str(rows)
            folder.mkdir()
            build(folder, rows)
            for count in counts:
                results[(count, rows)] = measure(folder, count)
                print(_row(count, rows, results[(count, rows)]), flush=True)
    per = {key: r["seconds"] / key[0] for key, r in results.items()}
    print(
        f"ratio: per-profile time at 1,000 vs 10 profiles {per[(1000, 10_000)] / per[(10, 10_000)]:.2f}; "
        f"at 1,000,000 vs 10,000 rows per profile {per[(100, 1_000_000)] / per[(100, 10_000)]:.2f} (flat is about 1)"
    )


if __name__ == "__main__":
    main()
