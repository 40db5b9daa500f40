"""Every zip function imports from what the stack deploys and nothing else: its code folder, its
layers as bundling builds them (for this machine's architecture, so they load here) and the
packages the Lambda Python runtime brings (boto3, botocore and theirs), in a fresh Python of the
runtime's version. A layer pruned too far (numpy.testing, which SciPy imports) fails here, not
at a cold start in Lambda.

Like the package-size test, it builds layers with pip from the package registry (cached under
.cache/layer-imports by requirements and recipe)."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelwatch.catalog.functions import CORE_LAYER, ZIP_FUNCTIONS
from modelwatch_infra.bundling import (
    LAYER_RECIPE,
    ROOT,
    build_core_layer,
    build_function_code,
    build_layer,
    lambda_interpreter,
)

CACHE = ROOT / ".cache" / "layer-imports"
# What the Lambda Python runtime puts on the path beside a function's code and layers.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
ARCHITECTURE = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def _layer(name: str, folder: Path) -> Path:
    if name == CORE_LAYER:
        return build_core_layer(folder / name).path / "python"
    requirements = ROOT / "layers" / "requirements" / f"{name}.txt"
    key = hashlib.sha256(requirements.read_bytes() + ARCHITECTURE.encode() + LAYER_RECIPE).hexdigest()[:16]
    cached = CACHE / f"{name}-{key}"
    if not (cached / "python").is_dir():
        building = CACHE / f".{name}-{key}-{os.getpid()}"
        build_layer(requirements, building, ARCHITECTURE)
        shutil.rmtree(cached, ignore_errors=True)
        building.rename(cached)
    return cached / "python"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> tuple[Path, dict[str, Path], Path]:
    folder = tmp_path_factory.mktemp("layers")
    layers = {name: _layer(name, folder) for name in sorted({n for f in ZIP_FUNCTIONS.values() for n in f.layers})}
    runtime = folder / "runtime"
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    for package in RUNTIME_PACKAGES:
        source = site / package
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, runtime / package)
    return folder, layers, runtime


@pytest.mark.slow
@pytest.mark.parametrize("function", sorted(ZIP_FUNCTIONS))
def test_each_handler_imports_from_its_layers_alone(deployed, function):
    folder, layers, runtime = deployed
    definition = ZIP_FUNCTIONS[function]
    code = build_function_code(function, folder / f"code-{function}").path
    paths = [str(code), *(str(layers[name]) for name in definition.layers), str(runtime)]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "MODELWATCH_SPEC": str(code / "monitoring.toml"),
        "MODELWATCH_DATA_BUCKET": "data-bucket",
        "MODELWATCH_MODEL_BUCKET": "model-bucket",
        "MODELWATCH_MODEL_PREFIX": "models/",
        "MODELWATCH_POINTER_PARAMETER": "/ModelWatch/current-model",
        "MODELWATCH_SLACK_SECRET": "modelwatch/slack-webhook",
        "MODELWATCH_DASHBOARD_NAME": "ModelWatch-dashboard",
        "MODELWATCH_PSEUDONYM_SECRET": "",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LAMBDA_TASK_ROOT": str(code),
        "AWS_LAMBDA_FUNCTION_NAME": f"modelwatch-{function}",
    }
    module = definition.handler.rsplit(".", 1)[0]
    script = f"import sys; sys.path[:0] = {paths!r}; import {module}; import modelwatch; print(modelwatch.__file__)"
    # -I -S: no user site, no site-packages: only what the function would have.
    result = subprocess.run(
        [lambda_interpreter(), "-I", "-S", "-c", script], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().startswith(str(layers[CORE_LAYER]))  # the core came from its layer
