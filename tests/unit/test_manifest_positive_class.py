"""A manifest names a positive class for a binary model only: multiclass and regression have none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelwatch.registry.folder import ModelFolder
from modelwatch.registry.manifest import ModelManifest
from modelwatch.spec.inference import inferred_spec

CLASSES = {"binary": ["no", "yes"], "multiclass": ["a", "b", "c"], "regression": []}


@pytest.mark.parametrize(("task", "positive"), [("binary", "yes"), ("multiclass", None), ("regression", None)])
def test_only_a_binary_manifest_has_a_positive_class(task, positive):
    settings = {"positive_class": "yes"} if task == "binary" else {}
    spec = inferred_spec(["x"], [], target="y", task=task, settings=settings)
    folder = ModelFolder.new_version(
        spec,
        "v1",
        datetime(2026, 1, 1, tzinfo=UTC),
        artifact=b"onnx",
        baseline=b"{}",
        loss_model=None,
        classes=CLASSES[task],
        validation_metrics={},
        training_rows=0,
        library_versions={},
    )
    assert folder.manifest.positive_class == positive
    written = folder.manifest.model_dump(mode="json")
    assert written["positive_class"] == positive
    # A manifest written before (a multiclass one naming "1") still reads.
    assert ModelManifest.model_validate(written | {"positive_class": "1"}).positive_class == "1"
