"""The registry of a deployed stack as the `publish`, `promote` and `versions` commands use it:
versions are write-once, and a version is served only after its artifact verifies and it fits
what the stack serves.

boto3 is imported only here and only when a command runs: the core stays usable without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelwatch.catalog.layout import DEFAULT_MODEL_PREFIX
from modelwatch.errors import UserInputError
from modelwatch.registry import stack_outputs
from modelwatch.registry.folder import ModelFolder
from modelwatch.registry.manifest import ModelManifest
from modelwatch.serving.current_model import ModelUnavailableError

if TYPE_CHECKING:
    from modelwatch.data_access.model_store import ModelRegistry  # here: it imports botocore (the [aws] extra)
    from modelwatch.spec.models import MonitoringSpec


@dataclass(frozen=True)
class VersionEntry:
    manifest: ModelManifest
    current: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.manifest.version,
            "created_at": self.manifest.created_at,
            "task": self.manifest.task,
            "validation_metrics": self.manifest.validation_metrics,
            "current": self.current,
        }


def boto3_module() -> Any:
    try:
        import boto3
    except ModuleNotFoundError:
        raise UserInputError("this command talks to AWS and needs boto3: pip install boto3") from None
    return boto3


def stack_output_values(cloudformation: Any, stack: str, wanted: tuple[str, ...]) -> dict[str, str]:
    """The named outputs of a deployed stack; a missing stack or output is one line naming it."""
    from botocore.exceptions import ClientError  # here: botocore is the [aws] extra, not the core's

    try:
        (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise UserInputError(f"stack {stack}: {error.response.get('Error', {}).get('Message', error)}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = [key for key in wanted if key not in outputs]
    if missing:
        raise UserInputError(
            f"stack {stack} has no output(s) {', '.join(missing)}: redeploy it with this version of ModelWatch"
        )
    return {key: outputs[key] for key in wanted}


def stack_registry_settings(cloudformation: Any, stack: str) -> tuple[str, str, str]:
    """(bucket, prefix, pointer parameter) from a deployed stack's outputs."""
    wanted = (stack_outputs.MODEL_BUCKET, stack_outputs.MODEL_PREFIX, stack_outputs.POINTER_PARAMETER)
    try:
        outputs = stack_output_values(cloudformation, stack, wanted)
    except UserInputError as error:
        raise UserInputError(f"{error} (or pass --bucket and --pointer-parameter)") from None
    return outputs[wanted[0]], outputs[wanted[1]], outputs[wanted[2]]


def deployed_registry(
    stack: str | None, bucket: str | None, prefix: str | None, pointer_parameter: str | None
) -> DeployedRegistry:
    """The registry named by a stack, or by bucket and pointer; boto3's usual configuration
    (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL) decides where and as whom."""
    from modelwatch.data_access.model_store import ModelRegistry  # here: it imports botocore (the [aws] extra)

    session = boto3_module().session.Session()
    if stack is not None:
        bucket, prefix, pointer_parameter = stack_registry_settings(session.client("cloudformation"), stack)
    assert bucket is not None and pointer_parameter is not None
    store = ModelRegistry(
        session.client("s3"), session.client("ssm"), bucket, prefix or DEFAULT_MODEL_PREFIX, pointer_parameter
    )
    return DeployedRegistry(store)


class DeployedRegistry:
    def __init__(self, store: ModelRegistry) -> None:
        self.store = store

    def _exists(self, version: str) -> bool:
        listed = self.store.s3.list_objects_v2(Bucket=self.store.bucket, Prefix=self.store.key(version, ""), MaxKeys=1)
        return listed.get("KeyCount", 0) > 0

    def publish_once(self, folder: ModelFolder) -> ModelManifest:
        """Upload a version that was never published. Any object under its prefix refuses it (a
        half-written version too: its files were seen by nobody, but may have been by an auditor);
        the store's writes are conditional, so a concurrent publish of the same name fails too."""
        from botocore.exceptions import ClientError  # here: botocore is the [aws] extra, not the core's

        version = folder.manifest.version
        refusal = (
            f"version {version} is already published in s3://{self.store.bucket}/{self.store.prefix}: "
            "versions are write-once; import or train it again under a new --version"
        )
        if self._exists(version):
            raise UserInputError(refusal)
        try:
            return self.store.publish(folder)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in (
                "PreconditionFailed",
                "412",
                "ConditionalRequestConflict",
            ):
                raise UserInputError(refusal) from None
            raise

    def current_or_none(self) -> str | None:

        try:
            current = self.store.current_version()
        except ModelUnavailableError:
            return None
        return None if current == "none" else current  # the stack's placeholder before a promotion

    def _manifest(self, version: str) -> ModelManifest:

        try:
            return self.store.manifest(version)
        except ModelUnavailableError:
            raise UserInputError(
                f"no version {version} in s3://{self.store.bucket}/{self.store.prefix} (see 'modelwatch versions')"
            ) from None

    def promote_verified(self, version: str, spec: MonitoringSpec | None) -> ModelManifest:
        """Move the pointer to `version` once its artifact matches its manifest's SHA-256 and its
        task and features match the spec (without one: the version served now)."""

        manifest = self._manifest(version)
        try:
            self.store.verified_artifact(manifest)
        except ModelUnavailableError as error:
            raise UserInputError(f"refusing to promote: {error}") from None
        self._check_fits(manifest, spec)
        self.store.promote(version)
        return manifest

    def _check_fits(self, manifest: ModelManifest, spec: MonitoringSpec | None) -> None:
        if spec is not None:
            task, features, against = spec.task, set(spec.features), "the spec"
        else:
            current = self.current_or_none()
            if current is None or current == manifest.version:
                return
            served = self._manifest(current)
            task, features, against = served.task, set(served.feature_schema), f"the served version {current}"
        problems = []
        if manifest.task != task:
            problems.append(f"it is a {manifest.task} model, {against} is {task}")
        if set(manifest.feature_schema) != features:
            extra = sorted(set(manifest.feature_schema) - features)
            missing = sorted(features - set(manifest.feature_schema))
            problems.append(
                f"its features differ from {against}'s"
                + (f" (extra: {', '.join(extra)})" if extra else "")
                + (f" (missing: {', '.join(missing)})" if missing else "")
            )
        if problems:
            raise UserInputError(f"refusing to promote {manifest.version}: {'; '.join(problems)}")

    def versions(self) -> list[VersionEntry]:
        """Every complete version (its manifest is written last), oldest first."""

        current = self.current_or_none()
        entries = []
        paginator = self.store.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.store.bucket, Prefix=self.store.prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                version = common["Prefix"][len(self.store.prefix) :].rstrip("/")
                try:
                    manifest = self.store.manifest(version)
                except ModelUnavailableError:  # no manifest yet: a publish in progress or abandoned
                    continue
                entries.append(VersionEntry(manifest, manifest.version == current))
        return sorted(entries, key=lambda e: (e.manifest.created_at, e.manifest.version))
