"""Lambda code and layers as CDK assets, bundled on this machine (no Docker): CDK calls
`try_bundle`, which builds with modelwatch_infra.bundling. Asset hashes come from the inputs
(requirement pins, source files), so an unchanged layer is never rebuilt or re-uploaded."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from aws_cdk.aws_ecr_assets import Platform

from modelwatch.catalog.functions import CORE_LAYER, FUNCTIONS
from modelwatch_infra.bundling import (
    CORE,
    LAMBDA_PYTHON,
    LAYER_RECIPE,
    ROOT,
    build_core_layer,
    build_function_code,
    build_layer,
    bundle_files,
    core_files,
    image_inputs,
    stage_image,
)

CACHE = ROOT / ".cache" / "layers"  # built layers, reused across synths (git-ignored)
IMAGES = ROOT / ".cache" / "images"  # staged container image build contexts (git-ignored)


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


@jsii.implements(cdk.ILocalBundling)
class _LayerBundling:
    def __init__(self, requirements: Path, architecture: str, key: str) -> None:
        self.requirements, self.architecture, self.key = requirements, architecture, key

    def try_bundle(self, output_dir: str, *args, **kwargs) -> bool:
        cached = CACHE / self.key
        if not (cached / "python").is_dir():
            build_layer(self.requirements, cached, self.architecture)
        shutil.copytree(cached, output_dir, dirs_exist_ok=True)
        return True


@jsii.implements(cdk.ILocalBundling)
class _CodeBundling:
    def __init__(self, function: str, spec: Path) -> None:
        self.function, self.spec = function, spec

    def try_bundle(self, output_dir: str, *args, **kwargs) -> bool:
        build_function_code(self.function, Path(output_dir), self.spec)
        return True


@jsii.implements(cdk.ILocalBundling)
class _CoreLayerBundling:
    def try_bundle(self, output_dir: str, *args, **kwargs) -> bool:
        build_core_layer(Path(output_dir))
        return True


def _no_docker(local: object) -> cdk.BundlingOptions:
    # The image is never pulled: local bundling always succeeds, so CDK never falls back to it.
    return cdk.BundlingOptions(
        image=cdk.DockerImage.from_registry("public.ecr.aws/docker/library/busybox:stable"), local=local
    )


def _files_digest(files: dict[str, Path], *extra: bytes) -> str:
    return _digest(*(relative.encode() + source.read_bytes() for relative, source in sorted(files.items())), *extra)


def layer_code(name: str, architecture: str) -> lambda_.Code:
    """A layer's asset: the core layer from the library's files, a third-party layer from its
    pinned requirements (built once per content, cached)."""
    if name == CORE_LAYER:
        key = _files_digest(core_files("layer"), LAMBDA_PYTHON.encode())[:16]
        return lambda_.Code.from_asset(
            str(CORE.parent),
            asset_hash_type=cdk.AssetHashType.CUSTOM,
            asset_hash=key,
            bundling=_no_docker(_CoreLayerBundling()),
        )
    requirements = ROOT / "layers" / "requirements" / f"{name}.txt"
    # The build's recipe is part of its key: layers cached under another recipe (before they were
    # always byte-compiled and pruned as now) are not reused.
    key = _digest(requirements.read_bytes(), architecture.encode(), LAMBDA_PYTHON.encode(), LAYER_RECIPE)[:16]
    return lambda_.Code.from_asset(
        str(requirements.parent),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=key,
        bundling=_no_docker(_LayerBundling(requirements, architecture, f"{name}-{key}")),
    )


def function_code(function: str, spec: Path) -> lambda_.Code:
    key = _files_digest(bundle_files(function, spec))[:16]
    return lambda_.Code.from_asset(
        str(ROOT / "functions" / function),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=key,
        bundling=_no_docker(_CodeBundling(function, spec)),
    )


def image_code(
    function: str, spec: Path, architecture: str, trainer_requirements: Path | None = None
) -> lambda_.DockerImageCode:
    """A container image function's code: its build context staged here (the Dockerfile, the
    pinned requirements, the trainer's requirements, the code bundle); the image itself is built
    by `cdk deploy`."""
    inputs = image_inputs(function, spec, trainer_requirements)
    key = _files_digest(bundle_files(function, spec), *(name.encode() + body for name, body in sorted(inputs.items())))
    staged = IMAGES / f"{function}-{key[:16]}"
    if not (staged / "Dockerfile").is_file():
        stage_image(function, spec, trainer_requirements, staged)
    platform = Platform.LINUX_ARM64 if architecture == "arm64" else Platform.LINUX_AMD64
    # One recipe may build several functions' images: each names its own handler.
    return lambda_.DockerImageCode.from_image_asset(str(staged), platform=platform, cmd=[FUNCTIONS[function].handler])
