"""What a model version brings to profiling its captures, read from the registry and judged:
its baseline's PCA (for each record's reconstruction error) and a regression version's DLE loss
model (for each record's expected losses). The loss model is a graph ONNX Runtime runs, so it is
verified like the model: one that is missing, fails its hash, is not a loss model, or reads
features captures do not hold is never run, and is reported as a load failure (alarmed). The
version's captures are still profiled, without what could not be read.

A version's files are write-once: what was read in full is kept for the execution
environment's life; what failed to read is not kept, so a later delivery tries again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelwatch.data_access.model_store import ModelRegistry
from modelwatch.dle import inputs_captures_lack
from modelwatch.jobs.profile_job import VersionModels, baseline_reconstruction, baseline_segment_cut
from modelwatch.loss_model import LossModel
from modelwatch.profiles import DatasetProfile
from modelwatch.registry.manifest import ModelManifest
from modelwatch.serving.current_model import ModelUnavailableError
from modelwatch.spec.models import MonitoringSpec


@dataclass(frozen=True)
class ReadProblem:
    message: str
    reason: str
    version: str
    load_failure: bool  # a loss model not run: counted as ModelLoadFailed


@dataclass(frozen=True)
class VersionModelsRead:
    models: VersionModels
    problems: tuple[ReadProblem, ...] = ()
    complete: bool = True  # every file read (so it may be kept)


def read_version_models(registry: ModelRegistry, spec: MonitoringSpec, version: str) -> VersionModelsRead:
    try:
        manifest = registry.manifest(version)
    except ModelUnavailableError as error:  # captures of a version without a readable manifest
        problem = ReadProblem("captures profiled without their version's models", str(error), version, False)
        return VersionModelsRead(VersionModels(), (problem,), complete=False)
    problems: list[ReadProblem] = []
    reconstruction, segment_cut = None, None
    try:
        stored = registry.baseline(manifest)
        baseline = None if stored is None else DatasetProfile.from_json(stored)
        reconstruction = baseline_reconstruction(baseline, spec)
        segment_cut = baseline_segment_cut(baseline, spec)
    except ModelUnavailableError as error:
        problems.append(ReadProblem("no baseline to profile reconstruction errors", str(error), version, False))
    loss_model, refusal = _loss_model(registry, manifest, spec)
    if refusal is not None:
        problems.append(ReadProblem("loss model not run", refusal, version, True))
    return VersionModelsRead(
        VersionModels(reconstruction, loss_model, segment_cut), tuple(problems), complete=not problems
    )


def _loss_model(
    registry: ModelRegistry, manifest: ModelManifest, spec: MonitoringSpec
) -> tuple[LossModel | None, str | None]:
    """The version's loss model (None without one), or why it will not be run."""
    try:
        verified = registry.verified_loss_model(manifest)
    except ModelUnavailableError as error:
        return None, str(error)
    if verified is None:
        return None, None
    try:
        loss_model = LossModel.from_bytes(verified)
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # verified, yet not a loss model
        return None, f"not a loss model: {error}"
    lacking = inputs_captures_lack(loss_model, spec)
    if lacking:
        # Its estimates would be wrong without a sign. Refit it (modelwatch train or import).
        return None, f"it reads features captures do not hold ({', '.join(lacking)})"
    return loss_model, None


@dataclass
class VersionModelsCache:
    """Each (platform, version) read in full, kept; the rest read again next time."""

    kept: dict[tuple[Any, str], VersionModelsRead] = field(default_factory=dict)

    def get(self, platform: Any, version: str, read: Callable[[], VersionModelsRead]) -> VersionModelsRead:
        key = (platform, version)
        if key in self.kept:
            return VersionModelsRead(self.kept[key].models)
        found = read()
        if found.complete:
            self.kept[key] = found
        return found
