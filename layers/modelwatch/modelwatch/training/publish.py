"""Train a model from the spec into a model folder: the ONNX artifact, its manifest, its baseline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from importlib import metadata

import numpy as np

from modelwatch.profiles import ProfileSchema
from modelwatch.profiles.protected import protected_baseline
from modelwatch.profiles.segmented import SegmentedProfileBuilder
from modelwatch.registry.folder import ModelFolder
from modelwatch.spec.models import MonitoringSpec
from modelwatch.spec.roles import with_served_roles
from modelwatch.training.pipeline import train

LIBRARIES = ("numpy", "scikit-learn", "skl2onnx", "onnx", "onnxruntime")


def library_versions(libraries: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """The installed versions of the libraries a model version was made with (for its manifest)."""
    found = {}
    for name in libraries:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def baseline_columns(spec: MonitoringSpec, model, holdout: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The holdout's features with the model's predictions and scores, as production captures them
    (a regression's records also carry their expected losses, as the capture function adds them)."""
    predicted, probabilities = model.predict(spec, holdout)
    classes = model.classes
    columns = {name: np.asarray(holdout[name]) for name in spec.features}
    if spec.columns.prediction:
        columns[spec.columns.prediction] = predicted
    if spec.task == "regression" and model.loss_model is not None:
        columns.update(model.loss_model.expected_losses(holdout, predicted))
    if spec.task == "multiclass" and spec.columns.score_prefix and probabilities is not None:
        for index, label in enumerate(classes):
            columns[spec.columns.score_prefix + label] = probabilities[:, index]
    if spec.columns.score and probabilities is not None:
        positive = spec.columns.positive_class
        columns[spec.columns.score] = (
            probabilities.max(axis=1)
            if spec.columns.score_kind == "confidence"
            else probabilities[:, classes.index(positive)]
        )
    if spec.columns.target and spec.columns.target in holdout:
        columns[spec.columns.target] = np.asarray(holdout[spec.columns.target])
    # Request attributes the data holds (a client id column of the training data): segment keys
    # only, so the baseline keeps a slice per value; the model never read them.
    for name in spec.segment_attributes:
        if name in holdout:
            columns[name] = np.asarray(holdout[name])
    return columns


def baseline_profile(spec: MonitoringSpec, model, columns: Mapping[str, np.ndarray], classes) -> bytes:
    """The baseline profile (JSON) of a model version (trained, imported or retrained): `columns`
    with the model's predictions and scores, under the spec's [columns] names or, where it names
    none, the conventional ones (modelwatch.spec.roles), profiled in the spec's calibration chunks
    (multiclass: the model's classes, unless the spec orders them). The profile records the roles
    (DatasetProfile.roles), so a drift run against it needs no spec to tell them from features."""
    spec = with_served_roles(spec)  # the model's predictions and scores, whatever the spec names
    rows = len(next(iter(columns.values())))
    schema = ProfileSchema.from_spec(spec)
    if spec.task == "multiclass" and spec.columns.classes is None:
        schema = replace(schema, classes=tuple(classes))
    # The spec's segments in the same pass: the deployed capture path cuts traffic by the values
    # this baseline keeps.
    # A segment by a request attribute the data does not hold is left out of the baseline: it has
    # no slice of it (every row would be "(missing)"), so the deployed check cannot judge its values.
    segments = [s for s in spec.segments if not set(s.by) & (set(spec.segment_attributes) - set(columns))]
    builder = SegmentedProfileBuilder(
        schema,
        segments,
        chunk_rows=max(1, -(-rows // spec.drift.calibration_chunks)),
        leave_out=spec.sensitive_features,
    )
    builder.add(baseline_columns(spec, model, columns))
    # No sensitive raw value: kept as long as the version.
    profile = protected_baseline(spec, builder.result().to_profile())
    profile.roles = schema.recorded_roles()
    return profile.to_json()


def build_model_folder(
    spec: MonitoringSpec,
    version: str,
    train_columns: Mapping[str, np.ndarray],
    holdout_columns: Mapping[str, np.ndarray],
    now: datetime,
) -> ModelFolder:
    """Train, export to ONNX, and profile the holdout as the baseline: everything a version needs."""
    model = train(spec, train_columns, holdout_columns)
    baseline = baseline_profile(spec, model, holdout_columns, model.classes)
    loss_model = None if model.loss_model is None else model.loss_model.to_bytes()
    return ModelFolder.new_version(
        spec,
        version,
        now,
        artifact=model.onnx_bytes,
        baseline=baseline,
        loss_model=loss_model,
        classes=model.classes,
        validation_metrics=model.validation_metrics,
        training_rows=len(next(iter(train_columns.values()))),
        library_versions=library_versions(),
    )
