"""What goes into a function's code bundle (its own folder, the shared edges, and the deployment's
spec under the name the functions read) and into the core layer every zip function shares (the
library, less what no function imports)."""

from __future__ import annotations

from pathlib import Path

from modelwatch_infra.bundling import SPEC_NAME, build_core_layer, build_function_code, bundle_files, core_files
from tests.conftest import ROOT


def test_the_bundle_carries_the_deployments_spec_whatever_its_name(tmp_path):
    spec = tmp_path / "fraud-model.toml"
    spec.write_text((ROOT / "monitoring.toml").read_text().replace("threshold = 500", "threshold = 750", 1))
    assert bundle_files("drift", spec)[SPEC_NAME] == spec
    bundle = build_function_code("drift", tmp_path / "code", spec=spec)
    assert (bundle.path / SPEC_NAME).read_text() == spec.read_text()
    assert (bundle.path / "functions" / "drift" / "handler.py").is_file()
    assert not (bundle.path / "modelwatch").exists()  # the core comes from its layer


def test_the_core_layer_holds_the_library_less_what_no_function_imports(tmp_path):
    layer = build_core_layer(tmp_path / "core")
    site = layer.path / "python" / "modelwatch"
    assert (site / "drift" / "engine.py").is_file() and (site / "serving" / "onnx_model.py").is_file()
    assert (site / "report" / "templates" / "report.html.j2").is_file()
    assert not any((site / name).exists() for name in ("cli", "demo", "training", "retraining", "__main__.py"))
    assert layer.bytecode and next(site.rglob("*.cpython-312.pyc"), None) is not None


def test_a_zip_functions_bundle_has_no_core_and_an_images_has_its_own():
    assert not any(path.startswith("modelwatch/") for path in bundle_files("predict"))
    image = bundle_files("retrain")
    assert set(core_files("training")) <= set(image) and "modelwatch/retraining/trainer.py" in image


XGBOOST_LOCKED = (
    "xgboost==3.2.0 \\\n    --hash=sha256:" + "a" * 64 + " \\\n    --hash=sha256:" + "b" * 64 + "\n"
    "team-features==1.4 --hash=sha256:" + "c" * 64 + "\n"
)


def test_the_retrain_image_installs_the_trainers_hash_locked_requirements(tmp_path):
    """The spec's trainer_requirements (relative to the spec) reaches the retrain image's build
    context, hash-locked, and is installed in one --require-hashes resolve with the locked training
    set; the promote image never gets them; an unhashed file is refused at synth; context
    trainerRequirements overrides the spec; a file that is not there is refused, naming where."""
    import pytest

    from modelwatch.errors import UserInputError
    from modelwatch.spec import load_spec
    from modelwatch_infra.bundling import NO_TRAINER_REQUIREMENTS, TRAINER_REQUIREMENTS, stage_image
    from modelwatch_infra.settings import trainer_requirements

    (tmp_path / "team").mkdir()
    requirements = tmp_path / "team" / "requirements.txt"
    requirements.write_text(XGBOOST_LOCKED)
    spec_path = tmp_path / "monitoring.toml"
    spec_path.write_text(
        (ROOT / "monitoring.toml")
        .read_text()
        .replace(
            "\n[retraining]\n",
            '\n[retraining]\ntrainer = "team_training.fit:train"\ntrainer_requirements = "team/requirements.txt"\n',
        )
    )
    spec = load_spec(spec_path)
    found = trainer_requirements("", spec_path, spec)
    assert found == requirements.resolve()
    staged = stage_image("retrain", spec_path, found, tmp_path / "context")
    assert (staged / TRAINER_REQUIREMENTS).read_text() == requirements.read_text()
    (install,) = [step for step in _steps(staged / "Dockerfile") if "pip install" in step]
    assert "--require-hashes" in install and install.endswith(f"-r requirements.txt -r {TRAINER_REQUIREMENTS}")
    assert (staged / "code" / "modelwatch" / "retraining" / "trainer.py").is_file()
    # The promote function's image: same recipe, never the team's packages.
    promote = stage_image("promote", spec_path, found, tmp_path / "promote")
    assert (promote / TRAINER_REQUIREMENTS).read_bytes() == NO_TRAINER_REQUIREMENTS
    # Unhashed requirements are refused before anything is built.
    requirements.write_text("xgboost==3.2.0\n")
    with pytest.raises(UserInputError, match=r"'xgboost==3\.2\.0' is not pinned with its hashes"):
        stage_image("retrain", spec_path, found, tmp_path / "refused")
    # Context overrides the spec; no requirements at all stage a file that installs nothing.
    other = tmp_path / "other.txt"
    other.write_text("lightgbm==4.7.0\n")
    assert trainer_requirements(str(other), spec_path, spec) == other.resolve()
    plain = stage_image("retrain", ROOT / "monitoring.toml", None, tmp_path / "plain")
    assert (plain / TRAINER_REQUIREMENTS).read_bytes() == NO_TRAINER_REQUIREMENTS
    requirements.unlink()
    with pytest.raises(ValueError, match=r"monitoring\.toml: retraining\.trainer_requirements: .* is not a file"):
        trainer_requirements("", spec_path, spec)


