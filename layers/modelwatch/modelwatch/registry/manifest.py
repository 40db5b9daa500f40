"""The manifest of a published model version: the artifact's hash and everything needed to serve
and monitor it."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_NAME = "manifest.json"
ARTIFACT_NAME = "model.onnx"
BASELINE_NAME = "baseline.json"
# Regression: DLE's loss model (ONNX graphs in JSON), run per record next to the model.
LOSS_MODEL_NAME = "loss_model.json"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArtifactRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=1)
    format: str = "onnx"


def reference_to(key: str, data: bytes, format: str) -> ArtifactRef:
    """The manifest's record of one stored file: where it is, its SHA-256 and size."""
    return ArtifactRef(key=key, sha256=sha256_hex(data), size_bytes=len(data), format=format)


class ModelManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model_name: str
    version: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    created_at: str
    artifact: ArtifactRef
    baseline_key: str | None = None
    # Regression: DLE's loss model, verified like the artifact before it is run (format "json").
    loss_model: ArtifactRef | None = None
    task: str = "binary"
    classes: list[str]  # empty for a regression
    positive_class: str
    feature_schema: dict[str, Any]
    validation_metrics: dict[str, Any] = {}  # the task's performance keys (multiclass: with per_class)
    training_rows: int = 0
    library_versions: dict[str, str] = {}
