"""The model registry: versioned objects in S3 (artifact, manifest, baseline profile) and a
"current version" pointer in SSM Parameter Store. Artifacts are checked against the manifest's
SHA-256 before anyone loads them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from modelwatch.catalog import layout
from modelwatch.registry.folder import ModelFolder
from modelwatch.registry.manifest import (
    ARTIFACT_NAME,
    BASELINE_NAME,
    LOSS_MODEL_NAME,
    MANIFEST_NAME,
    ArtifactRef,
    ModelManifest,
    reference_to,
    sha256_hex,
)
from modelwatch.serving.current_model import ModelUnavailableError

if TYPE_CHECKING:
    from modelwatch.data_access.platform import Platform


class StaleChampionError(Exception):
    """The champion a challenger was compared with is no longer the current version."""

    def __init__(self, challenger: str, compared_with: str | None, current: str | None) -> None:
        self.challenger, self.compared_with, self.current = challenger, compared_with, current
        super().__init__(
            f"{challenger} was compared with {compared_with or 'no champion'}, but the current version is now "
            f"{current or 'unset'}: not promoted over a champion it never met"
        )


class PointerConflictError(Exception):
    """The pointer moved between the promotion's read and its write."""


class ModelRegistry:
    def __init__(self, s3: Any, ssm: Any, bucket: str, prefix: str, pointer_parameter: str) -> None:
        self.s3, self.ssm = s3, ssm
        self.bucket, self.prefix, self.pointer_parameter = bucket, prefix, pointer_parameter

    def key(self, version: str, name: str) -> str:
        return layout.model_key(self.prefix, version, name)

    def publish(self, model: ModelFolder) -> ModelManifest:
        """Write artifact, baseline and loss model, then the manifest last: a version is visible
        only whole. Every write is conditional (If-None-Match: *): a published version is never
        overwritten, and the model bucket's policy refuses unconditional writes to the registry."""
        version = model.manifest.version
        artifact_key = self.key(version, ARTIFACT_NAME)
        self.s3.put_object(Bucket=self.bucket, Key=artifact_key, Body=model.artifact, IfNoneMatch="*")
        baseline_key = None
        if model.baseline is not None:
            baseline_key = self.key(version, BASELINE_NAME)
            self.s3.put_object(Bucket=self.bucket, Key=baseline_key, Body=model.baseline, IfNoneMatch="*")
        loss_model = None
        if model.loss_model is not None:
            loss_model = reference_to(self.key(version, LOSS_MODEL_NAME), model.loss_model, "json")
            self.s3.put_object(Bucket=self.bucket, Key=loss_model.key, Body=model.loss_model, IfNoneMatch="*")
        manifest = model.manifest.model_copy(
            update={
                "artifact": ArtifactRef(
                    key=artifact_key, sha256=sha256_hex(model.artifact), size_bytes=len(model.artifact)
                ),
                "baseline_key": baseline_key,
                "baseline_sha256": None if model.baseline is None else sha256_hex(model.baseline),
                "loss_model": loss_model,
            }
        )
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self.key(version, MANIFEST_NAME),
            Body=manifest.model_dump_json(indent=2).encode(),
            ContentType="application/json",
            IfNoneMatch="*",
        )
        return manifest

    def promote(self, version: str) -> None:
        """Point at `version` whatever is current (a person's promote or rollback)."""
        self.manifest(version)  # refuse to point at a version that does not exist
        self.ssm.put_parameter(Name=self.pointer_parameter, Value=version, Type="String", Overwrite=True)

    def promote_over(self, version: str, expected_current: str | None) -> None:
        """Point at `version` only if the pointer still names `expected_current` (None: no
        version was ever current), as a retraining run that compared its challenger with that
        champion must. Parameter Store has no conditional put, so the write is checked on both
        sides: the pointer is read with its parameter version first, and the put must produce the
        very next one (a first pointer is created with Overwrite=False, which fails if someone
        created it meanwhile). Only the promote function's role may move the pointer, and it
        runs one retraining run at a time, so another writer in between is a person; the
        conflict is then raised, never passed over."""
        self.manifest(version)
        current, parameter_version = self._pointer()
        if current != expected_current:
            raise StaleChampionError(version, expected_current, current)
        try:
            written = self.ssm.put_parameter(
                Name=self.pointer_parameter, Value=version, Type="String", Overwrite=current is not None
            )["Version"]
        except self.ssm.exceptions.ParameterAlreadyExists:
            raise StaleChampionError(version, expected_current, self._pointer()[0]) from None
        if written != parameter_version + 1:
            raise PointerConflictError(
                f"the model pointer was written by someone else while {version} was promoted "
                f"(parameter version {written}, expected {parameter_version + 1}); check which version is current"
            )

    def _pointer(self) -> tuple[str | None, int]:
        """(the current version, the parameter's version number), or (None, 0) when unset."""
        try:
            parameter = self.ssm.get_parameter(Name=self.pointer_parameter)["Parameter"]
        except self.ssm.exceptions.ParameterNotFound:
            return None, 0
        return parameter["Value"], int(parameter["Version"])

    def current_version(self) -> str:
        try:
            return self.ssm.get_parameter(Name=self.pointer_parameter)["Parameter"]["Value"]
        except self.ssm.exceptions.ParameterNotFound:
            raise ModelUnavailableError(f"no current model: parameter {self.pointer_parameter} is not set") from None

    def _object(self, key: str, what: str) -> bytes:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            # A missing key reads as 403, not 404, without an unconditional s3:ListBucket.
            if code in ("NoSuchKey", "404", "AccessDenied", "403"):
                raise ModelUnavailableError(
                    f"{what}: s3://{self.bucket}/{key} is missing or not readable ({code})"
                ) from None
            raise

    def manifest(self, version: str) -> ModelManifest:
        body = self._object(self.key(version, MANIFEST_NAME), f"model version {version}: manifest")
        return ModelManifest.model_validate_json(body)

    def verified_artifact(self, manifest: ModelManifest) -> bytes:
        data = self._object(manifest.artifact.key, f"model version {manifest.version}: artifact")
        digest = sha256_hex(data)
        if digest != manifest.artifact.sha256:
            raise ModelUnavailableError(
                f"model version {manifest.version}: artifact SHA-256 {digest} does not match the manifest's "
                f"{manifest.artifact.sha256}; refusing to load it"
            )
        return data

    def verified_loss_model(self, manifest: ModelManifest) -> bytes | None:
        """A regression version's loss model (DLE), checked against the manifest's SHA-256 as the
        artifact is: it is a graph ONNX Runtime runs, so it gets the same trust. None when the
        version has none."""
        reference = manifest.loss_model
        if reference is None:
            return None
        data = self._object(reference.key, f"model version {manifest.version}: loss model")
        digest = sha256_hex(data)
        if digest != reference.sha256:
            raise ModelUnavailableError(
                f"model version {manifest.version}: loss model SHA-256 {digest} does not match the manifest's "
                f"{reference.sha256}; refusing to load it"
            )
        return data

    def baseline(self, manifest: ModelManifest) -> bytes | None:
        """The version's baseline profile, verified against the manifest's SHA-256: a drift check
        must not compare windows with a baseline someone replaced."""
        if manifest.baseline_key is None:
            return None
        data = self._object(manifest.baseline_key, f"model version {manifest.version}: baseline")
        if manifest.baseline_sha256 is not None and sha256_hex(data) != manifest.baseline_sha256:
            raise ModelUnavailableError(
                f"model version {manifest.version}: baseline SHA-256 {sha256_hex(data)} does not match the "
                f"manifest's {manifest.baseline_sha256}; refusing to use it"
            )
        return data


def registry_of(platform: Platform, request_path: bool = False) -> ModelRegistry:
    """The registry the platform's settings point at; `request_path` for a caller that waits."""
    settings = platform.settings
    return ModelRegistry(
        platform.client("s3", request_path),
        platform.client("ssm", request_path),
        settings.model_bucket,
        settings.model_prefix,
        settings.pointer_parameter,
    )
