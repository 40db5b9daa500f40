"""A classifier served from an ONNX graph with ONNX Runtime: no pickle, no code loaded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime

from modelwatch.serving.encoding import MISSING_CATEGORY

if TYPE_CHECKING:
    from modelwatch.spec.models import MonitoringSpec


class OnnxClassifier:
    def __init__(self, model_bytes: bytes, numeric: Sequence[str], categorical: Sequence[str], classes: Sequence[str]):
        options = onnxruntime.SessionOptions()
        # One request is a few rows: threads cost more than they give in a Lambda.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.numeric = list(numeric)
        self.categorical = list(categorical)
        self.classes = list(classes)
        expected = {i.name for i in self._session.get_inputs()}
        if expected != set(self.numeric) | set(self.categorical):
            raise ValueError(f"the model's inputs {sorted(expected)} do not match the feature schema")

    @classmethod
    def for_spec(cls, model_bytes: bytes, spec: MonitoringSpec, classes: Sequence[str]) -> OnnxClassifier:
        """The classifier of a model trained from `spec`: its features are the graph's inputs."""
        return cls(model_bytes, spec.numeric_features, spec.categorical_features, classes)

    def predict_proba(self, records: Sequence[dict[str, Any]]) -> np.ndarray:
        """Class probabilities, one row per record, columns in `classes` order."""
        feeds: dict[str, np.ndarray] = {}
        for name in self.numeric:
            values = [np.nan if r.get(name) is None else r[name] for r in records]
            feeds[name] = np.asarray(values, dtype=np.float32).reshape(-1, 1)
        for name in self.categorical:
            values = [MISSING_CATEGORY if r.get(name) is None else str(r[name]) for r in records]
            feeds[name] = np.asarray(values, dtype=object).reshape(-1, 1)
        _, probabilities = self._session.run(None, feeds)
        return np.asarray(probabilities, dtype=np.float64)
