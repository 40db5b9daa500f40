"""The manifest of a published model version: the artifact's hash and everything needed to serve
and monitor it."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelwatch.catalog.metrics import METRIC_NAME_MAX_LENGTH, PREDICTIONS

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
    # The baseline profile's SHA-256: checked before a drift check trusts it (None: an older
    # manifest, written before baselines were hashed).
    baseline_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    # Regression: DLE's loss model, verified like the artifact before it is run (format "json").
    loss_model: ArtifactRef | None = None
    task: str = "binary"
    classes: list[str]  # empty for a regression
    # Binary only: the class the score is the probability of (None for multiclass and regression,
    # which have no positive class).
    positive_class: str | None = None
    feature_schema: dict[str, Any]
    validation_metrics: dict[str, Any] = {}  # the task's performance keys (multiclass: with per_class)
    training_rows: int = 0
    library_versions: dict[str, str] = {}

    @field_validator("classes")
    @classmethod
    def _classes_name_metrics(cls, classes: list[str]) -> list[str]:
        """Each class is counted as the metric Predictions.<class>: a class CloudWatch cannot
        name would cost every request that predicts it its metrics, so it is refused here, at
        import or training, naming the class."""
        for label in classes:
            name = PREDICTIONS.name_for(label)
            if len(name) > METRIC_NAME_MAX_LENGTH or not name.isascii() or not name.isprintable():
                raise ValueError(
                    f"class {label[:40]!r}: {PREDICTIONS.name_for('<class>')} must be a CloudWatch metric name "
                    f"(printable ASCII, at most {METRIC_NAME_MAX_LENGTH} characters); relabel the target"
                )
        return classes
