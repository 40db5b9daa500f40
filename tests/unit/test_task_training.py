"""Training per task: one scikit-learn model per task on generated data, exported to ONNX, with a
baseline profile whose performance keys equal scikit-learn's on the holdout."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import onnxruntime
import pytest
from sklearn import metrics as skm

from modelwatch.dle import LossModel, estimate_regression
from modelwatch.profiles import DatasetProfile
from modelwatch.spec import parse_spec
from modelwatch.training.pipeline import feature_matrix
from modelwatch.training.publish import build_model_folder
from tests.task_data import task_frame

FEATURES = {"x1": {"type": "numeric"}, "x2": {"type": "numeric"}, "shade": {"type": "categorical"}}


def _spec(task: str):
    columns = {"target": "y", "prediction": "predicted"}
    if task == "binary":
        columns |= {"score": "score", "positive_class": "b"}
    if task == "multiclass":
        columns |= {"score_prefix": "proba_"}
    retraining = {"performance": {"metric": "mae", "above": 10}} if task == "regression" else {}
    return parse_spec(
        {"model": {"name": "m", "task": task}, "columns": columns, "features": FEATURES, "retraining": retraining}
    )


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_model_per_task_trains_exports_and_profiles_its_holdout(task):
    rng = np.random.default_rng(3)
    spec = _spec(task)
    train, holdout = task_frame(rng, 4000, task), task_frame(rng, 1500, task)
    folder = build_model_folder(spec, "v1", train, holdout, datetime(2026, 11, 1, tzinfo=UTC))
    baseline = DatasetProfile.from_json(folder.baseline)
    assert folder.manifest.task == task
    session = onnxruntime.InferenceSession(folder.artifact, providers=["CPUExecutionProvider"])
    frame = feature_matrix(spec, holdout)
    feeds = {name: frame[name].to_numpy().reshape(-1, 1) for name in frame}
    feeds = {k: v.astype(np.float32) if v.dtype.kind == "f" else v.astype(object) for k, v in feeds.items()}
    outputs = session.run(None, feeds)
    if task == "regression":
        predicted = outputs[0].reshape(-1).astype(np.float64)
        metrics = folder.manifest.validation_metrics
        assert metrics["mae"] == pytest.approx(skm.mean_absolute_error(holdout["y"], predicted), rel=1e-5)
        assert metrics["r2"] == pytest.approx(skm.r2_score(holdout["y"], predicted), abs=1e-5)
        assert baseline.performance.metrics()["rmse"] == pytest.approx(metrics["rmse"], rel=1e-12)
        # The loss model is stored with the version; its expectation on the holdout is the holdout's own.
        assert LossModel.from_bytes(folder.loss_model).graphs
        estimated = estimate_regression(baseline)
        assert estimated["mae"] == pytest.approx(metrics["mae"], rel=0.05)
        return
    probabilities = outputs[1]
    classes = folder.manifest.classes
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    actual = list(holdout["y"])
    metrics = baseline.performance.metrics()
    assert metrics["accuracy"] == pytest.approx(skm.accuracy_score(actual, predicted), abs=1e-9)
    if task == "multiclass":
        assert classes == ["a", "b", "c"]
        assert metrics["f1_macro"] == pytest.approx(skm.f1_score(actual, predicted, average="macro"), abs=1e-9)
        expected_auc = skm.roc_auc_score(actual, probabilities, multi_class="ovr", labels=classes)
        assert metrics["roc_auc_ovr"] == pytest.approx(expected_auc, abs=1e-6)  # float32 scores
        assert folder.manifest.validation_metrics["f1_weighted"] == pytest.approx(
            skm.f1_score(actual, predicted, average="weighted"), abs=1e-6
        )
    else:
        assert metrics["f1"] == pytest.approx(skm.f1_score(actual, predicted, pos_label="b"), abs=1e-9)


def test_an_export_is_the_same_bytes_every_time():
    """The converters name each graph with a random UUID; the registry's and a retraining
    decision's SHA-256 must not depend on it."""
    from datetime import UTC, datetime

    from modelwatch.demo.data import demo_frame
    from modelwatch.spec import load_spec
    from modelwatch.training.publish import build_model_folder
    from tests.conftest import ROOT

    spec = load_spec(ROOT / "monitoring.toml")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    first, second = (
        build_model_folder(spec, "v", demo_frame(800, 1), demo_frame(300, 2), now).artifact for _ in range(2)
    )
    assert first == second
