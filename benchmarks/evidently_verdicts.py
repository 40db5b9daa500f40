"""Evidently 0.7's DataDriftPreset verdict on many windows; run by drift_verdicts.py in its own venv.

Arguments: the reference Parquet file, a folder of window Parquet files, the numeric and the
categorical column names (comma-separated). Prints one JSON line: {window file name: {"any": any
column drifted, "dataset": dataset drift (half the columns or more)}}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def verdicts_of(snapshot) -> dict[str, bool]:
    for metric in snapshot.dict()["metrics"]:
        if metric.get("metric_name", "").startswith("DriftedColumnsCount"):
            return {"any": metric["value"]["count"] > 0, "dataset": metric["value"]["share"] >= 0.5}
    raise RuntimeError("DataDriftPreset gave no DriftedColumnsCount")


def main(reference_path: str, windows: str, numeric: str, categorical: str) -> None:
    definition = DataDefinition(numerical_columns=numeric.split(","), categorical_columns=categorical.split(","))
    reference = Dataset.from_pandas(pd.read_parquet(reference_path), data_definition=definition)
    verdicts = {}
    for path in sorted(Path(windows).glob("*.parquet")):
        current = Dataset.from_pandas(pd.read_parquet(path), data_definition=definition)
        verdicts[path.name] = verdicts_of(
            Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
        )
    print(json.dumps(verdicts))


if __name__ == "__main__":
    main(*sys.argv[1:5])
