"""An ONNX model as bytes, the same bytes for the same model: the converters (skl2onnx,
onnxmltools) name each graph with a fresh random UUID, so two exports of one fitted model would
differ, and so would every SHA-256 the registry and a retraining decision record. The graph's
name means nothing to ONNX Runtime; a fixed one makes an export reproducible."""

from __future__ import annotations

from typing import Any

GRAPH_NAME = "modelwatch"


def graph_bytes(model: Any) -> bytes:
    """`model` (an onnx.ModelProto) serialized, under the fixed graph name."""
    model.graph.name = GRAPH_NAME
    return model.SerializeToString()
