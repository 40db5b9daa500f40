"""[model] task and the [columns] each task needs: a wrong combination names its key."""

from __future__ import annotations

import pytest

from modelwatch.spec import SpecError, parse_spec

FEATURES = {"x": {"type": "numeric"}, "colour": {"type": "categorical"}}


def _spec(task: str | None, columns: dict, retraining: dict | None = None):
    model = {"name": "m"} | ({"task": task} if task else {})
    document = {"model": model, "columns": columns, "features": FEATURES}
    if retraining is not None:
        document["retraining"] = retraining
    return parse_spec(document, "spec.toml")


def _problems(*args) -> list[str]:
    with pytest.raises(SpecError) as caught:
        _spec(*args)
    return caught.value.problems


def test_task_defaults_to_binary_so_todays_specs_keep_working():
    spec = _spec(None, {"target": "y", "prediction": "p", "score": "s"})
    assert spec.task == "binary"
    assert spec.performance_metric == "accuracy"


def test_each_task_with_its_columns_loads():
    multiclass = _spec(
        "multiclass",
        {"target": "y", "prediction": "p", "score_prefix": "proba_", "classes": ["a", "b", "c"]},
        {"performance": {"metric": "f1_macro", "below": 0.7}},
    )
    assert multiclass.columns.score_prefix == "proba_"
    assert multiclass.performance_metric == "f1_macro"
    regression = _spec("regression", {"target": "y", "prediction": "p"}, {"performance": {"metric": "mae", "above": 3}})
    assert regression.retraining.performance.threshold == 3
    assert _spec("regression", {"target": "y", "prediction": "p"}, {"performance": None}).performance_metric == "mae"


@pytest.mark.parametrize(
    ("task", "columns", "key"),
    [
        ("regression", {"score_prefix": "p_"}, "columns.score_prefix"),
        ("regression", {"score": "s"}, "columns.score"),
        ("regression", {"positive_class": "yes"}, "columns.positive_class"),
        ("multiclass", {"score": "s"}, "columns.score"),
        ("multiclass", {"score_kind": "confidence"}, "columns.score_kind"),
        ("binary", {"score_prefix": "p_"}, "columns.score_prefix"),
        ("binary", {"classes": ["a", "b"]}, "columns.classes"),
        ("multiclass", {"score_prefix": "co"}, "columns.score_prefix"),  # prefixes the feature "colour"
    ],
)
def test_a_column_that_does_not_fit_the_task_is_named(task, columns, key):
    retraining = {"performance": None}
    problems = _problems(task, {"target": "y", "prediction": "p", **columns}, retraining)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"spec.toml: {key}: "), problems


@pytest.mark.parametrize(
    ("task", "performance", "expected"),
    [
        ("regression", {"metric": "accuracy"}, "retraining.performance.metric: 'accuracy' is not a regression metric"),
        ("binary", {"metric": "f1_macro"}, "retraining.performance.metric: 'f1_macro' is not a binary metric"),
        ("regression", {"metric": "mae", "below": 2}, "retraining.performance: 'mae' is an error"),
        ("multiclass", {"metric": "accuracy", "above": 0.5}, "retraining.performance: 'accuracy' is a score"),
    ],
)
def test_the_retraining_metric_belongs_to_the_task(task, performance, expected):
    problems = _problems(task, {"target": "y", "prediction": "p"}, {"performance": performance})
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("label", ["café", "x" * 250, "tab\there"])
def test_a_class_that_cannot_name_a_metric_is_refused_in_the_manifest(label):
    from modelwatch.registry.manifest import ArtifactRef, ModelManifest

    fields = {
        "model_name": "m",
        "version": "v1",
        "created_at": "2026-11-28T00:00:00Z",
        "artifact": ArtifactRef(key="models/v1/model.onnx", sha256="0" * 64, size_bytes=1),
        "positive_class": "a",
        "feature_schema": {},
    }
    ModelManifest(classes=["a", "b"], **fields)  # metric names CloudWatch takes
    with pytest.raises(ValueError, match="must be a CloudWatch metric name"):
        ModelManifest(classes=["a", label], **fields)


def test_a_regression_spec_leaves_the_next_specs_default_trigger_alone():
    """A regression drops the default performance trigger from its own settings only: the
    [retraining] table's default is shared, and a later classifier still gets accuracy < 0.80."""
    from modelwatch.spec import parse_spec

    def spec(task: str, target: str):
        return parse_spec(
            {
                "model": {"name": f"{task}-model", "task": task},
                "features": {"x": {"type": "numeric"}},
                "columns": {"target": target, "prediction": "prediction"},
            },
            "spec.toml",
        )

    assert spec("regression", "y").retraining.performance is None
    assert spec("binary", "y").retraining.performance is not None
