"""An imported model's folder with Model Monitor's baseline: the features' columns come from the
imported baseline.json (the reference the team's Model Monitor checks were judged against); the
model's own parts of the folder's baseline (its predictions and scores, the labelled
performance, the rows for multivariate drift) stay those computed on the labelled --data, since
Model Monitor's data-quality baseline has none of them."""

from __future__ import annotations

import dataclasses

from modelwatch.errors import UserInputError
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.registry.folder import ModelFolder
from modelwatch.registry.manifest import sha256_hex
from modelwatch.spec.models import MonitoringSpec


def with_imported_baseline(
    folder: ModelFolder, imported: DatasetProfile, spec: MonitoringSpec, source: str
) -> ModelFolder:
    """The folder with the imported features in its baseline, and the manifest's hash to match."""
    absent = [name for name in spec.features if name not in imported.columns]
    if absent:
        raise UserInputError(f"{source}: no baseline of the spec's features {', '.join(absent)}")
    if folder.baseline is None:
        raise UserInputError("the imported model has no baseline to take the features into")
    built = DatasetProfile.from_json(folder.baseline)
    for name in spec.features:
        if type(built.columns.get(name)) not in (type(imported.columns[name]), type(None)):
            raise UserInputError(f"{source}: feature '{name}' is not of the spec's type in the imported baseline")
        built.columns[name] = imported.columns[name]
    # The chunks calibrate thresholds on the --data rows' features: they no longer match them.
    built.chunks = []
    baseline = built.to_json()
    manifest = folder.manifest.model_copy(update={"baseline_sha256": sha256_hex(baseline)})
    return dataclasses.replace(folder, manifest=manifest, baseline=baseline)
