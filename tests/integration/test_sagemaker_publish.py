"""A model brought from SageMaker with its Model Monitor baseline: `modelwatch import --baseline`
puts the imported features into the model folder's baseline (the hash in the manifest to match),
so `modelwatch publish` uploads it as any other folder, and drift against it runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from modelwatch.cli.main import main
from modelwatch.profiles import DatasetProfile
from modelwatch.registry.folder import ModelFolder
from tests.sagemaker_examples import PIPELINE_CONSTRAINTS, PIPELINE_DATASET, PIPELINE_STATISTICS, write_pipeline_capture


def test_an_imported_model_takes_the_imported_baseline(tmp_path: Path) -> None:
    import joblib
    from sklearn.linear_model import LinearRegression

    imported = tmp_path / "imported"
    assert main(["import-sagemaker", "--statistics", str(PIPELINE_STATISTICS), "--constraints",
                 str(PIPELINE_CONSTRAINTS), "--out", str(imported)]) == 0  # fmt: skip
    # The team's own step: say what the model predicts, its task and where its labels are.
    spec = tmp_path / "monitoring.toml"
    text = (imported / "monitoring.toml").read_text()
    named = '[model]\nname = "sagemaker-model"\n'
    spec.write_text(text.replace(named, named + 'task = "regression"\n') + '\n[columns]\ntarget = "y"\n')
    frame = pd.DataFrame(np.loadtxt(PIPELINE_DATASET, delimiter=","), columns=[f"_c{i}" for i in range(6)])
    frame["y"] = frame.sum(axis=1) + np.random.default_rng(0).normal(0, 0.5, len(frame))
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    joblib.dump(LinearRegression().fit(frame[[f"_c{i}" for i in range(6)]], frame["y"]), tmp_path / "model.joblib")

    folder = tmp_path / "model"
    code = main(["import", "--model", str(tmp_path / "model.joblib"), "--data", str(tmp_path / "labelled.csv"),
                 "--spec", str(spec), "--out", str(folder), "--baseline", str(imported / "baseline.json")])  # fmt: skip
    assert code == 0
    read = ModelFolder.read(folder)  # what publish uploads: the manifest's hashes hold
    assert read.baseline is not None
    baseline = DatasetProfile.from_json(read.baseline)
    sagemaker = DatasetProfile.load(imported / "baseline.json")
    for name in (f"_c{i}" for i in range(6)):
        assert baseline.columns[name].to_dict() == sagemaker.columns[name].to_dict()
    assert "prediction" in baseline.columns or baseline.roles.get("prediction") in baseline.columns

    capture = write_pipeline_capture(tmp_path / "stable.jsonl")
    code = main(["drift", "--spec", str(spec), "--reference", str(folder / "baseline.json"), "--current",
                 str(capture), "--violations", str(tmp_path / "violations.json")])  # fmt: skip
    assert code == 0
    assert json.loads((tmp_path / "violations.json").read_text()) == {"violations": []}
