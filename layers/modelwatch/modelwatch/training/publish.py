"""Train a model from the spec into a model folder: the ONNX artifact, its manifest, its baseline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from importlib import metadata

import numpy as np

from modelwatch.profiles import ProfileBuilder, ProfileSchema
from modelwatch.registry.folder import ModelFolder
from modelwatch.registry.manifest import ARTIFACT_NAME, BASELINE_NAME, ArtifactRef, ModelManifest, sha256_hex
from modelwatch.spec.models import MonitoringSpec
from modelwatch.training.pipeline import feature_matrix, train

LIBRARIES = ("numpy", "scikit-learn", "skl2onnx", "onnx", "onnxruntime")


def _versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def baseline_columns(spec: MonitoringSpec, model, holdout: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The holdout's features with the model's predictions and scores, as production captures them."""
    probabilities = model.pipeline.predict_proba(feature_matrix(spec, holdout))
    classes = model.classes
    predicted = np.array([classes[i] for i in probabilities.argmax(axis=1)], dtype=object)
    columns = {name: np.asarray(holdout[name]) for name in spec.features}
    if spec.columns.prediction:
        columns[spec.columns.prediction] = predicted
    if spec.columns.score:
        positive = spec.columns.positive_class
        columns[spec.columns.score] = (
            probabilities.max(axis=1)
            if spec.columns.score_kind == "confidence"
            else probabilities[:, classes.index(positive)]
        )
    if spec.columns.target and spec.columns.target in holdout:
        columns[spec.columns.target] = np.asarray(holdout[spec.columns.target])
    return columns


def build_model_folder(
    spec: MonitoringSpec,
    version: str,
    train_columns: Mapping[str, np.ndarray],
    holdout_columns: Mapping[str, np.ndarray],
    now: datetime,
) -> ModelFolder:
    """Train, export to ONNX, and profile the holdout as the baseline: everything a version needs."""
    model = train(spec, train_columns, holdout_columns)
    rows = len(next(iter(holdout_columns.values())))
    builder = ProfileBuilder(
        ProfileSchema.from_spec(spec), chunk_rows=max(1, -(-rows // spec.drift.calibration_chunks))
    )
    builder.add(baseline_columns(spec, model, holdout_columns))
    manifest = ModelManifest(
        model_name=spec.model.name,
        version=version,
        created_at=now.isoformat(timespec="seconds"),
        artifact=ArtifactRef(key=ARTIFACT_NAME, sha256=sha256_hex(model.onnx_bytes), size_bytes=len(model.onnx_bytes)),
        baseline_key=BASELINE_NAME,
        classes=model.classes,
        positive_class=spec.columns.positive_class,
        feature_schema={name: f.model_dump(mode="json") for name, f in spec.features.items()},
        validation_metrics=model.validation_metrics,
        training_rows=len(next(iter(train_columns.values()))),
        library_versions=_versions(),
    )
    return ModelFolder(manifest, model.onnx_bytes, builder.result().to_json())
