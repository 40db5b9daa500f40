"""Regression performance without labels: direct loss estimation (DLE), as NannyML does it.

A loss model, fitted on the reference (where the target is known), predicts each record's
absolute error |y - ŷ| and absolute percentage error |y - ŷ| / |y| from its features and the
model's prediction. A window's estimate is the mean of those per-record expectations: MAE, MAPE,
and RMSE as the square root of the mean expected squared error.

The expected squared error is not learnt from squared errors (NannyML's way): their tail makes a
tree ensemble fitted on them chase single records, and its estimate of RMSE wanders. It is the
expected absolute error squared, times the ratio E[e²] / E[|e|]² that the errors' shape gives
(π/2 for normal errors of any spread), fitted on the reference: the sum of squared errors over
the sum of squared expected absolute errors, those predicted out of fold (three folds), so the
ratio does not learn the loss model's fit to its own rows. It holds while the errors' shape stays
and only their size varies with the inputs, which is what the loss model follows.
R² would need the variance of the unseen target, so it is not estimated (None).

The loss model is three gradient-boosted tree ensembles exported to ONNX (skl2onnx), stored with
the model version and run where records are already profiled, a batch at a time (the capture
function on each capture object it writes, the profiler on each batch of a file): the window's
estimate is then a merge of means, never a re-read of raw rows, and the predict function's
answer never waits for it. Fitting needs scikit-learn (training side only); running needs numpy
and ONNX Runtime (the capture function's inference layer).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from modelwatch.graph_bytes import graph_bytes
from modelwatch.loss_model import (
    EXPECTED_ABS_ERROR,
    EXPECTED_ABS_PERCENTAGE_ERROR,
    EXPECTED_SQUARED_ERROR,
    PREDICTION_INPUT,
    LossModel,
    as_floats,
    loss_feeds,
)
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.spec.models import MonitoringSpec

__all__ = [
    "LOSSES",
    "LossModel",
    "estimate_regression",
    "fit_loss_model",
    "inputs_captures_lack",
    "loss_columns",
    "loss_model_inputs",
]

LOSSES = {
    EXPECTED_ABS_ERROR: "absolute error",
    EXPECTED_SQUARED_ERROR: "squared error",
    EXPECTED_ABS_PERCENTAGE_ERROR: "absolute percentage error",
}
# The loss models' trees. A record's loss depends on its inputs in ways a shallow model misses
# (the error of a price model grows with the price, differently per segment), so the trees are
# as deep as a boosted model's usually are; leaves of at least 0.1% of the rows keep single
# records' luck out.
LOSS_MODEL_PARAMETERS: dict[str, Any] = {"n_estimators": 150, "max_depth": 6, "learning_rate": 0.1, "subsample": 0.8}
# Folds of the out-of-fold absolute-error predictions the squared-error ratio is fitted on.
SQUARED_ERROR_RATIO_FOLDS = 3
# Denominator floor of the percentage error, as scikit-learn's MAPE has it.
MAPE_EPSILON = float(np.finfo(np.float64).eps)


def loss_columns(loss_model: LossModel, prediction: str, batch: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The derived columns a profile averages, for a batch of records with their predictions
    (ProfileSchema.expected_losses: bind the first two with functools.partial)."""
    return loss_model.expected_losses(batch, np.asarray(batch[prediction]))


def loss_model_inputs(spec: MonitoringSpec) -> tuple[list[str], list[str]]:
    """The features a loss model reads (numeric, categorical): those captures hold as served. A
    sensitive feature is hashed or dropped before a capture line is written, and the capture
    function, which runs the loss model, could not feed it the values it was fitted on."""
    return spec.plain_numeric_features, spec.plain_categorical_features


def inputs_captures_lack(loss_model: LossModel, spec: MonitoringSpec) -> list[str]:
    """The features `loss_model` reads that the spec's captures do not hold as served: a loss
    model fitted before loss_model_inputs left sensitive features out, or for another spec."""
    numeric, categorical = loss_model_inputs(spec)
    return sorted(loss_model.inputs.difference(numeric, categorical))


