"""Performance without labels, ModelWatch against NannyML 0.13.1, on NannyML's synthetic data sets
(known ground truth), per chunk of 5,000 analysis rows, side by side in one run.

- multiclass (load_synthetic_multiclass_classification_dataset): CBPE accuracy and f1_macro;
- binary (load_synthetic_car_loan_dataset): CBPE accuracy and roc_auc;
- regression (load_synthetic_car_price_dataset): DLE mae and rmse.

For each metric it prints the mean absolute error over chunks of each tool's estimate against the
realized value (computed here, the same way for both), and the ratio ModelWatch / NannyML; the
acceptance bar is a ratio of at most 1.1. NannyML runs in its own virtual environment
(.venv-nannyml, created on first use; `nannyml_estimates.py` runs there and writes its estimates
and the exact rows it used); ModelWatch runs here, from mergeable profiles as in production: the
reference profiled once, each chunk profiled without its labels, DLE's loss model fitted on the
reference and run per record while profiling.

    python benchmarks/task_estimation.py [--chunk-size 5000] [--work out/task-estimation]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from modelwatch.cbpe import estimate, estimate_multiclass, fit_calibration, fit_multiclass_calibration
from modelwatch.dle import estimate_regression, fit_loss_model, loss_columns
from modelwatch.profiles import POSITIVE_PROBABILITY, ProfileSchema, profile_batch

ROOT = Path(__file__).resolve().parents[1]
NANNYML_VENV = ROOT / ".venv-nannyml"
# NannyML 0.13.1 needs statsmodels installed by hand, and pandas < 3 (its DLE reshapes pandas
# 3's Arrow-backed strings, which fails).
NANNYML_PACKAGES = ["nannyml==0.13.1", "statsmodels==0.15.0", "pandas==2.3.3"]
ACCEPTED_RATIO = 1.1


def _nannyml(work: Path, chunk_size: int) -> dict:
    python = NANNYML_VENV / "bin" / "python"
    if not python.exists():
        print("creating .venv-nannyml (first run only; a few minutes) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(NANNYML_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *NANNYML_PACKAGES], check=True)
    output = work / "nannyml_estimates.json"
    if not output.exists():
        env = os.environ | {"NML_DISABLE_USAGE_LOGGING": "1"}
        script = str(Path(__file__).with_name("nannyml_estimates.py"))
        subprocess.run([str(python), script, str(work), str(chunk_size)], check=True, env=env, capture_output=True)
    return json.loads(output.read_text())


def _columns(path: Path) -> dict[str, np.ndarray]:
    table = pq.read_table(path)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _chunks(columns: dict[str, np.ndarray], size: int):
    rows = len(next(iter(columns.values())))
    for start in range(0, rows - size + 1, size):  # NannyML's full chunks
        yield {name: values[start : start + size] for name, values in columns.items()}


def _without(columns: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    return {k: v for k, v in columns.items() if k != name}


def _multiclass(work: Path, size: int) -> dict[str, dict[str, list[float]]]:
    classes = ("prepaid_card", "highstreet_card", "upmarket_card")
    schema = ProfileSchema(
        numeric=(),
        categorical=(),
        target="y_true",
        prediction="y_pred",
        task="multiclass",
        score_prefix="y_pred_proba_",
        classes=classes,
    )
    reference = profile_batch(schema, _columns(work / "multiclass_reference.parquet"))
    calibrations = fit_multiclass_calibration(reference.performance)
    assert calibrations is not None
    result: dict[str, dict[str, list[float]]] = {m: {"ours": [], "realized": []} for m in ("accuracy", "f1_macro")}
    for chunk in _chunks(_columns(work / "multiclass_analysis.parquet"), size):
        realized = profile_batch(schema, chunk).performance.metrics()
        estimated = estimate_multiclass(calibrations, profile_batch(schema, _without(chunk, "y_true")))
        for metric, values in result.items():
            values["ours"].append(estimated[metric])
            values["realized"].append(realized[metric])
    return result


def _binary(work: Path, size: int) -> dict[str, dict[str, list[float]]]:
    schema = ProfileSchema(
        numeric=(), categorical=(), target="repaid", prediction="y_pred", score="y_pred_proba", positive_class="1"
    )
    reference = profile_batch(schema, _columns(work / "binary_reference.parquet"))
    calibration = fit_calibration(reference.performance)
    assert calibration is not None
    result: dict[str, dict[str, list[float]]] = {m: {"ours": [], "realized": []} for m in ("accuracy", "roc_auc")}
    for chunk in _chunks(_columns(work / "binary_analysis.parquet"), size):
        realized = profile_batch(schema, chunk).performance.metrics()
        unlabelled = profile_batch(schema, _without(chunk, "repaid"))
        estimated = estimate(calibration, unlabelled.columns[POSITIVE_PROBABILITY])
        for metric, values in result.items():
            values["ours"].append(estimated[metric])
            values["realized"].append(realized[metric])
    return result


def _regression(work: Path, size: int) -> dict[str, dict[str, list[float]]]:
    numeric = ["car_age", "km_driven", "price_new", "accident_count", "door_count"]
    categorical = ["fuel", "transmission"]
    reference = _columns(work / "regression_reference.parquet")
    started = time.perf_counter()
    model = fit_loss_model(numeric, categorical, reference, reference["y_pred"], reference["y_true"])
    print(f"  DLE loss model fitted on {len(reference['y_true']):,} rows in {time.perf_counter() - started:.1f} s")
    schema = ProfileSchema(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        target="y_true",
        prediction="y_pred",
        task="regression",
        expected_losses=partial(loss_columns, model, "y_pred"),
    )
    result: dict[str, dict[str, list[float]]] = {m: {"ours": [], "realized": []} for m in ("mae", "rmse")}
    for chunk in _chunks(_columns(work / "regression_analysis.parquet"), size):
        realized = profile_batch(schema, chunk).performance.metrics()
        estimated = estimate_regression(profile_batch(schema, _without(chunk, "y_true")))
        for metric, values in result.items():
            values["ours"].append(estimated[metric])
            values["realized"].append(realized[metric])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "task-estimation")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"NannyML estimates (in {NANNYML_VENV.name}) ...", flush=True)
    theirs = _nannyml(args.work, args.chunk_size)
    print(f"ModelWatch estimates (chunks of {args.chunk_size:,} rows) ...", flush=True)
    ours = {
        "multiclass": _multiclass(args.work, args.chunk_size),
        "binary": _binary(args.work, args.chunk_size),
        "regression": _regression(args.work, args.chunk_size),
    }
    print()
    header = (
        f"{'data set':<11} {'metric':<9} {'chunks':>6} {'NannyML MAE':>12} {'ModelWatch MAE':>15} {'ratio':>6}  verdict"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for task, metrics in ours.items():
        for metric, values in metrics.items():
            realized = np.asarray(values["realized"], dtype=np.float64)
            mine = np.asarray(values["ours"], dtype=np.float64)
            nannyml = np.asarray(theirs[task][metric], dtype=np.float64)
            if len(nannyml) != len(realized):
                raise SystemExit(f"{task} {metric}: NannyML has {len(nannyml)} chunks, ModelWatch {len(realized)}")
            their_error = float(np.mean(np.abs(nannyml - realized)))
            our_error = float(np.mean(np.abs(mine - realized)))
            ratio = our_error / their_error if their_error > 0 else float("inf")
            ok = our_error <= ACCEPTED_RATIO * their_error
            failed |= not ok
            print(
                f"{task:<11} {metric:<9} {len(realized):>6} {their_error:>12.5g} {our_error:>15.5g} {ratio:>6.2f}  "
                + ("ok" if ok else f"WORSE than {ACCEPTED_RATIO}x NannyML")
            )
    print(f"\nper-chunk values: {args.work / 'nannyml_estimates.json'} (NannyML {theirs['nannyml']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
