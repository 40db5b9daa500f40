"""Models served from ONNX graphs with ONNX Runtime: no pickle, no code loaded.

A classifier (binary or multiclass) answers class probabilities; a regressor answers a number
per record. A regression version's DLE loss model is monitoring's, run where captures are
profiled (modelwatch.loss_model), never here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime

from modelwatch.serving.encoding import MISSING_CATEGORY

if TYPE_CHECKING:
    from modelwatch.registry.manifest import ModelManifest
    from modelwatch.spec.models import MonitoringSpec


class _OnnxGraph:
    """An ONNX graph whose inputs are the spec's features, one [rows, 1] tensor each."""

    def __init__(self, model_bytes: bytes, numeric: Sequence[str], categorical: Sequence[str]) -> None:
        options = onnxruntime.SessionOptions()
        # One request is a few rows: threads cost more than they give in a Lambda.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.numeric = list(numeric)
        self.categorical = list(categorical)
        expected = {i.name for i in self._session.get_inputs()}
        if expected != set(self.numeric) | set(self.categorical):
            raise ValueError(f"the model's inputs {sorted(expected)} do not match the feature schema")

    def _run(self, records: Sequence[dict[str, Any]]) -> list[Any]:
        feeds: dict[str, np.ndarray] = {}
        for name in self.numeric:
            values = [np.nan if r.get(name) is None else r[name] for r in records]
            feeds[name] = np.asarray(values, dtype=np.float32).reshape(-1, 1)
        for name in self.categorical:
            values = [MISSING_CATEGORY if r.get(name) is None else str(r[name]) for r in records]
            feeds[name] = np.asarray(values, dtype=object).reshape(-1, 1)
        return self._session.run(None, feeds)


class OnnxClassifier(_OnnxGraph):
    def __init__(self, model_bytes: bytes, numeric: Sequence[str], categorical: Sequence[str], classes: Sequence[str]):
        super().__init__(model_bytes, numeric, categorical)
        self.classes = list(classes)

    @classmethod
    def for_spec(cls, model_bytes: bytes, spec: MonitoringSpec, classes: Sequence[str]) -> OnnxClassifier:
        """The classifier of a model trained from `spec`: its features are the graph's inputs."""
        return cls(model_bytes, spec.numeric_features, spec.categorical_features, classes)

    def predict_proba(self, records: Sequence[dict[str, Any]]) -> np.ndarray:
        """Class probabilities, one row per record, columns in `classes` order."""
        _, probabilities = self._run(records)
        return np.asarray(probabilities, dtype=np.float64)

    def warm_up(self) -> None:
        """One run, so ONNX Runtime allocates before the first request (SnapStart's snapshot)."""
        self.predict_proba([{}])


class OnnxRegressor(_OnnxGraph):
    @classmethod
    def for_spec(cls, model_bytes: bytes, spec: MonitoringSpec) -> OnnxRegressor:
        return cls(model_bytes, spec.numeric_features, spec.categorical_features)

    def predict(self, records: Sequence[dict[str, Any]]) -> np.ndarray:
        """The predicted value per record (float64; the graph computes in float32)."""
        (values,) = self._run(records)[:1]
        return np.asarray(values, dtype=np.float64).reshape(-1)

    def warm_up(self) -> None:
        self.predict([{}])


ServedModel = OnnxClassifier | OnnxRegressor


def load_model(spec: MonitoringSpec, manifest: ModelManifest, artifact: bytes) -> ServedModel:
    """The served model of a verified version, for the spec's task. A version trained for another
    task is refused (a load failure), never served with the wrong response shape."""
    if manifest.task != spec.task:
        raise ValueError(f"model version {manifest.version} is a {manifest.task} model; the spec's task is {spec.task}")
    if spec.task == "regression":
        return OnnxRegressor.for_spec(artifact, spec)
    return OnnxClassifier.for_spec(artifact, spec, manifest.classes)
