"""Runs inside .venv-nannyml (never the project's environment): NannyML 0.13.1's own estimates
per chunk of its synthetic data sets, written as JSON next to the data it used (Parquet), so
`task_estimation.py` compares ModelWatch with it on exactly the same rows and chunks."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import nannyml as nml


def _values(result, metric: str) -> list[float]:
    frame = result.filter(period="analysis").to_df()
    return [float(v) for v in frame[(metric, "value")].tolist()]


def main(folder: Path, chunk_size: int) -> None:
    estimates: dict[str, dict[str, list[float]]] = {}

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
    cbpe.fit(reference)
    result = cbpe.estimate(analysis.drop(columns=["y_true"]))
    estimates["multiclass"] = {"accuracy": _values(result, "accuracy"), "f1_macro": _values(result, "f1")}
    reference.to_parquet(folder / "multiclass_reference.parquet")
    analysis.to_parquet(folder / "multiclass_analysis.parquet")

    reference, analysis, targets = nml.load_synthetic_car_loan_dataset()
    analysis = analysis.merge(targets, on="id")
    cbpe = nml.CBPE(
        y_pred_proba="y_pred_proba",
        y_pred="y_pred",
        y_true="repaid",
        problem_type="classification_binary",
        metrics=["accuracy", "roc_auc"],
        chunk_size=chunk_size,
    )
    cbpe.fit(reference)
    result = cbpe.estimate(analysis.drop(columns=["repaid"]))
    estimates["binary"] = {"accuracy": _values(result, "accuracy"), "roc_auc": _values(result, "roc_auc")}
    reference.to_parquet(folder / "binary_reference.parquet")
    analysis.to_parquet(folder / "binary_analysis.parquet")

    reference, analysis, targets = nml.load_synthetic_car_price_dataset()
    analysis = analysis.merge(targets, on="id")
    features = ["car_age", "km_driven", "price_new", "accident_count", "door_count", "fuel", "transmission"]
    for frame in (reference, analysis):
        for column in ("fuel", "transmission"):
            # pandas 3's Arrow-backed strings break NannyML 0.13.1's DLE (it reshapes them).
            frame[column] = frame[column].astype("category")
    dle = nml.DLE(
        feature_column_names=features,
        y_pred="y_pred",
        y_true="y_true",
        metrics=["mae", "rmse"],
        chunk_size=chunk_size,
    )
    dle.fit(reference)
    result = dle.estimate(analysis.drop(columns=["y_true"]))
    estimates["regression"] = {"mae": _values(result, "mae"), "rmse": _values(result, "rmse")}
    reference.to_parquet(folder / "regression_reference.parquet")
    analysis.to_parquet(folder / "regression_analysis.parquet")

    (folder / "nannyml_estimates.json").write_text(json.dumps({"nannyml": nml.__version__, **estimates}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
