"""The scikit-learn pipeline ModelWatch trains from a spec, and its export to ONNX.

Serving never unpickles: the pipeline is converted with skl2onnx and run with ONNX Runtime, whose
model format is data (a graph of operators), not code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from modelwatch.serving.encoding import MISSING_CATEGORY
from modelwatch.spec.models import MonitoringSpec


@dataclass(frozen=True)
class TrainedModel:
    pipeline: object  # sklearn Pipeline
    classes: list[str]
    onnx_bytes: bytes
    validation_metrics: dict[str, float | None]


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
    return Pipeline([("preprocess", preprocess), ("classify", LogisticRegression(max_iter=1000))])


def to_onnx(pipeline, spec: MonitoringSpec) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    # float32: ONNX Runtime implements the Imputer operator for float only.
    inputs = [(name, FloatTensorType([None, 1])) for name in spec.numeric_features]
    inputs += [(name, StringTensorType([None, 1])) for name in spec.categorical_features]
    model = convert_sklearn(
        pipeline,
        initial_types=inputs,
        options={id(pipeline): {"zipmap": False}},  # probabilities as a plain tensor
        target_opset=17,
    )
    return model.SerializeToString()


def train(spec: MonitoringSpec, train_columns: Mapping[str, np.ndarray], holdout_columns: Mapping[str, np.ndarray]):
    """Fit on `train_columns`, score on `holdout_columns`, export to ONNX."""
    from modelwatch.performance import ClassificationCounts
    from modelwatch.profiles.coercion import as_labels

    target = spec.columns.target
    if target is None:
        raise ValueError("the spec names no target column to train on")
    pipeline = build_pipeline(spec)
    labels, _ = as_labels(np.asarray(train_columns[target]))
    pipeline.fit(feature_matrix(spec, train_columns), labels)
    classes = [str(c) for c in pipeline.classes_]
    holdout = feature_matrix(spec, holdout_columns)
    probabilities = pipeline.predict_proba(holdout)
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    actual, _ = as_labels(np.asarray(holdout_columns[target]))
    positive = spec.columns.positive_class
    positive_probability = probabilities[:, classes.index(positive)] if positive in classes else None
    metrics = ClassificationCounts.from_rows(actual, predicted, positive_probability, positive).metrics()
    return TrainedModel(pipeline, classes, to_onnx(pipeline, spec), metrics)