def fit_loss_model(
    numeric: list[str],
    categorical: list[str],
    columns: Mapping[str, Any],
    predicted: np.ndarray,
    actual: np.ndarray,
    random_state: int = 0,
) -> LossModel:
    """Fit the loss models and the squared-error ratio on reference rows (training side: needs
    scikit-learn, skl2onnx). Deterministic: folds and trees are seeded with `random_state`."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import KFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    predicted = as_floats(predicted)
    actual = as_floats(actual)
    usable = np.isfinite(predicted) & np.isfinite(actual)
    if usable.sum() < 20:
        raise ValueError("a loss model needs at least 20 reference rows with a target and a prediction")
    feeds = loss_feeds(numeric, categorical, columns, predicted)
    frame = pd.DataFrame({name: feed.reshape(-1) for name, feed in feeds.items()})[usable]
    frame[[*numeric, PREDICTION_INPUT]] = frame[[*numeric, PREDICTION_INPUT]].astype(np.float64)
    error = predicted[usable] - actual[usable]
    targets = {
        EXPECTED_ABS_ERROR: np.abs(error),
        EXPECTED_ABS_PERCENTAGE_ERROR: np.abs(error) / np.maximum(np.abs(actual[usable]), MAPE_EPSILON),
    }

    def pipeline() -> Pipeline:
        preprocess = ColumnTransformer(
            [
                ("numeric", SimpleImputer(strategy="median"), [*numeric, PREDICTION_INPUT]),
                ("categorical", OneHotEncoder(handle_unknown="ignore"), list(categorical)),
            ]
        )
        regressor = GradientBoostingRegressor(
            **LOSS_MODEL_PARAMETERS, min_samples_leaf=max(20, len(frame) // 1000), random_state=random_state
        )
        return Pipeline([("preprocess", preprocess), ("regress", regressor)])

    graphs = {}
    for name, target in targets.items():
        fitted = pipeline().fit(frame, target)
        graphs[name] = _to_onnx(fitted, numeric, categorical)
    out_of_fold = np.empty(len(frame))
    folds = KFold(SQUARED_ERROR_RATIO_FOLDS, shuffle=True, random_state=random_state)
    for fit_rows, held_rows in folds.split(frame):
        fold_model = pipeline().fit(frame.iloc[fit_rows], targets[EXPECTED_ABS_ERROR][fit_rows])
        out_of_fold[held_rows] = np.maximum(fold_model.predict(frame.iloc[held_rows]), 0.0)
    expected_squares = float(np.sum(np.square(out_of_fold)))
    ratio = float(np.sum(np.square(error)) / expected_squares) if expected_squares > 0 else None
    return LossModel(tuple(numeric), tuple(categorical), graphs, squared_error_ratio=ratio)


def _to_onnx(pipeline, numeric: list[str], categorical: list[str]) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    inputs = [(name, FloatTensorType([None, 1])) for name in [*numeric, PREDICTION_INPUT]]
    inputs += [(name, StringTensorType([None, 1])) for name in categorical]
    return graph_bytes(convert_sklearn(pipeline, initial_types=inputs, target_opset=17))


def estimate_regression(current: DatasetProfile) -> dict[str, float | None] | None:
    """mae, rmse, mape of an unlabelled window from its records' expected losses; None when the
    window carries none (no loss model ran on its records)."""
    means = {}
    for name in LOSSES:
        column = current.columns.get(name)
        means[name] = column.mean if isinstance(column, NumericColumnProfile) and column.valid else None
    if means[EXPECTED_ABS_ERROR] is None:
        return None
    squared = means[EXPECTED_SQUARED_ERROR]
    return {
        "mae": means[EXPECTED_ABS_ERROR],
        "rmse": math.sqrt(squared) if squared is not None else None,
        "mape": means[EXPECTED_ABS_PERCENTAGE_ERROR],
        "r2": None,  # needs the unseen target's variance
    }
