"""What the drift check compares when the spec has sensitive features: captures hold pseudonyms
of hashed features and nothing of dropped ones, so the baseline and the spec's categories are
pseudonymised with the same key, and dropped features leave the comparison (with no values in a
window, they would read as 100 % missing)."""

from __future__ import annotations

import dataclasses

from modelwatch.profiles import DatasetProfile
from modelwatch.profiles.categorical import OTHER, CategoricalColumnProfile
from modelwatch.profiles.protected import declared_only
from modelwatch.serving.pseudonyms import Pseudonyms
from modelwatch.spec.models import MonitoringSpec


def monitored_view(
    spec: MonitoringSpec, baseline: DatasetProfile, pseudonyms: Pseudonyms | None
) -> tuple[MonitoringSpec, DatasetProfile]:
    """(spec, baseline) as the captures see them; unchanged without sensitive features."""
    sensitive = spec.sensitive_features
    if not sensitive:
        return spec, baseline
    if pseudonyms is None and "hash" in sensitive.values():
        raise ValueError("the spec hashes sensitive features, but no pseudonym key was loaded")
    features, columns = {}, dict(baseline.columns)
    for name, feature in spec.features.items():
        action = sensitive.get(name)
        if action == "drop":
            columns.pop(name, None)
            continue
        if action == "hash" and pseudonyms is not None:
            categories = None if feature.categories is None else [pseudonyms.of(c) for c in feature.categories]
            feature = feature.model_copy(update={"categories": categories})
            column = columns.get(name)
            if isinstance(column, CategoricalColumnProfile):
                counts = {(k if k == OTHER else pseudonyms.of(k)): n for k, n in column.counts.items()}
                columns[name] = dataclasses.replace(column, counts=counts)
        features[name] = feature
    # Segments hold no sensitive feature (SegmentBins leaves them out): checked on the whole only.
    viewed = dataclasses.replace(baseline, columns=columns)
    return spec.model_copy(update={"features": features}), viewed


def monitored_current(monitored: MonitoringSpec, current: DatasetProfile) -> DatasetProfile:
    """A window's profile counted as the baseline is: the baseline names only a hashed feature's
    declared categories (modelwatch.profiles.protected), so the window's pseudonyms of any other
    value are counted under OTHER too. `monitored`: the spec from monitored_view (its categories
    are pseudonyms)."""
    hashed = [name for name, action in monitored.sensitive_features.items() if action == "hash"]
    if not hashed:
        return current
    columns = dict(current.columns)
    for name in hashed:
        column = columns.get(name)
        if isinstance(column, CategoricalColumnProfile):
            columns[name] = declared_only(column, set(getattr(monitored.features[name], "categories", None) or ()))
    return dataclasses.replace(current, columns=columns)
