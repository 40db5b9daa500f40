"""A trained model as a folder: model.onnx, manifest.json and baseline.json, as `modelwatch train`
writes it. The manifest's SHA-256 is checked before the artifact is used."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from modelwatch.errors import UserInputError
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

if TYPE_CHECKING:
    from modelwatch.spec.models import MonitoringSpec


@dataclass(frozen=True)
class ModelFolder:
    manifest: ModelManifest
    artifact: bytes
    baseline: bytes | None
    loss_model: bytes | None = None  # regression: DLE's loss model (LossModel.to_bytes)

    @classmethod
    def new_version(
        cls,
        spec: MonitoringSpec,
        version: str,
        now: datetime,
        *,
        artifact: bytes,
        baseline: bytes,
        loss_model: bytes | None,
        classes: list[str] | None,
        validation_metrics: Mapping[str, float | None],
        training_rows: int,
        library_versions: Mapping[str, str],
    ) -> ModelFolder:
        """A new model version's folder, its manifest assembled here and only here (training,
        import and retraining all make versions): each file's hash, the spec's task, classes
        and feature schema, and where the version came from."""
        manifest = ModelManifest(
            model_name=spec.model.name,
            version=version,
            created_at=now.isoformat(timespec="seconds"),
            artifact=ArtifactRef(key=ARTIFACT_NAME, sha256=sha256_hex(artifact), size_bytes=len(artifact)),
            baseline_key=BASELINE_NAME,
            baseline_sha256=sha256_hex(baseline),
            loss_model=None if loss_model is None else reference_to(LOSS_MODEL_NAME, loss_model, "json"),
            task=spec.task,
            classes=classes,
            positive_class=spec.columns.positive_class if spec.task == "binary" else None,
            feature_schema={name: f.model_dump(mode="json") for name, f in spec.features.items()},
            validation_metrics=dict(validation_metrics),
            training_rows=training_rows,
            library_versions=dict(library_versions),
        )
        return cls(manifest, artifact, baseline, loss_model)

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ARTIFACT_NAME).write_bytes(self.artifact)
        (folder / MANIFEST_NAME).write_text(self.manifest.model_dump_json(indent=2))
        if self.baseline is not None:
            (folder / BASELINE_NAME).write_bytes(self.baseline)
        if self.loss_model is not None:
            (folder / LOSS_MODEL_NAME).write_bytes(self.loss_model)

    @classmethod
    def read(cls, folder: Path) -> ModelFolder:
        try:
            manifest = ModelManifest.model_validate_json((folder / MANIFEST_NAME).read_bytes())
            artifact = (folder / ARTIFACT_NAME).read_bytes()
        except OSError as exc:
            raise UserInputError(f"{folder}: not a model folder ({exc.strerror}: {exc.filename})") from None
        except ValueError as exc:
            raise UserInputError(f"{folder / MANIFEST_NAME}: not a valid manifest ({exc})") from None
        if sha256_hex(artifact) != manifest.artifact.sha256:
            raise UserInputError(f"{folder / ARTIFACT_NAME}: SHA-256 does not match the manifest; refusing to use it")
        baseline_path = folder / BASELINE_NAME
        loss_path = folder / LOSS_MODEL_NAME
        loss_model = loss_path.read_bytes() if loss_path.is_file() else None
        expected = manifest.loss_model
        if expected is not None and (loss_model is None or sha256_hex(loss_model) != expected.sha256):
            raise UserInputError(
                f"{loss_path}: missing, or its SHA-256 does not match the manifest; refusing to use it"
            )
        baseline = baseline_path.read_bytes() if baseline_path.is_file() else None
        if manifest.baseline_sha256 is not None and (
            baseline is None or sha256_hex(baseline) != manifest.baseline_sha256
        ):
            raise UserInputError(
                f"{baseline_path}: missing, or its SHA-256 does not match the manifest; refusing to use it"
            )
        return cls(manifest, artifact, baseline, loss_model)
