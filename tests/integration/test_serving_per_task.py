"""Serving per task, end to end on the local stack: a scikit-learn model per task, trained on data
the test generates, published, served by the predict handler, labelled through /feedback and
checked by the drift job, whose labelled performance must equal scikit-learn's on the same rows."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from modelwatch.catalog import layout
from modelwatch.loss_model import EXPECTED_ABS_ERROR, EXPECTED_ABS_PERCENTAGE_ERROR, EXPECTED_SQUARED_ERROR
from modelwatch.profiles import DatasetProfile
from modelwatch.spec.models import TASK_METRICS
from modelwatch.training.publish import build_model_folder
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.task_data import task_frame

START = datetime(2026, 11, 23, 0, 10, tzinfo=UTC)
DRIFT_END = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # the 1h window holds the hour served
SERVED_ROWS = 600
BATCH = 100

SPEC_HEAD = """
version = 1

[model]
name = "m-{task}"
task = "{task}"

[columns]
target = "y"
prediction = "predicted"
{columns}

[features.x1]
type = "numeric"

[features.x2]
type = "numeric"

[features.shade]
type = "categorical"
categories = ["light", "dark"]

[drift]
windows = [{{ name = "1h", hours = 1 }}]

[metrics]
namespace = "ModelWatchTasks"
service = "tasks-{task}"
"""
TASK_COLUMNS = {
    "binary": 'score = "score"\npositive_class = "b"',
    "multiclass": 'score_prefix = "proba_"',
    "regression": "",
}
# An error alarm for the regression and the confidence alarm for the classifiers: each task's
# spec names the metrics it has.
TASK_ALERTS = {
    "binary": ("Confidence", "p50", "LessThanThreshold", 0.6),
    "multiclass": ("Confidence", "p50", "LessThanThreshold", 0.4),
    "regression": ("MAE", "Maximum", "GreaterThanThreshold", 10.0),
}


def _spec_text(task: str) -> str:
    metric, statistic, comparison, threshold = TASK_ALERTS[task]
    alert = (
        f'\n[[alerts]]\nname = "watch-{metric.lower()}"\nmetric = "{metric}"\nstatistic = "{statistic}"\n'
        f'comparison = "{comparison}"\nthreshold = {threshold}\n'
    )
    retraining = '\n[retraining]\nperformance = { metric = "mae", above = 10 }\n' if task == "regression" else ""
    return SPEC_HEAD.format(task=task, columns=TASK_COLUMNS[task]) + alert + retraining


def _records(frame: dict[str, np.ndarray], rows: range) -> list[dict[str, object]]:
    return [{"x1": float(frame["x1"][i]), "x2": float(frame["x2"][i]), "shade": str(frame["shade"][i])} for i in rows]


def _label(task: str, value: object) -> object:
    return float(value) if task == "regression" else str(value)


class Served:
    """One task's stack after a model was published, served, labelled and checked for drift."""

    def __init__(self, task: str, folder: Path, stack: LocalStack) -> None:
        self.task = task
        self.stack = stack
        rng = np.random.default_rng({"binary": 1, "multiclass": 2, "regression": 3}[task])
        spec = self.stack.platform.spec
        model = build_model_folder(spec, "v1", task_frame(rng, 3000, task), task_frame(rng, 1200, task), START)
        self.stack_folder = folder / "model"
        model.write(self.stack_folder)
        self.manifest = self.stack.publish_model_dir(self.stack_folder)
        self.frame = task_frame(rng, SERVED_ROWS, task)
        self.predictions: list[dict] = []
        self.first_result = None
        for first in range(0, SERVED_ROWS, BATCH):
            rows = range(first, first + BATCH)
            result = self.stack.call("predict", "POST", "/predict", {"instances": _records(self.frame, rows)})
            assert result.status == 200, result.body
            self.first_result = self.first_result or result
            self.predictions += result.body["predictions"]
            items = [
                {"request_id": p["request_id"], "label": _label(task, self.frame["y"][i])}
                for i, p in zip(rows, result.body["predictions"], strict=True)
            ]
            assert self.stack.call("feedback", "POST", "/feedback", {"items": items}).status == 200
        self.stack.run_drift(DRIFT_END)
        key = layout.report_prefix("v1", "1h", DRIFT_END) + "drift.json"
        self.drift = json.loads(self.stack.objects(key)[key])

    def captures(self) -> list[dict]:
        self.stack.flush_deliveries()
        bodies = self.stack.objects(layout.CAPTURE.version_prefix("v1")).values()
        return [json.loads(line) for body in bodies for line in body.splitlines()]


# Labels that are numbers and DLE's loss model are a regression's: its cases run for it alone.
REGRESSION_ONLY = pytest.mark.parametrize("served", ["regression"], indirect=True)


