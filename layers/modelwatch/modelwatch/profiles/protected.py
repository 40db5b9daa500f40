"""A baseline profile without the raw values of sensitive features: the baseline is stored in the
model registry, beside the artifact, for as long as the version exists, so it must hold no more
of a sensitive feature than the captures do.

- a dropped feature ("drop") is not in it at all, nor in the row sample of the numeric features
  (which the spec allows only with the multivariate methods off, so none is kept);
- a hashed categorical feature ("hash") names only the categories the spec itself lists (which
  the spec already makes public); every other value is counted as OTHER. The drift check
  pseudonymises those names with the stack's key and folds a window's other pseudonyms into OTHER
  alike (modelwatch.drift.sensitive), so both sides are counted the same way.
"""

from __future__ import annotations

import dataclasses

from modelwatch.profiles.categorical import OTHER, CategoricalColumnProfile
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.spec.models import MonitoringSpec


def declared_only(column: CategoricalColumnProfile, declared: set[str]) -> CategoricalColumnProfile:
    """The column's counts of `declared` categories, and every other one's under OTHER."""
    counts = {k: n for k, n in column.counts.items() if k in declared}
    other = sum(n for k, n in column.counts.items() if k not in declared)
    if other:
        counts[OTHER] = other
    return dataclasses.replace(column, counts=counts)


def protected_baseline(spec: MonitoringSpec, profile: DatasetProfile) -> DatasetProfile:
    """`profile` with the spec's sensitive features protected, its calibration chunks too. Its
    segments hold none of them (SegmentBins leaves sensitive features out)."""
    sensitive = spec.sensitive_features
    if not sensitive:
        return profile
    columns = {}
    for name, column in profile.columns.items():
        action = sensitive.get(name)
        if action == "drop":
            continue
        if action == "hash" and isinstance(column, CategoricalColumnProfile):
            column = declared_only(column, set(getattr(spec.features[name], "categories", None) or ()))
        columns[name] = column
    dropped_numbers = any(sensitive.get(name) == "drop" for name in spec.numeric_features)
    return dataclasses.replace(
        profile,
        columns=columns,
        chunks=[protected_baseline(spec, chunk) for chunk in profile.chunks],
        multivariate=None if dropped_numbers else profile.multivariate,
    )