def test_the_images_base_and_packages_are_pinned_by_digest_and_hash():
    """Both base images by digest; every package the image installs (the training lock, transitive
    ones included) pinned with the hashes of its distributions."""
    from modelwatch_infra.bundling import hashed_requirements, locked_requirements

    steps = _steps(ROOT / "functions" / "retrain" / "Dockerfile")
    bases = [step for step in steps if step.startswith("FROM ")]
    assert len(bases) == 2 and all("@sha256:" in base for base in bases)
    lock = locked_requirements("training")
    hashed_requirements(lock)  # refuses any line without its hashes
    pinned = {line.split("==")[0] for line in lock.read_text().splitlines() if "==" in line}
    wanted = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "layers" / "requirements" / "training.txt").read_text().splitlines()
        if "==" in line
    }
    assert wanted <= pinned and {"joblib", "threadpoolctl", "protobuf"} <= pinned  # transitive ones too


def _steps(dockerfile: Path) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    steps: list[str] = []
    for line in dockerfile.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if steps and steps[-1].endswith("\\"):
            steps[-1] = steps[-1][:-1].rstrip() + " " + line.strip()
        else:
            steps.append(line.strip())
    return steps


def test_the_retrain_image_builds_on_either_host_architecture():
    """Nothing runs in the Lambda stage (an arm64 image on an x86 host would need QEMU): the
    build stage runs on the build host's platform and installs the target's wheels."""
    steps = _steps(ROOT / "functions" / "retrain" / "Dockerfile")
    stages = [i for i, step in enumerate(steps) if step.startswith("FROM ")]
    assert len(stages) == 2
    assert steps[stages[0]].startswith("FROM --platform=$BUILDPLATFORM ")
    assert not [step for step in steps[stages[1] :] if step.startswith("RUN ")]
    installs = [step for step in steps[: stages[1]] if "pip install" in step]
    assert installs and all("--only-binary=:all:" in s and "--platform" in s and "$TARGETARCH" in s for s in installs)


def test_the_core_layer_holds_every_module_a_zip_function_imports():
    """Lambda finds the core in the layer only: any core module a zip function's handler reaches
    (through any import, however deep) must be in it, or the function fails to import."""
    from modelwatch.catalog.functions import ZIP_FUNCTIONS
    from tests.unit.test_source_boundaries import _imports, _modules

    modules = _modules()
    graph: dict[str, set[str]] = {}
    for importer, imported, _ in _imports(modules):
        graph.setdefault(importer, set()).add(imported)
    reached: set[str] = set()
    waiting = [f"functions.{name}.handler" for name in ZIP_FUNCTIONS]
    while waiting:
        module = waiting.pop()
        if module not in reached:
            reached.add(module)
            waiting += graph.get(module, ())
    in_layer = {
        relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for relative in core_files("layer")
    }
    needed = {module for module in reached if module.split(".")[0] == "modelwatch"}
    assert needed and needed <= in_layer, sorted(needed - in_layer)
