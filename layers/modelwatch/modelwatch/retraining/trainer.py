"""The team's own training code in a retraining run: `[retraining] trainer = "package.module:function"`
names a callable `function(frame, spec)` that takes the prepared training frame (the spec's
features, typed as served, plus the target column; pandas) and the spec, and returns a fitted
model of any kind `modelwatch import` accepts: a scikit-learn estimator or pipeline, an XGBoost
or LightGBM model, ONNX bytes, or the path of a model file. What it returns then goes through
the import's conversion and parity check (modelwatch.importing), as a model a user imports does."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from modelwatch.errors import UserInputError
from modelwatch.importing.model_import import import_source
from modelwatch.importing.sources import fitted_source_model
from modelwatch.registry.folder import ModelFolder
from modelwatch.retraining.decision import actual_of
from modelwatch.spec.models import MonitoringSpec
from modelwatch.training.pipeline import feature_matrix

Trainer = Callable[[Any, MonitoringSpec], Any]


def load_trainer(reference: str) -> Trainer:
    """The callable `package.module:function` names; a reference that does not resolve is a
    UserInputError naming the spec key."""
    module_name, _, function_name = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UserInputError(
            f"retraining.trainer: cannot import {module_name!r} ({error}); install the package in the retrain "
            "image (retraining.trainer_requirements)"
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise UserInputError(f"retraining.trainer: {module_name} has no callable {function_name!r}")
    return function


def training_frame(spec: MonitoringSpec, columns: Mapping[str, np.ndarray]):
    """The features as the served model receives them (numbers as float64 with NaN for missing,
    categories as text with the reserved missing category), plus the target as stored: class
    labels as text, a regression's values as numbers."""

    target = spec.columns.target
    assert target is not None
    frame = feature_matrix(spec, columns)
    frame[target] = actual_of(spec, columns)  # as Evaluate compares it (1, 1.0 and "1" one label)
    return frame


def train_with_trainer(
    spec: MonitoringSpec,
    reference: str,
    version: str,
    train_columns: Mapping[str, np.ndarray],
    holdout_columns: Mapping[str, np.ndarray],
    now: datetime,
) -> ModelFolder:
    """Run the team's trainer on the training rows, then import what it returns, proved on the
    holdout (which also gives the version its validation metrics and baseline)."""

    fitted = load_trainer(reference)(training_frame(spec, train_columns), spec)
    if fitted is None:
        raise UserInputError(f"retraining.trainer: {reference} returned nothing; it must return the fitted model")
    source = fitted_source_model(fitted, Path(f"trainer {reference}"))
    rows = len(next(iter(train_columns.values())))
    return import_source(spec, source, holdout_columns, version, now, training_rows=rows)