@pytest.fixture(scope="module", params=["binary", "multiclass", "regression"])
def served(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    spec_path = folder / "monitoring.toml"
    spec_path.write_text(_spec_text(request.param))
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stack = LocalStack(spec_path, clock=MovableClock(START))
    try:
        yield Served(request.param, folder, stack)
    finally:
        stack.stop()


def test_responses_follow_the_task(served):
    for prediction in served.predictions:
        if served.task == "regression":
            assert set(prediction) == {"request_id", "model_version", "prediction", "warnings"}
            assert isinstance(prediction["prediction"], float)
        else:
            probabilities = prediction["probabilities"]
            assert list(probabilities) == served.manifest.classes
            assert prediction["confidence"] == max(probabilities.values())
            assert prediction["prediction"] == max(probabilities, key=probabilities.__getitem__)
            assert sum(probabilities.values()) == pytest.approx(1, abs=1e-5)
    if served.task == "multiclass":
        assert served.manifest.classes == ["a", "b", "c"]
        assert {p["prediction"] for p in served.predictions} == {"a", "b", "c"}


def test_captures_carry_what_the_drift_check_needs(served):
    captures = {c["request_id"]: c for c in served.captures()}
    assert len(captures) == SERVED_ROWS
    for prediction in served.predictions:
        captured = captures[prediction["request_id"]]
        assert captured["prediction"] == prediction["prediction"]
        if served.task == "regression":
            # The value alone: DLE's loss model runs in the capture function, not per request.
            assert set(captured) == {"request_id", "timestamp", "model_version", "features", "prediction"}
        else:
            assert captured["probabilities"] == prediction["probabilities"]
            assert captured["confidence"] == prediction["confidence"]


def test_metrics_follow_the_task(served):
    metrics = served.first_result.metrics()
    first_batch = served.predictions[:BATCH]
    if served.task == "regression":
        assert "Confidence" not in metrics and not any(name.startswith("Predictions") for name in metrics)
        assert metrics["PredictedValue"][0][1] == [p["prediction"] for p in first_batch]
        return
    assert "PredictedValue" not in metrics
    assert metrics["Confidence"][0][1] == [p["confidence"] for p in first_batch]
    counts = {
        name.removeprefix("Predictions."): values[0]
        for name, series in metrics.items()
        if name.startswith("Predictions.")
        for _, values in series
    }
    expected: dict[str, float] = {}
    for p in first_batch:
        expected[p["prediction"]] = expected.get(p["prediction"], 0) + 1
    assert counts == expected


def test_labelled_performance_equals_scikit_learn(served):
    task = served.task
    performance = served.drift["performance"]
    assert set(TASK_METRICS[task]) <= set(performance)
    actual = [_label(task, v) for v in served.frame["y"]]
    predicted = [p["prediction"] for p in served.predictions]
    if task == "regression":
        expected = {
            "mae": skm.mean_absolute_error(actual, predicted),
            "rmse": float(np.sqrt(skm.mean_squared_error(actual, predicted))),
            "mape": skm.mean_absolute_percentage_error(actual, predicted),
            "r2": skm.r2_score(actual, predicted),
        }
    else:
        classes = served.manifest.classes
        probabilities = np.array([[p["probabilities"][c] for c in classes] for p in served.predictions])
        if task == "multiclass":
            expected = {
                "accuracy": skm.accuracy_score(actual, predicted),
                "precision_macro": skm.precision_score(actual, predicted, average="macro", zero_division=0),
                "recall_macro": skm.recall_score(actual, predicted, average="macro", zero_division=0),
                "f1_macro": skm.f1_score(actual, predicted, average="macro", zero_division=0),
                "f1_weighted": skm.f1_score(actual, predicted, average="weighted", zero_division=0),
                "roc_auc_ovr": skm.roc_auc_score(actual, probabilities, multi_class="ovr", labels=classes),
                "log_loss": skm.log_loss(actual, probabilities, labels=classes),
            }
        else:
            positive = probabilities[:, classes.index("b")]
            expected = {
                "accuracy": skm.accuracy_score(actual, predicted),
                "precision": skm.precision_score(actual, predicted, pos_label="b", zero_division=0),
                "recall": skm.recall_score(actual, predicted, pos_label="b", zero_division=0),
                "f1": skm.f1_score(actual, predicted, pos_label="b", zero_division=0),
                "roc_auc": skm.roc_auc_score([a == "b" for a in actual], positive),
                "log_loss": skm.log_loss([a == "b" for a in actual], positive),
            }
    assert set(expected) == set(TASK_METRICS[task])
    for key, value in expected.items():
        assert performance[key] == pytest.approx(value, abs=1e-9), key


@REGRESSION_ONLY
def test_a_regression_label_must_be_a_number(served):
    request_id = served.predictions[0]["request_id"]
    for bad in ("12.5", True, None):
        body = {"items": [{"request_id": request_id, "label": bad, "outcomes": {}}]}
        result = served.stack.call("feedback", "POST", "/feedback", body)
        if bad is None:
            assert result.status == 422  # no label and no outcomes
            continue
        assert result.status == 422, result.body
        assert any(e["field"].startswith("items.0.label") for e in result.body["errors"]), result.body
    single = served.stack.call("feedback", "POST", "/feedback", {"request_id": request_id, "label": "high"})
    assert single.status == 422
    assert any(e["field"].startswith("label") for e in single.body["errors"]), single.body


def test_the_openapi_document_follows_the_task(served):
    from modelwatch_local.openapi import generate

    schemas = generate()["components"]["schemas"]
    prediction = schemas["Prediction"]["properties"]
    if served.task == "regression":
        assert prediction["prediction"]["type"] == "number"
        assert "probabilities" not in prediction and "confidence" not in prediction
        label = json.dumps(schemas["FeedbackItem"]["properties"]["label"])
        assert '"number"' in label and '"string"' not in label
    else:
        assert prediction["prediction"]["type"] == "string"
        assert {"probabilities", "confidence"} <= set(prediction)


def test_label_free_estimates_come_from_what_was_captured(served):
    """CBPE (classifiers) from the captured probabilities; DLE (regression) from the expected
    losses the predict function captured: each close to the labelled value on the same rows."""
    estimated, labelled = served.drift["estimated_performance"], served.drift["performance"]
    key = "mae" if served.task == "regression" else "accuracy"
    assert estimated[key] is not None
    tolerance = 0.25 * labelled[key] if served.task == "regression" else 0.08
    assert abs(estimated[key] - labelled[key]) <= tolerance


def _profiles(stack: LocalStack, version: str) -> list[DatasetProfile]:
    return [DatasetProfile.from_json(body) for body in stack.objects(layout.PROFILES.version_prefix(version)).values()]


def _load_failures(stack: LocalStack) -> float:
    """ModelLoadFailed counted on the stack, by any function."""
    found = stack.metrics.points(stack.platform.spec.metrics.namespace, "ModelLoadFailed")
    return sum(value for points in found.values() for _, value in points)


@REGRESSION_ONLY
def test_the_capture_function_profiles_each_records_expected_losses(served):
    """DLE's per-record expected losses are computed where captures are profiled (one loss-model
    run per capture object), so every captured record's losses are in its object's profile."""
    profiles = _profiles(served.stack, "v1")
    assert sum(p.rows for p in profiles) == SERVED_ROWS
    for profile in profiles:
        for loss in (EXPECTED_ABS_ERROR, EXPECTED_SQUARED_ERROR, EXPECTED_ABS_PERCENTAGE_ERROR):
            column = profile.columns[loss]
            assert column.count == profile.rows and column.minimum >= 0


@REGRESSION_ONLY
def test_a_loss_model_that_fails_its_hash_is_never_run(served, tmp_path):
    """The loss model is a graph ONNX Runtime runs: it is verified like the artifact, in a model
    folder and in the registry. The capture function never runs one that does not verify: it
    counts a load failure and profiles the captures without expected losses; serving the
    version's own (verified) model is not held up by its monitoring's loss model."""
    from modelwatch.errors import UserInputError
    from modelwatch.registry.folder import ModelFolder
    from modelwatch.registry.manifest import LOSS_MODEL_NAME

    assert served.manifest.loss_model is not None and served.manifest.loss_model.format == "json"
    bucket = served.stack.platform.settings.model_bucket
    stored = served.stack.s3.get_object(Bucket=bucket, Key=served.manifest.loss_model.key)["Body"].read()
    original = ModelFolder.read(served.stack_folder)
    assert original.loss_model == stored
    original.write(tmp_path / "v2")
    (tmp_path / "v2" / LOSS_MODEL_NAME).write_bytes(stored + b" ")
    with pytest.raises(UserInputError, match=r"loss_model\.json: missing, or its SHA-256"):
        ModelFolder.read(tmp_path / "v2")

    # In the registry: v2 is v1 with its loss model replaced after publishing.
    registry = served.stack.registry
    manifest = registry.publish(
        ModelFolder(original.manifest.model_copy(update={"version": "v2"}), original.artifact, None, stored)
    )
    served.stack.s3.put_object(Bucket=bucket, Key=manifest.loss_model.key, Body=stored + b" ")
    registry.promote("v2")
    served.stack.clock.advance(3600)  # past the pointer's TTL
    failures_before = _load_failures(served.stack)
    result = served.stack.call("predict", "POST", "/predict", {"instances": _records(served.frame, range(5))})
    assert result.status == 200 and {p["model_version"] for p in result.body["predictions"]} == {"v2"}
    assert "ModelLoadFailed" not in result.metrics()  # serving v2 needs no loss model
    served.stack.flush_deliveries()
    assert _load_failures(served.stack) == failures_before + 1  # the capture function's
    (profile,) = _profiles(served.stack, "v2")
    assert profile.rows == 5 and EXPECTED_ABS_ERROR not in profile.columns


def test_the_snapshot_hook_loads_and_runs_every_task(served):
    """SnapStart's before-snapshot hook runs the served model once on an empty record, so ONNX
    Runtime has allocated before the first request."""
    import importlib

    from modelwatch_local.lambda_runtime import load_handler

    load_handler("predict")  # the handler module, imported for this stack's spec
    handler_module = importlib.import_module("functions.predict.handler")
    handler_module._load_before_snapshot()
