"""Facts about the source that the catalogues rely on, checked by reading the code (not by a
lint rule someone can silence): the core never imports the local runtime; S3 prefixes, metric
names and units, and per-function tables are written in their catalogue and nowhere else."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from modelwatch.catalog import layout
from modelwatch.catalog.functions import DRIFT, FUNCTIONS
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
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return f"{shown}:{line}"


# The core's floors, lowest first: a package imports only from floors below its own (within a
# package, anything). Written down here once; README's map of the code follows it.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("__init__", "errors", "labels", "sketches", "graph_bytes", "policy_evaluation", "catalog", "demo"),  # leaves
    ("spec", "feedback", "score_histogram"),  # the monitoring spec; feedback records; exact score counts
    ("registry", "alerts", "performance"),  # versions, the alarm plan and dashboard, metrics of labels
    ("serving",),  # ONNX serving, capture records, request ids
    ("data_access", "loss_model"),  # S3, SSM and Secrets Manager; DLE's loss model
    ("profiles",),  # mergeable profiles
    ("stats", "quality", "dle", "cbpe"),  # statistics on profiles
    ("drift", "windows", "training"),  # verdicts, windows of captures, training
    ("report", "importing", "segments"),  # reports; models brought from elsewhere; verdicts per segment
    ("retraining",),
    ("jobs",),  # orchestration over data access
    ("cost",),
    ("cli",),  # the command line
    ("__main__",),  # python -m modelwatch
)
# Above the core, in this order: a package imports only from those before it.
PACKAGES = ("modelwatch", "functions", "modelwatch_local", "modelwatch_infra")
PACKAGE_ROOTS = {
    "modelwatch": CORE,
    "functions": ROOT / "functions",
    "modelwatch_local": ROOT / "infra" / "local" / "modelwatch_local",
    "modelwatch_infra": ROOT / "infra" / "modelwatch_infra",
}


def _modules() -> dict[str, Path]:
    """Every module of the four packages, by dotted name (a package by its own name)."""
    found = {}
    for package, root in PACKAGE_ROOTS.items():
        for path in _sources([root]):
            parts = (package, *path.relative_to(root).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(modules: dict[str, Path]) -> Iterator[tuple[str, str, int]]:
    """(importer, imported module, line) for every import between the packages, function-local
    and TYPE_CHECKING ones included. `from a import b` where b is a module imports b itself."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    for importer, path in modules.items():
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for name in names:
                imported = resolve(name)
                if imported is not None and imported != importer:
                    yield importer, imported, node.lineno


def _core_unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _floor(unit: str) -> int:
    return next(i for i, floor in enumerate(FLOORS) if unit in floor)


def test_every_import_points_down():
    """Core packages import only from lower floors; the packages above the core only from the
    ones before them (the core never imports the functions, the local runtime or the CDK app)."""
    modules = _modules()
    core_units = {_core_unit(m) for m in modules if m.split(".")[0] == "modelwatch"}
    assert core_units == {u for floor in FLOORS for u in floor}, "every core package has exactly one floor"
    offenders = []
    for importer, imported, line in _imports(modules):
        top, target = importer.split(".")[0], imported.split(".")[0]
        where = f"{_where(modules[importer], line)} {importer} -> {imported}"
        if top != target:
            if PACKAGES.index(target) > PACKAGES.index(top):
                offenders.append(where)
        elif top == "modelwatch":
            source, destination = _core_unit(importer), _core_unit(imported)
            if source != destination and _floor(destination) >= _floor(source):
                offenders.append(where)
    assert not offenders


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_files_import_each_other_in_a_circle():
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for importer, imported, _ in _imports(modules):
        graph.setdefault(importer, set()).add(imported)
    assert _cycles(graph) == []


