"""The functions' packages as the synthesized assets show them: code plus layers, unzipped.

This synth bundles for real (pip installs the Lambda platform's wheels; built layers are cached
under .cache/layers), so it is the one infra test that needs the package registry.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelwatch.catalog.functions import ZIP_FUNCTIONS
from modelwatch_infra.bundling import LAMBDA_PYTHON, LAMBDA_UNZIPPED_LIMIT, PACKAGE_BUDGET, tree_size
from tests.infra.conftest import synthesize

# The predict function's own budget is tighter than every package's (cold starts read it all).
PREDICT_LIMIT_MB = 150


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("cdk.out")
    _, template, _ = synthesize(bundle=True, outdir=str(outdir), nag=False)
    return outdir, template.to_json()


def _asset(outdir: Path, code: dict) -> Path:
    key = code["S3Key"]
    digest = key.removesuffix(".zip") if isinstance(key, str) else None
    assert digest, code
    return outdir / f"asset.{digest}"


def _folders(outdir: Path, template: dict, handler: str) -> tuple[Path, list[Path]]:
    resources = template["Resources"]
    (function,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == handler
    ]
    layers = [resources[ref["Ref"]]["Properties"]["Content"] for ref in function["Properties"].get("Layers", [])]
    return _asset(outdir, function["Properties"]["Code"]), [_asset(outdir, layer) for layer in layers]


def _sizes(outdir: Path, template: dict, handler: str) -> tuple[int, list[int]]:
    code, layers = _folders(outdir, template, handler)
    return tree_size(code), [tree_size(layer) for layer in layers]


@pytest.mark.parametrize("function", sorted(ZIP_FUNCTIONS))
def test_function_package_fits_its_budget(bundled, function, capsys):
    """Every package within 80% of Lambda's unzipped limit, byte-compiled for the runtime's
    Python (whichever Python synthesizes: bytecode is built with the runtime's version)."""
    outdir, template = bundled
    code, layers = _sizes(outdir, template, f"functions.{function}.handler.handler")
    total = code + sum(layers)
    with capsys.disabled():
        shown = [round(s / 1e6, 1) for s in layers]
        print(f"\n{function}: code {code / 1e6:.2f} MB + layers {shown} MB = {total / 1e6:.1f} MB unzipped")
    assert layers, "the function has no layer"
    assert total <= PACKAGE_BUDGET * LAMBDA_UNZIPPED_LIMIT
    if function == "predict":
        assert total <= PREDICT_LIMIT_MB * 1e6
    code_folder, layer_folders = _folders(outdir, template, f"functions.{function}.handler.handler")
    tag = f"cpython-{LAMBDA_PYTHON.replace('.', '')}"
    for folder in (code_folder, *layer_folders):
        assert next(folder.rglob(f"*.{tag}.pyc"), None) is not None, f"{folder.name} ships no {tag} bytecode"


def test_bundled_code_holds_the_handler_and_the_spec(bundled):
    outdir, template = bundled
    code, layers = _folders(outdir, template, "functions.drift.handler.handler")
    assert (code / "functions" / "drift" / "handler.py").is_file()
    assert (code / "monitoring.toml").is_file()
    (core,) = [layer for layer in layers if (layer / "python" / "modelwatch").is_dir()]
    assert (core / "python" / "modelwatch" / "report" / "templates" / "report.html.j2").is_file()
    assert not (core / "python" / "modelwatch" / "cli").exists()
