"""The scikit-learn pipeline ModelWatch trains from a spec, and its export to ONNX.

Serving never unpickles: the pipeline is converted with skl2onnx and run with ONNX Runtime, whose
model format is data (a graph of operators), not code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelwatch.dle import LossModel, fit_loss_model, loss_model_inputs
from modelwatch.graph_bytes import graph_bytes
from modelwatch.performance import ClassificationCounts, MulticlassCounts, RegressionMoments
from modelwatch.profiles.coercion import as_labels
from modelwatch.serving.encoding import MISSING_CATEGORY
from modelwatch.spec.models import MonitoringSpec


@dataclass(frozen=True)
class TrainedModel:
    pipeline: object  # sklearn Pipeline
    classes: list[str]  # empty for a regression
    onnx_bytes: bytes
    validation_metrics: dict[str, Any]
    # Regression: DLE's loss model, fitted on the holdout (the baseline), whose errors are honest.
    loss_model: LossModel | None = None

    def predict(self, spec: MonitoringSpec, columns: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """(predicted class or value per row, class probabilities or None for a regression)."""
        features = feature_matrix(spec, columns)
        if not self.classes:
            return np.asarray(self.pipeline.predict(features), dtype=np.float64), None  # type: ignore[attr-defined]
        probabilities = self.pipeline.predict_proba(features)  # type: ignore[attr-defined]
        return np.array([self.classes[i] for i in probabilities.argmax(axis=1)], dtype=object), probabilities


def feature_matrix(spec: MonitoringSpec, columns: Mapping[str, np.ndarray]):
    """A pandas frame of the spec's features, typed as the pipeline and the ONNX graph expect."""
    import pandas as pd

    frame = {}
    for name in spec.numeric_features:
        frame[name] = np.asarray(columns[name], dtype=np.float64)
    for name in spec.categorical_features:
        values = np.asarray(columns[name], dtype=object)
        frame[name] = np.where(pd.isna(values), MISSING_CATEGORY, values.astype(str))
    return pd.DataFrame(frame)


def build_pipeline(spec: MonitoringSpec):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    preprocess = ColumnTransformer(
        [
            ("numeric", numeric, spec.numeric_features),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), spec.categorical_features),
        ]
    )
    if spec.task == "regression":
        from sklearn.linear_model import Ridge

        return Pipeline([("preprocess", preprocess), ("regress", Ridge(alpha=1.0))])
    return Pipeline([("preprocess", preprocess), ("classify", LogisticRegression(max_iter=1000))])


def to_onnx(pipeline, spec: MonitoringSpec) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    # float32: ONNX Runtime implements the Imputer operator for float only.
    inputs = [(name, FloatTensorType([None, 1])) for name in spec.numeric_features]
    inputs += [(name, StringTensorType([None, 1])) for name in spec.categorical_features]
    # Classifiers: probabilities as a plain tensor (no ZipMap); a regressor has one output.
    options = {} if spec.task == "regression" else {id(pipeline): {"zipmap": False}}
    model = convert_sklearn(pipeline, initial_types=inputs, options=options, target_opset=17)
    return graph_bytes(model)


def train(spec: MonitoringSpec, train_columns: Mapping[str, np.ndarray], holdout_columns: Mapping[str, np.ndarray]):
    """Fit on `train_columns`, score on `holdout_columns`, export to ONNX. The holdout's metrics
    are the task's performance keys; a regression also gets its loss model (DLE) from the holdout."""

    target = spec.columns.target
    if target is None:
        raise ValueError("the spec names no target column to train on")
    pipeline = build_pipeline(spec)
    if spec.task == "regression":
        pipeline.fit(feature_matrix(spec, train_columns), np.asarray(train_columns[target], dtype=np.float64))
        trained = TrainedModel(pipeline, [], to_onnx(pipeline, spec), {})
        predicted_values, _ = trained.predict(spec, holdout_columns)
        actual_values = np.asarray(holdout_columns[target], dtype=np.float64)
        loss_model = fit_loss_model(*loss_model_inputs(spec), holdout_columns, predicted_values, actual_values)
        metrics = RegressionMoments.from_rows(actual_values, predicted_values).metrics()
        return TrainedModel(pipeline, [], trained.onnx_bytes, metrics, loss_model)
    labels, _ = as_labels(np.asarray(train_columns[target]))
    pipeline.fit(feature_matrix(spec, train_columns), labels)
    classes = [str(c) for c in pipeline.classes_]
    holdout = feature_matrix(spec, holdout_columns)
    probabilities = pipeline.predict_proba(holdout)
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    actual, _ = as_labels(np.asarray(holdout_columns[target]))
    if spec.task == "multiclass":
        metrics = MulticlassCounts.from_rows(actual, predicted, probabilities, classes).metrics()
        return TrainedModel(pipeline, classes, to_onnx(pipeline, spec), metrics)
    positive = spec.columns.positive_class
    positive_probability = probabilities[:, classes.index(positive)] if positive in classes else None
    metrics = ClassificationCounts.from_rows(actual, predicted, positive_probability, positive).metrics()
    return TrainedModel(pipeline, classes, to_onnx(pipeline, spec), metrics)
