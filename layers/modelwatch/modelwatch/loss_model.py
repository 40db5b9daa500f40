"""DLE's loss model at run time: ONNX graphs that predict each record's expected losses from its
features and the model's prediction.

It runs where records are profiled, batched: the capture function on each capture object it has
just written (or a backfill re-reads), the profiler on each batch of a file, and the training
pipeline on the holdout for the baseline. Never in the predict function: a request's answer does
not need it, and three graph runs a record cost more than the rest of monitoring together.
numpy and ONNX Runtime (imported on first use) are all it needs; fitting it is
`modelwatch.dle.fit_loss_model` (training side).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelwatch.serving.encoding import MISSING_CATEGORY

# The derived columns a regression profile averages into DLE's estimates (reserved names start
# with "__": never features). Declared here, where they are produced; profiles import them.
EXPECTED_ABS_ERROR = "__expected_abs_error__"
EXPECTED_SQUARED_ERROR = "__expected_squared_error__"
EXPECTED_ABS_PERCENTAGE_ERROR = "__expected_abs_percentage_error__"
# The loss model's input holding the model's prediction (never a feature name: reserved prefix).
PREDICTION_INPUT = "__prediction__"
FORMAT = "modelwatch-loss-model"


@dataclass(frozen=True)
class LossModel:
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    graphs: dict[str, bytes]  # derived column name -> ONNX graph predicting that loss
    # A record's expected squared error as this multiple of its expected absolute error squared
    # (E[e^2 | x] = ratio * E[|e| | x]^2: the errors' shape, fitted on the reference), where no
    # graph predicts the squared error itself (modelwatch.dle says why).
    squared_error_ratio: float | None = None

    @property
    def inputs(self) -> frozenset[str]:
        """The features it reads (besides the prediction)."""
        return frozenset((*self.numeric, *self.categorical))

    def expected_losses(self, columns: Mapping[str, Any], predicted: np.ndarray) -> dict[str, np.ndarray]:
        """Per record: each loss the model expects, clipped at 0 (a loss is never negative); NaN
        for a record without a finite prediction (nothing to expect an error of)."""
        feeds = loss_feeds(self.numeric, self.categorical, columns, predicted)
        predicted_here = np.isfinite(feeds[PREDICTION_INPUT].reshape(-1))
        result = {}
        for name, graph in self.graphs.items():
            (output,) = _session(graph).run(None, feeds)
            losses = np.maximum(np.asarray(output, dtype=np.float64).reshape(-1), 0.0)
            result[name] = np.where(predicted_here, losses, np.nan)
        if (
            EXPECTED_SQUARED_ERROR not in result
            and self.squared_error_ratio is not None
            and EXPECTED_ABS_ERROR in result
        ):
            result[EXPECTED_SQUARED_ERROR] = self.squared_error_ratio * np.square(result[EXPECTED_ABS_ERROR])
        return result

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "numeric": list(self.numeric),
                "categorical": list(self.categorical),
                "graphs": {name: base64.b64encode(graph).decode("ascii") for name, graph in self.graphs.items()},
                "squared_error_ratio": self.squared_error_ratio,
            }
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, payload: bytes) -> LossModel:
        data = json.loads(payload)
        if data.get("format") != FORMAT:
            raise ValueError("not a ModelWatch loss model")
        return cls(
            tuple(data["numeric"]),
            tuple(data["categorical"]),
            {name: base64.b64decode(graph) for name, graph in data["graphs"].items()},
            None if data.get("squared_error_ratio") is None else float(data["squared_error_ratio"]),
        )


_SESSIONS: dict[int, Any] = {}


def _session(graph: bytes):
    """One ONNX Runtime session per graph per process (building one costs milliseconds)."""
    key = hash(graph)
    if key not in _SESSIONS:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        _SESSIONS[key] = onnxruntime.InferenceSession(graph, sess_options=options, providers=["CPUExecutionProvider"])
    return _SESSIONS[key]


def loss_feeds(numeric, categorical, columns: Mapping[str, Any], predicted: np.ndarray) -> dict[str, np.ndarray]:
    """The loss model's inputs, encoded as the model's own (missing categories alike)."""
    feeds = {}
    for name in numeric:
        feeds[name] = as_floats(columns[name]).astype(np.float32).reshape(-1, 1)
    for name in categorical:
        values = np.asarray(columns[name], dtype=object)
        labels = [MISSING_CATEGORY if v is None or v != v or v == "" else str(v) for v in values.tolist()]
        feeds[name] = np.asarray(labels, dtype=object).reshape(-1, 1)
    feeds[PREDICTION_INPUT] = as_floats(predicted).astype(np.float32).reshape(-1, 1)
    return feeds


def as_floats(values: Any) -> np.ndarray:
    """Numbers as float64; anything that is not a number (None, text) as NaN."""
    array = np.asarray(values)
    if array.dtype.kind in "iufb":
        return array.astype(np.float64)
    out = np.empty(len(array))
    for i, value in enumerate(array.tolist()):
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            out[i] = np.nan
    return out
