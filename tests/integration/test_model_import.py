"""`modelwatch import`: scikit-learn pipelines, XGBoost and LightGBM models of every task become
model folders whose ONNX graph answers like the original, and are served."""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest

from modelwatch.cli.main import main
from modelwatch.importing.model_import import ServedGraph
from modelwatch.registry.folder import ModelFolder
from modelwatch.registry.manifest import LOSS_MODEL_NAME, sha256_hex
from modelwatch.spec import load_spec
from modelwatch.spec.models import TASK_METRICS
from tests.integration.model_import_fixtures import LIBRARIES, NUMERIC, SKLEARN_CASES, TARGET, TASKS, write_case

pytest.importorskip("xgboost")
pytest.importorskip("lightgbm")
pytest.importorskip("onnxmltools")

CASES = [*product(LIBRARIES, TASKS), *SKLEARN_CASES]


def _original(model, task: str, frame) -> np.ndarray:
    inputs = frame[list(getattr(model, "feature_names_in_", NUMERIC))]  # as it was fitted
    if task == "regression":
        return np.asarray(model.predict(inputs), dtype=np.float64)
    return np.asarray(model.predict_proba(inputs), dtype=np.float64)


def _import(model: object, data: object, spec: object, out: object, version: str | None = None) -> int:
    """`modelwatch import` as a user types it; its exit code."""
    arguments = ["import", "--model", str(model), "--data", str(data), "--spec", str(spec), "--out", str(out)]
    return main(arguments + (["--version", version] if version else []))


@pytest.mark.parametrize(("library", "task"), CASES)
def test_import_converts_and_proves_each_library_and_task(tmp_path, library, task):
    model_path, data, spec_path, model, frame = write_case(library, task, tmp_path / "in")
    out = tmp_path / "folder"
    code = _import(model_path, data, spec_path, out, version="v1")
    assert code == 0
    folder = ModelFolder.read(out)  # verifies the SHA-256
    manifest = folder.manifest
    assert manifest.version == "v1" and manifest.task == task
    assert sha256_hex(folder.artifact) == manifest.artifact.sha256
    assert set(TASK_METRICS[task]) <= set(manifest.validation_metrics)
    assert folder.baseline is not None
    assert (out / "monitoring.toml").read_text() == spec_path.read_text()
    assert (out / LOSS_MODEL_NAME).is_file() == (task == "regression")
    # The served graph (float32 feeds, as the predict function builds them) against the original.
    spec = load_spec(spec_path)
    rows = frame.iloc[:200]
    served = ServedGraph(folder.artifact, manifest.classes).outputs(spec, {c: rows[c].to_numpy() for c in rows})
    original = _original(model, task, rows)
    if task == "regression":
        assert np.max(np.abs(served - original) / np.maximum(np.abs(original), 1)) < 1e-4
        assert manifest.validation_metrics["mae"] > 0
    else:
        assert served.shape == original.shape
        assert np.max(np.abs(served - original)) < 1e-4
        assert len(manifest.classes) == (2 if task == "binary" else 3)


@pytest.mark.parametrize(("library", "task"), CASES)
def test_an_import_is_served_by_the_predict_handler(tmp_path, library, task):
    from modelwatch_local.stack import LocalStack

    model_path, data, spec_path, model, frame = write_case(library, task, tmp_path / "in", rows=400)
    out = tmp_path / "folder"
    assert _import(model_path, data, spec_path, out, version="imported-1") == 0
    stack = LocalStack(out / "monitoring.toml")  # the spec the folder carries
    try:
        stack.publish_model_dir(out)
        rows = frame.iloc[:20]
        features = rows[list(load_spec(spec_path).features)]  # named, in the spec's order
        records = [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in features.to_dict("records")
        ]
        result = stack.call("predict", "POST", "/predict", {"instances": records})
        assert result.status == 200, result.body
        original = _original(model, task, rows)
        predictions = result.body["predictions"]
        assert all(p["model_version"] == "imported-1" for p in predictions)
        if task == "regression":
            served = np.asarray([p["prediction"] for p in predictions])
            assert np.max(np.abs(served - original) / np.maximum(np.abs(original), 1)) < 1e-4
            return
        classes = [str(c) for c in model.classes_]
        served = np.asarray([[p["probabilities"][c] for c in classes] for p in predictions])
        assert np.max(np.abs(served - original)) < 1e-4
    finally:
        stack.stop()


def test_a_float32_split_flip_is_refused_naming_the_feature(tmp_path, capsys):
    import lightgbm
    import pandas as pd

    # 2**24 + 1 is not a float32: the graph sees 2**24 on both sides of LightGBM's double split.
    rng = np.random.default_rng(0)
    income = np.where(rng.random(400) < 0.5, 2.0**24, 2.0**24 + 1)
    frame = pd.DataFrame({"age": rng.uniform(20, 60, 400), "income": income, "score": rng.uniform(300, 800, 400)})
    frame[TARGET] = np.where(income > 2.0**24, 100.0, 0.0) + frame["age"]
    model = lightgbm.LGBMRegressor(n_estimators=5, min_child_samples=5, verbose=-1).fit(frame[NUMERIC], frame[TARGET])
    model_path = tmp_path / "model.txt"
    model.booster_.save_model(str(model_path))
    frame.to_csv(tmp_path / "data.csv", index=False)
    from tests.integration.model_import_fixtures import spec_text

    (tmp_path / "spec.toml").write_text(spec_text("regression", categorical=False))
    out = tmp_path / "folder"
    code = _import(model_path, tmp_path / "data.csv", tmp_path / "spec.toml", out)
    error = capsys.readouterr().err
    assert code == 2
    assert "disagrees with the original" in error and "income=" in error and "float32" in error
    assert len(error.strip().splitlines()) == 1
    assert not out.exists()  # nothing written


def test_a_model_that_cannot_be_converted_is_one_line_exit_2(tmp_path, capsys):
    import joblib
    from sklearn.semi_supervised import LabelSpreading

    _model_path, data, spec_path, _, frame = write_case("xgboost", "binary", tmp_path / "in", rows=300)
    model = LabelSpreading().fit(frame[NUMERIC], frame[TARGET])  # skl2onnx has no converter for it
    joblib.dump(model, tmp_path / "spreading.joblib")
    code = _import(tmp_path / "spreading.joblib", data, spec_path, tmp_path / "out")
    error = capsys.readouterr().err
    assert code == 2
    # skl2onnx's own cause, quoted, not advice.
    assert "cannot convert LabelSpreading to ONNX: MissingShapeCalculator: Unable to find a shape calculator" in error
    assert len(error.strip().splitlines()) == 1


def test_import_help_warns_about_pickles_and_shows_the_path(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["import", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "runs code when it is loaded" in text and "Nothing ModelWatch runs in AWS" in text
    assert "modelwatch publish" in text and "modelwatch serve --model" in text