def test_the_import_checks_can_fail():
    """A circle and an upward arrow, found where they are."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _floor("cli") > _floor("jobs") > _floor("drift") > _floor("profiles") > _floor("catalog")


def local_import_offenders(path: Path) -> list[str]:
    """A module of the project imported inside a function, without a reason on its line. (The
    command line imports each command's modules when it runs, for the reason its package says;
    third-party imports inside functions are the heavy optional ones.)"""
    lines = path.read_text().splitlines()
    found = []
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if module and module.split(".")[0] in PACKAGES and "#" not in lines[node.lineno - 1]:
                    found.append(f"{_where(path, node.lineno)} {lines[node.lineno - 1].strip()}")
    return found


def test_the_projects_modules_are_imported_at_the_top_of_a_module():
    command_line = CORE / "cli"
    offenders = [
        o
        for path in _sources([CORE, ROOT / "functions", ROOT / "infra"])
        if command_line not in path.parents
        for o in local_import_offenders(path)
    ]
    assert offenders == []


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


# Each rule is an offender finder over one file; the tests run it over the product, and the
# self-check runs the very same finders over a file that breaks every rule.


def prefix_offenders(path: Path) -> list[str]:
    prefixes = tuple(area.prefix for area in layout.AREAS.values())
    return [
        f"{_where(path, line)} {text!r}"
        for line, text in _strings(path)
        if text.startswith(prefixes) or "model_version=" in text or text.startswith("dt=") or "/dt=" in text
    ]


def metric_offenders(path: Path, emit_helper: bool = False) -> list[str]:
    names = set(CATALOGUE)
    units = {"Milliseconds", "Count", "Percent"}
    named_per_value = tuple(f"{m.name}." for m in CATALOGUE.values() if m.named_per)
    found = [
        f"{_where(path, line)} {text!r}"
        for line, text in _strings(path)
        if text in names or text in units or text.startswith(named_per_value)
    ]
    if not emit_helper:
        found += [f"{path.name} MetricUnit" for _ in range(path.read_text().count("MetricUnit"))]
    return found


def table_offenders(path: Path) -> list[str]:
    """A literal dict (keys or values), set, list or tuple naming two or more functions is a
    second table. (Type annotations such as Literal["notify", "retrain"] name something else.)"""
    tree = ast.parse(path.read_text())
    annotations = {id(n.slice) for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
    found = []
    for node in ast.walk(tree):
        if id(node) in annotations:
            continue
        if isinstance(node, ast.Dict):
            items = [*node.keys, *node.values]
        elif isinstance(node, ast.Set | ast.List | ast.Tuple):
            items = node.elts
        else:
            continue
        named = {i.value for i in items if isinstance(i, ast.Constant) and i.value in FUNCTIONS}
        if len(named) >= 2:
            found.append(f"{_where(path, node.lineno)} {sorted(named)}")
    return found


def route_and_cadence_offenders(path: Path) -> list[str]:
    routes = {f.route for f in FUNCTIONS.values() if f.route}
    found = [
        f"{_where(path, line)} {text!r}" for line, text in _strings(path) if text in routes or text == "rate(1 hour)"
    ]
    found += [
        f"{_where(path, node.lineno)} {node.value}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value == DRIFT.every_seconds and "drift" in path.name
    ]
    return found


def manifest_offenders(path: Path) -> list[str]:
    return [
        f"{_where(path, node.lineno)} ModelManifest(...)"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ModelManifest"
    ]


def test_no_s3_prefix_is_written_outside_the_layout_catalogue():
    assert [o for path in _sources(PRODUCT) if path != LAYOUT_CATALOGUE for o in prefix_offenders(path)] == []


def test_no_metric_name_or_unit_is_written_outside_the_metric_catalogue():
    offenders = [
        o for path in _sources(PRODUCT) if path != METRIC_CATALOGUE for o in metric_offenders(path, path == EMIT_HELPER)
    ]
    assert offenders == []


def test_no_per_function_table_is_kept_outside_the_function_catalogue():
    """(The metric catalogue names the function that emits each metric: that fact is its own.)"""
    skipped = (FUNCTION_CATALOGUE, METRIC_CATALOGUE)
    assert [o for path in _sources(PRODUCT) if path not in skipped for o in table_offenders(path)] == []


def test_no_api_route_or_drift_cadence_is_written_outside_the_function_catalogue():
    """The routes and the drift check's cadence are the function catalogue's: handlers, the local
    server, the story, the smoke test, the alarm plan and the schedule read them from there."""
    offenders = [
        o for path in _sources(PRODUCT) if path != FUNCTION_CATALOGUE for o in route_and_cadence_offenders(path)
    ]
    assert offenders == []


def test_a_versions_manifest_is_assembled_in_one_place():
    """Training, import and retraining make versions through ModelFolder.new_version: a new
    manifest field is added there once."""
    owner = CORE / "registry" / "folder.py"
    assert [o for path in _sources(PRODUCT) if path != owner for o in manifest_offenders(path)] == []


def test_the_checks_above_can_fail(tmp_path):
    """Every finder the checks run finds its offence in a file that commits it."""
    sample = tmp_path / "drift_sample.py"
    sample.write_text(
        'KEY = f"capture/model_version={v}/"\n'
        'UNIT = "Count"\n'
        'TABLE = {"predict": 1, "drift": 2}\n'
        'ROUTES = {"/a": "predict", "/b": "feedback"}\n'
        'PATH = "/predict"\n'
        "EVERY = 3600\n"
        "MANIFEST = ModelManifest(version='v1')\n"
        "def later():\n    from modelwatch.errors import UserInputError\n"
    )
    assert [o.split(" ", 1)[1] for o in prefix_offenders(sample)] == ["'capture/model_version='"]
    assert [o.split(" ", 1)[1] for o in metric_offenders(sample)] == ["'Count'"]
    assert [o.split(" ", 1)[1] for o in table_offenders(sample)] == ["['drift', 'predict']", "['feedback', 'predict']"]
    assert [o.split(" ", 1)[1] for o in route_and_cadence_offenders(sample)] == ["'/predict'", "3600"]
    assert [o.split(" ", 1)[1] for o in manifest_offenders(sample)] == ["ModelManifest(...)"]
    assert [o.split(" ", 1)[1] for o in local_import_offenders(sample)] == [
        "from modelwatch.errors import UserInputError"
    ]


def test_the_documented_metric_list_is_the_catalogue():
    from modelwatch.catalog import metrics_doc

    document = (ROOT / "docs" / "spec.md").read_text()
    assert metrics_doc.updated(document) == document, "stale: run python -m modelwatch.catalog.metrics_doc"
    assert all(f"`{metric.name_for(f'<{metric.named_per}>')}`" in document for metric in CATALOGUE.values())
