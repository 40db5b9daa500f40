"""Facts about the source that the catalogues rely on, checked by reading the code (not by a
lint rule someone can silence): the core never imports the local runtime; S3 prefixes, metric
names and units, and per-function tables are written in their catalogue and nowhere else."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from modelwatch.catalog import layout
from modelwatch.catalog.functions import FUNCTIONS
from modelwatch.catalog.metrics import CATALOGUE
from tests.conftest import ROOT

CORE = ROOT / "layers" / "modelwatch" / "modelwatch"
PRODUCT = [CORE, ROOT / "functions", ROOT / "infra", ROOT / "benchmarks"]
LAYOUT_CATALOGUE = CORE / "catalog" / "layout.py"
METRIC_CATALOGUE = CORE / "catalog" / "metrics.py"
FUNCTION_CATALOGUE = CORE / "catalog" / "functions.py"
EMIT_HELPER = ROOT / "functions" / "shared" / "emit.py"


def _sources(folders: list[Path]) -> Iterator[Path]:
    for folder in folders:
        yield from sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose, not values)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _strings(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string constant that is not a docstring, f-string parts included."""
    tree = ast.parse(path.read_text(), str(path))
    prose = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            yield node.lineno, node.value


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_the_core_never_imports_the_local_runtime_the_cdk_app_the_functions_or_moto():
    forbidden = ("modelwatch_local", "modelwatch_infra", "functions", "moto")
    offenders = []
    for path in _sources([CORE]):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{_where(path, node.lineno)} {n}" for n in names if n.split(".")[0] in forbidden]
    assert not offenders


def test_no_s3_prefix_is_written_outside_the_layout_catalogue():
    prefixes = tuple(area.prefix for area in layout.AREAS.values())
    offenders = [
        f"{_where(path, line)} {text!r}"
        for path in _sources(PRODUCT)
        if path != LAYOUT_CATALOGUE
        for line, text in _strings(path)
        if text.startswith(prefixes) or "model_version=" in text or text.startswith("dt=") or "/dt=" in text
    ]
    assert not offenders


def test_no_metric_name_or_unit_is_written_outside_the_metric_catalogue():
    names = set(CATALOGUE)
    units = {"Milliseconds", "Count", "Percent"}
    named_per_value = tuple(f"{m.name}." for m in CATALOGUE.values() if m.named_per)
    offenders = []
    for path in _sources(PRODUCT):
        if path == METRIC_CATALOGUE:
            continue
        for line, text in _strings(path):
            if text in names or text in units or text.startswith(named_per_value):
                offenders.append(f"{_where(path, line)} {text!r}")
        if path != EMIT_HELPER:
            source = path.read_text()
            offenders += [f"{path.relative_to(ROOT)} MetricUnit" for _ in range(source.count("MetricUnit"))]
    assert not offenders


def test_no_per_function_table_is_kept_outside_the_function_catalogue():
    """A literal dict, set, list or tuple naming two or more functions is a second table. (The
    metric catalogue names the function that emits each metric: that fact is its own. Type
    annotations such as Literal["notify", "retrain"] are names of something else.)"""
    names = set(FUNCTIONS)
    offenders = []
    for path in _sources(PRODUCT):
        if path in (FUNCTION_CATALOGUE, METRIC_CATALOGUE):
            continue
        tree = ast.parse(path.read_text())
        annotations = {id(n.slice) for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
        for node in ast.walk(tree):
            if id(node) in annotations:
                continue
            if isinstance(node, ast.Dict):
                items = [*node.keys, *node.values]
            elif isinstance(node, ast.Set | ast.List | ast.Tuple):
                items = node.elts
            else:
                continue
            named = {i.value for i in items if isinstance(i, ast.Constant) and i.value in names}
            if len(named) >= 2:
                offenders.append(f"{_where(path, node.lineno)} {sorted(named)}")
    assert not offenders


def test_no_api_route_or_drift_cadence_is_written_outside_the_function_catalogue():
    """The routes (and the drift check's cadence) are the function catalogue's: handlers, the
    local server, the story and the smoke test read them from there."""
    routes = {f.route for f in FUNCTIONS.values() if f.route}
    offenders = [
        f"{_where(path, line)} {text!r}"
        for path in _sources(PRODUCT)
        if path != FUNCTION_CATALOGUE
        for line, text in _strings(path)
        if text in routes or text in ("rate(1 hour)",)
    ]
    offenders += [
        f"{_where(path, node.lineno)} {node.value}"
        for path in _sources(PRODUCT)
        if path != FUNCTION_CATALOGUE
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value == 3600 and "drift" in path.name
    ]
    assert routes and not offenders


def test_a_versions_manifest_is_assembled_in_one_place():
    """Training, import and retraining make versions through ModelFolder.new_version: a new
    manifest field is added there once."""
    owner = CORE / "registry" / "folder.py"
    offenders = [
        f"{_where(path, node.lineno)} ModelManifest(...)"
        for path in _sources(PRODUCT)
        if path != owner
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ModelManifest"
    ]
    assert not offenders


def test_the_scans_find_what_they_look_for(tmp_path):
    """The checks above can fail: each one's pattern is found in a file that breaks the rule."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        'KEY = f"capture/model_version={v}/"\nUNIT = "Count"\nTABLE = {"predict": 1, "drift": 2}\n'
        'ROUTES = {"/a": "predict", "/b": "feedback"}\nPATH = "/predict"\n'
    )
    assert {"capture/model_version=", "Count", "/predict"} <= {text for _, text in _strings(sample)}
    tree = ast.parse(sample.read_text())
    tables = [n for n in ast.walk(tree) if isinstance(n, ast.Dict)]
    named = [
        {i.value for i in [*t.keys, *t.values] if isinstance(i, ast.Constant) and i.value in FUNCTIONS} for t in tables
    ]
    assert named == [{"predict", "drift"}, {"predict", "feedback"}]  # values count as well as keys


def test_the_documented_metric_list_is_the_catalogue():
    from modelwatch.catalog import metrics_doc

    document = (ROOT / "docs" / "spec.md").read_text()
    assert metrics_doc.updated(document) == document, "stale: run python -m modelwatch.catalog.metrics_doc"
    assert all(f"`{metric.name_for(f'<{metric.named_per}>')}`" in document for metric in CATALOGUE.values())
