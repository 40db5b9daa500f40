"""`modelwatch import model.onnx` of a classifier exported with skl2onnx's default options (its
probabilities behind a ZipMap) imports, and is served within 1e-4 of the native model, by the
import's own graph run and by the predict function."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelwatch.cli.main import main
from modelwatch.importing.model_import import ServedGraph
from modelwatch.registry.folder import ModelFolder
from modelwatch.spec import load_spec
from tests.integration.model_import_fixtures import CATEGORICAL, NUMERIC, write_case

pytest.importorskip("skl2onnx")


def _default_export(model: object, path: Path) -> None:
    """skl2onnx as a user calls it: one input per column, no options (a ZipMap output)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    inputs = [(name, FloatTensorType([None, 1])) for name in NUMERIC]
    inputs += [(name, StringTensorType([None, 1])) for name in CATEGORICAL]
    exported = convert_sklearn(model, initial_types=inputs, target_opset=17)
    assert "ZipMap" in {node.op_type for node in exported.graph.node}
    path.write_bytes(exported.SerializeToString())


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_a_default_skl2onnx_export_imports_and_serves_like_the_native_model(tmp_path, task):
    from modelwatch_local.stack import LocalStack

    _, data, spec_path, model, frame = write_case("sklearn", task, tmp_path / "in", rows=400)
    onnx_path = tmp_path / "in" / "model.onnx"
    _default_export(model, onnx_path)
    out = tmp_path / "folder"
    arguments = ["import", "--model", str(onnx_path), "--data", str(data), "--spec", str(spec_path), "--out", str(out)]
    assert main([*arguments, "--version", "zipmap-1"]) == 0

    folder = ModelFolder.read(out)
    classes = [str(c) for c in model.classes_]
    assert folder.manifest.classes == classes
    rows = frame.iloc[:100]
    native = np.asarray(model.predict_proba(rows[[*NUMERIC, *CATEGORICAL]]), dtype=np.float64)
    spec = load_spec(spec_path)
    served = ServedGraph(folder.artifact, classes).outputs(spec, {c: rows[c].to_numpy() for c in rows})
    assert served.shape == native.shape and np.max(np.abs(served - native)) < 1e-4

    stack = LocalStack(out / "monitoring.toml")
    try:
        stack.publish_model_dir(out)
        records = rows[[*NUMERIC, *CATEGORICAL]].iloc[:20].to_dict("records")
        result = stack.call("predict", "POST", "/predict", {"instances": records})
        assert result.status == 200, result.body
        answered = np.asarray([[p["probabilities"][c] for c in classes] for p in result.body["predictions"]])
        assert np.max(np.abs(answered - native[:20])) < 1e-4
    finally:
        stack.stop()
