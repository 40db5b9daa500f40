"""What goes into a function's code bundle: its own folder, the shared edges, the core modules of
its kind, and the deployment's spec under the name the functions read."""

from __future__ import annotations

from modelwatch_infra.bundling import SPEC_NAME, build_function_code, core_files
from tests.conftest import ROOT


def test_the_bundle_carries_the_deployments_spec_whatever_its_name(tmp_path):
    spec = tmp_path / "fraud-model.toml"
    spec.write_text((ROOT / "monitoring.toml").read_text().replace("threshold = 500", "threshold = 750", 1))
    assert core_files("drift", "monitoring", spec)[SPEC_NAME] == spec
    bundle = build_function_code("drift", tmp_path / "code", spec=spec)
    assert (bundle.path / SPEC_NAME).read_text() == spec.read_text()
    assert (bundle.path / "functions" / "drift" / "handler.py").is_file()
    assert (bundle.path / "modelwatch" / "drift").is_dir()


def test_serving_bundles_leave_the_statistics_out(tmp_path):
    files = core_files("predict", "serving")
    assert "functions/predict/handler.py" in files and "modelwatch/serving/onnx_model.py" in files
    assert not any(path.startswith(("modelwatch/stats/", "modelwatch/training/")) for path in files)
