"""An imported model's baseline carries its own predictions and scores on the reference rows:
`modelwatch drift --reference <folder>/baseline.json` against a window without labels checks
prediction drift and estimates performance (CBPE for classifiers; DLE for a regression, with
the folder's loss model), with or without the spec."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from modelwatch.cli.main import main
from modelwatch.profiles import DatasetProfile
from modelwatch.spec.roles import PREDICTION, SCORE_PREFIXES
from tests.integration.model_import_fixtures import CATEGORICAL, NUMERIC, TARGET, task_frame, write_case

# The metric each task's estimate must hold (CBPE's accuracy, DLE's mean absolute error).
ESTIMATED = {"binary": "accuracy", "multiclass": "accuracy", "regression": "mae"}


def _scored_window(model: object, task: str, rows: int, seed: int) -> pd.DataFrame:
    """New rows as a data scientist scores them: the features and the model's outputs under
    their conventional names (prediction, p_<class>), no labels yet."""
    frame = task_frame(task, rows, seed).drop(columns=TARGET)
    inputs = frame[[*NUMERIC, *CATEGORICAL]]
    if task == "regression":
        frame[PREDICTION] = model.predict(inputs)
        return frame
    probabilities = model.predict_proba(inputs)
    classes = [str(c) for c in model.classes_]
    frame[PREDICTION] = np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)]
    for index, label in enumerate(classes):
        frame[SCORE_PREFIXES[0] + label] = probabilities[:, index]
    return frame


@pytest.mark.parametrize("with_spec", [False, True], ids=["no-spec", "import-spec"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_drift_against_an_imports_baseline_checks_predictions_and_estimates_performance(tmp_path, task, with_spec):
    model_path, data, spec_path, model, _ = write_case("sklearn", task, tmp_path / "in", rows=1200)
    folder = tmp_path / "v1"
    assert main(["import", "--model", str(model_path), "--data", str(data), "--spec", str(spec_path),
                 "--out", str(folder)]) == 0  # fmt: skip
    baseline = DatasetProfile.load(folder / "baseline.json")
    assert baseline.roles["task"] == task and baseline.roles["target"] == TARGET
    assert PREDICTION in baseline.columns and baseline.performance is not None  # the spec names neither
    current = tmp_path / "new.csv"
    _scored_window(model, task, 800, seed=9).to_csv(current, index=False)
    out = tmp_path / "drift.json"
    spec = ["--spec", str(folder / "monitoring.toml")] if with_spec else []
    code = main(["drift", "--reference", str(folder / "baseline.json"), "--current", str(current),
                 "--json", str(out), *spec])  # fmt: skip
    assert code in (0, 1)
    report = json.loads(out.read_text())
    assert report["prediction_drift"] is not None and report["prediction_drift"]["status"] == "ok"
    assert [f["name"] for f in report["features"]] == [*NUMERIC, *CATEGORICAL]  # no role is a feature
    estimated = report["estimated_performance"]
    assert estimated is not None and estimated[ESTIMATED[task]] is not None, report["estimated_performance"]
    assert report["performance"] is None  # no labels in the window: estimated, not measured


def test_a_tampered_loss_model_beside_the_baseline_is_refused(tmp_path, capsys):
    model_path, data, spec_path, model, _ = write_case("sklearn", "regression", tmp_path / "in", rows=800)
    folder = tmp_path / "v1"
    assert main(["import", "--model", str(model_path), "--data", str(data), "--spec", str(spec_path),
                 "--out", str(folder)]) == 0  # fmt: skip
    (loss_model,) = [p for p in folder.iterdir() if p.name.startswith("loss_model")]
    loss_model.write_bytes(loss_model.read_bytes() + b" ")
    current = tmp_path / "new.csv"
    _scored_window(model, "regression", 300, seed=9).to_csv(current, index=False)
    capsys.readouterr()
    assert main(["drift", "--reference", str(folder / "baseline.json"), "--current", str(current)]) == 2
    assert "SHA-256 does not match" in capsys.readouterr().err
