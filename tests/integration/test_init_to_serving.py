"""From a data set to a served model with nothing written by hand: `modelwatch init` drafts the
spec, `modelwatch train` fits a model with it, and the predict handler serves it, per task."""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from modelwatch.cli.main import main
from modelwatch_local.stack import LocalStack


def _frame(task: str, rows: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.uniform(0, 10, rows)
    shade = rng.choice(["light", "dark"], rows)
    signal = x1 + 0.3 * x2 + np.where(shade == "dark", 0.5, 0.0)
    if task == "regression":
        y = 100 + 10 * signal + rng.normal(0, 1, rows)
    else:
        cuts = [1.5, 3.0] if task == "multiclass" else [2.2]
        y = np.array(["low", "mid", "high"])[np.digitize(signal + rng.normal(0, 0.3, rows), cuts)]
    return {"x1": x1, "x2": x2, "shade": shade, "y": y}


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_an_init_drafted_spec_trains_and_serves(task, tmp_path, capsys):
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    data = tmp_path / "train.csv"
    pacsv.write_csv(pa.table(_frame(task, 2000, 1)), data)
    spec = tmp_path / "monitoring.toml"
    assert main(["init", "--data", str(data), "--target", "y", "--out", str(spec)]) == 0
    assert f"inferred task: {task}" in capsys.readouterr().out
    assert main(["train", "--data", str(data), "--spec", str(spec), "--out", str(tmp_path / "model")]) == 0

    stack = LocalStack(spec)
    try:
        stack.publish_model_dir(tmp_path / "model")
        frame = _frame(task, 5, 2)
        records = [
            {"x1": float(frame["x1"][i]), "x2": float(frame["x2"][i]), "shade": str(frame["shade"][i])}
            for i in range(5)
        ]
        result = stack.call("predict", "POST", "/predict", {"instances": records})
        assert result.status == 200, result.body
        for prediction in result.body["predictions"]:
            if task == "regression":
                assert isinstance(prediction["prediction"], float)
            else:
                assert prediction["prediction"] in prediction["probabilities"]
                assert prediction["confidence"] == max(prediction["probabilities"].values())
    finally:
        stack.stop()
