"""Evidently 0.7's DataDriftPreset on two CSV or Parquet files; run by drift_throughput.py in its own venv.

Prints one JSON line: the dataset verdict, the drift share and the drifted columns.
"""

from __future__ import annotations

import json
import sys

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def _read(path: str) -> pd.DataFrame:
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


def main(reference_path: str, current_path: str, numeric: str, categorical: str) -> None:
    definition = DataDefinition(numerical_columns=numeric.split(","), categorical_columns=categorical.split(","))
    reference = Dataset.from_pandas(_read(reference_path), data_definition=definition)
    current = Dataset.from_pandas(_read(current_path), data_definition=definition)
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    drifted, share = [], None
    for metric in snapshot.dict()["metrics"]:
        name, value = metric.get("metric_name", ""), metric.get("value")
        if name.startswith("DriftedColumnsCount"):
            share = value["share"]
        elif name.startswith("ValueDrift") and isinstance(value, float):
            column = name.split("column=")[1].split(",")[0]
            threshold = float(name.split("threshold=")[1].rstrip(")")) if "threshold=" in name else 0.1
            if value >= threshold:
                drifted.append(column)
    print(json.dumps({"drift_share": share, "dataset_drift": share is not None and share >= 0.5, "drifted": drifted}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
