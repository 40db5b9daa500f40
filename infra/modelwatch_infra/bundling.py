"""Lambda layers and function code built locally, without Docker.

Layers: `pip install --target` with the Lambda platform's manylinux wheels (--only-binary, so
nothing compiles here), every package pinned and installed without dependencies, then pruned of
what never runs in a function (tests, dist-info, tooling). The core layer: the `modelwatch`
library itself (layers/modelwatch), shared by every zip function. Function code: the function's
folder, the shared API code and the monitoring spec (an image's also carries its build of the
core).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modelwatch.catalog.functions import CORE_LEFT_OUT, FUNCTIONS, SPEC_NAME
from modelwatch.errors import UserInputError

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_PYTHON = "3.12"
PLATFORMS = {
    "arm64": ["manylinux_2_28_aarch64", "manylinux2014_aarch64"],
    "x86_64": ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
}
# Never imported by a function: test suites, packaging metadata, ONNX Runtime's model tooling,
# pydantic's v1 compatibility API (imported only for v1-style types, which neither Powertools 3
# nor ModelWatch has), and type stubs (.pyi: read by type checkers, never by the interpreter).
# Not pruned, though they look like tooling: numpy.testing and numpy.f2py, which SciPy's array API
# layer imports when SciPy is imported. tests/infra/test_layer_imports.py imports every handler
# from its built layers alone, so a package pruned too far fails there, not in Lambda.
PRUNED_DIRECTORIES = ("tests", "__pycache__")
PRUNED_PATHS = (
    "onnxruntime/transformers",
    "onnxruntime/quantization",
    "onnxruntime/tools",
    "onnxruntime/datasets",
    "pydantic/v1",
)
PRUNED_SUFFIXES = (".pyi",)
# Part of every built layer's cache key: a change to what is pruned or compiled builds anew.
LAYER_RECIPE = b"bytecode; pruned: tests, tooling, pydantic/v1, .pyi"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
# Each function's package (code and layers, unzipped) stays within this share of Lambda's limit:
# room for a dependency's minor version to grow without a deploy failing.
PACKAGE_BUDGET = 0.8


@dataclass(frozen=True)
class Bundle:
    path: Path
    size_bytes: int
    bytecode: bool

    @property
    def size_mb(self) -> float:
        return self.size_bytes / 1e6


def tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _prune(site: Path) -> None:
    for relative in PRUNED_PATHS:
        shutil.rmtree(site / relative, ignore_errors=True)
    for folder in sorted(site.rglob("*"), reverse=True):
        if folder.is_dir() and (folder.name in PRUNED_DIRECTORIES or folder.name.endswith(".dist-info")):
            shutil.rmtree(folder, ignore_errors=True)
    for stub in [f for f in site.rglob("*") if f.is_file() and f.suffix in PRUNED_SUFFIXES]:
        stub.unlink()


class BundlingError(RuntimeError):
    pass


def lambda_interpreter(python_version: str = LAMBDA_PYTHON) -> str:
    """A Python of the Lambda runtime's version on this machine, to byte-compile with: bytecode
    is version-specific, and a read-only code folder would make every cold start compile again
    (about 3x slower imports). MODELWATCH_LAMBDA_PYTHON names one; otherwise this interpreter if
    it is that version, then python3.X on PATH, then pyenv's."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == python_version:
        return sys.executable
    named = os.environ.get("MODELWATCH_LAMBDA_PYTHON")
    candidates = [named] if named else []
    candidates += [shutil.which(f"python{python_version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += [str(p / "bin" / f"python{python_version}") for p in sorted(pyenv.glob(f"{python_version}.*"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == python_version:
            return candidate
    raise BundlingError(
        f"no Python {python_version} found to byte-compile the Lambda packages with (the functions run on "
        f"Python {python_version}): install it, or name it with "
        f"MODELWATCH_LAMBDA_PYTHON=/path/to/python{python_version}"
    )


def _compile(site: Path, python_version: str) -> bool:
    """Byte-compile for the Lambda runtime's Python, whatever Python synthesizes: with that
    version's own compiler (a subprocess when this interpreter is another version)."""
    interpreter = lambda_interpreter(python_version)
    command = [interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(site)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return True


def build_layer(
    requirements: Path, out: Path, architecture: str = "arm64", python_version: str = LAMBDA_PYTHON
) -> Bundle:
    """A layer folder (`python/` inside, as Lambda expects) from a pinned requirements file."""
    site = out / "python"
    shutil.rmtree(out, ignore_errors=True)
    site.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--target",
        str(site),
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "-r",
        str(requirements),
    ]
    for platform in PLATFORMS[architecture]:
        command += ["--platform", platform]
    subprocess.run(command, check=True)
    _prune(site)
    compiled = _compile(site, python_version)
    return Bundle(out, tree_size(out), compiled)


CORE = ROOT / "layers" / "modelwatch" / "modelwatch"


def core_modules(core: str) -> list[str]:
    """The core's top-level modules and packages a build of the core ships: every one but the
    function catalogue's CORE_LEFT_OUT for it ("layer": the shared core layer; "training": the
    retrain image's own)."""
    return [p.name for p in sorted(CORE.iterdir()) if p.name not in (*CORE_LEFT_OUT[core], "__pycache__")]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc")


DEFAULT_SPEC = ROOT / SPEC_NAME


def core_files(core: str) -> dict[str, Path]:
    """The core's files in a build of it, by path (modelwatch/...)."""
    return {str(f.relative_to(CORE.parent)): f for name in core_modules(core) for f in _files(CORE / name)}


def bundle_files(function: str, spec: Path = DEFAULT_SPEC) -> dict[str, Path]:
    """Every file of a function's code bundle (what its asset hash covers), by path in the bundle:
    functions/<name>, functions/shared and the spec (the deployment's, whatever its name: alarms
    and functions read the same one). A zip function finds the core in the shared core layer; a
    container image carries its own build of it."""
    sources = [ROOT / "functions" / "__init__.py", *_files(ROOT / "functions" / function)]
    sources += _files(ROOT / "functions" / "shared")
    files = {str(f.relative_to(ROOT)): f for f in sources}
    definition = FUNCTIONS[function]
    if definition.packaging == "image":
        files |= core_files(definition.core)
    files[SPEC_NAME] = spec
    return files


def _copy(files: dict[str, Path], out: Path) -> None:
    for relative, source in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def build_function_code(function: str, out: Path, spec: Path = DEFAULT_SPEC) -> Bundle:
    """The function's code folder (bundle_files), byte-compiled."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    _copy(bundle_files(function, spec), out)
    compiled = _compile(out, LAMBDA_PYTHON)
    return Bundle(out, tree_size(out), compiled)


def build_core_layer(out: Path) -> Bundle:
    """The core layer's folder: the modelwatch library under python/ (where Lambda puts layers on
    the path), byte-compiled. Pure Python: the same for either architecture."""
    shutil.rmtree(out, ignore_errors=True)
    site = out / "python"
    site.mkdir(parents=True)
    _copy(core_files("layer"), site)
    compiled = _compile(site, LAMBDA_PYTHON)
    return Bundle(out, tree_size(out), compiled)


# The team's trainer requirements in the retrain image's build context (functions/retrain/Dockerfile
# installs it after the pinned training requirements); without any, a file that installs nothing.
TRAINER_REQUIREMENTS = "trainer-requirements.txt"
NO_TRAINER_REQUIREMENTS = b"# no [retraining] trainer_requirements: the built-in pipeline needs nothing more\n"


def image_inputs(function: str, spec: Path, trainer_requirements: Path | None) -> dict[str, bytes]:
    """The build context's files besides the code bundle, by name: the Dockerfile, the pinned and
    hash-locked requirements of the function's kind, and the trainer's requirements (only in the
    image that runs the trainer: the promote function's image never installs the team's packages)."""
    definition = FUNCTIONS[function]
    trainer = trainer_requirements if definition.runs_trainer else None
    return {
        "Dockerfile": (ROOT / "functions" / (definition.dockerfile_of or function) / "Dockerfile").read_bytes(),
        "requirements.txt": locked_requirements(definition.core).read_bytes(),
        TRAINER_REQUIREMENTS: NO_TRAINER_REQUIREMENTS if trainer is None else hashed_requirements(trainer).encode(),
    }


def locked_requirements(core: str) -> Path:
    """The image's requirements as installed: every package, transitive ones included, pinned
    with the hashes of its distributions (`make lock` regenerates it from <core>.txt)."""
    return ROOT / "layers" / "requirements" / f"{core}.lock"


def hashed_requirements(path: Path) -> str:
    """The trainer's requirements file, refused unless every requirement is pinned (==) with at
    least one --hash: the image installs with --require-hashes, so what the trainer imports is
    exactly what its team locked. A UserInputError names the first line that is not."""
    text = path.read_text()
    for requirement in _requirements(text):
        name = requirement.split("--hash", 1)[0].strip()
        if "==" not in name or "--hash=sha256:" not in requirement:
            raise UserInputError(
                f"{path}: {name!r} is not pinned with its hashes; the trainer image installs with --require-hashes "
                "(generate the file with: uv pip compile requirements.in --generate-hashes "
                "--python-version 3.12 --universal)"
            )
    return text


def _requirements(text: str) -> list[str]:
    """The file's requirements, each with its continuation lines joined, comments and blank lines
    dropped."""
    joined = text.replace("\\\n", " ")
    lines = [line.split(" #", 1)[0].strip() for line in joined.splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "-"))]


def stage_image(function: str, spec: Path, trainer_requirements: Path | None, staged: Path) -> Path:
    """A container image function's build context in `staged`: the code bundle, then the other
    inputs, the Dockerfile last. Built beside it and renamed into place, so two synths at once
    (pytest's workers) never see, or write into, each other's half-staged folder."""
    staged.parent.mkdir(parents=True, exist_ok=True)
    if staged.is_dir() and not (staged / "Dockerfile").is_file():
        shutil.rmtree(staged, ignore_errors=True)  # an interrupted stage of an older synth
    building = Path(tempfile.mkdtemp(prefix=f".{staged.name}-", dir=staged.parent))
    build_function_code(function, building / "code", spec)
    inputs = image_inputs(function, spec, trainer_requirements)
    for name, body in inputs.items():
        if name != "Dockerfile":
            (building / name).write_bytes(body)
    (building / "Dockerfile").write_bytes(inputs["Dockerfile"])
    try:
        building.rename(staged)
    except OSError:  # another synth staged the same inputs first: the same content
        shutil.rmtree(building, ignore_errors=True)
    return staged
