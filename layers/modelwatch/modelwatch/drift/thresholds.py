"""Thresholds that know both samples' sizes: simulated nulls, and calibration on held-out chunks."""

from __future__ import annotations

import statistics
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from modelwatch.drift.methods import compute, is_categorical_like
from modelwatch.errors import UserInputError
from modelwatch.profiles.dataset import ColumnProfile, DatasetProfile
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.spec.models import DriftMethod
from modelwatch.stats import null
from modelwatch.stats.distributions import counts_of, reference_edges, shares_in_bins

MIN_CALIBRATION_GROUPS = 3
_CACHE: OrderedDict[tuple, null.NullDistribution] = OrderedDict()
_CACHE_SIZE = 256


def _is_sketched(profile: ColumnProfile) -> bool:
    return isinstance(profile, NumericColumnProfile) and not profile.is_exact


def _uses_numeric_path(method: DriftMethod, reference: ColumnProfile) -> bool:
    """Mirrors `methods.compute`: which representation the statistic is computed on."""
    if not isinstance(reference, NumericColumnProfile):
        return False
    return method in (DriftMethod.KS, DriftMethod.WASSERSTEIN) or not is_categorical_like(reference)


def _fingerprint(reference: ColumnProfile) -> tuple:
    """Identifies a reference column cheaply (same baseline -> same cached nulls)."""
    if isinstance(reference, NumericColumnProfile):
        return ("numeric", reference.valid, reference.mean, reference.m2, reference.minimum, reference.maximum)
    return ("categorical", reference.valid, tuple(sorted(reference.counts.items())))


def null_distribution(
    method: DriftMethod, reference: ColumnProfile, current: ColumnProfile, bins: int
) -> null.NullDistribution:
    """The null of `method`'s statistic for this reference and a window of the current's size bucket."""
    reference_size = null.effective_size(reference.valid, _is_sketched(reference))
    current_size = null.effective_size(null.size_bucket(current.valid), _is_sketched(current))
    if _uses_numeric_path(method, reference):
        assert isinstance(reference, NumericColumnProfile) and isinstance(current, NumericColumnProfile)
        if method is DriftMethod.WASSERSTEIN:
            return _wasserstein_null(reference, reference_size, current_size)
        edges = reference_edges(reference, bins)
        reference_shares, current_shares = shares_in_bins(reference, edges), shares_in_bins(current, edges)
    else:
        reference_counts, current_counts = counts_of(reference), counts_of(current)
        keys = sorted(set(reference_counts) | set(current_counts))
        reference_shares = np.array([reference_counts.get(k, 0) for k in keys], dtype=np.float64) / reference.valid
        current_shares = np.array([current_counts.get(k, 0) for k in keys], dtype=np.float64) / current.valid
    pooled = (reference.valid * reference_shares + current.valid * current_shares) / (reference.valid + current.valid)
    key = (method.value, _fingerprint(reference), bins)
    if method is DriftMethod.JENSEN_SHANNON:
        return null.null_of_shares(null.jensen_shannon_rows, pooled, reference_size, current_size, key)
    if method is DriftMethod.PSI:
        return null.null_of_shares(null.psi_rows, pooled, reference_size, current_size, key)
    if method is DriftMethod.CHI_SQUARE:
        return null.null_of_contingency_chi_square(pooled, reference_size, current_size, key)
    raise ValueError(f"no simulated null for method '{method.value}'")


def _wasserstein_null(reference: NumericColumnProfile, reference_size: int, current_size: int) -> null.NullDistribution:
    key = ("wasserstein", _fingerprint(reference), reference_size, current_size)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    atoms, _ = reference.weighted_values()
    if len(atoms) <= null.WASSERSTEIN_EDGES:
        edges = atoms  # few distinct values (or an exact small reference): all of them
    else:
        edges = np.unique(reference.quantiles(np.linspace(0.0, 1.0, null.WASSERSTEIN_EDGES + 1)))
    cumulative = reference.cdf(edges)
    reference_key = ("wasserstein", _fingerprint(reference))  # the bridge draws' key: no sizes
    result = null.null_of_normed_wasserstein(
        edges, cumulative, max(reference.std, 1e-300), reference_size, current_size, reference_key
    )
    _CACHE[key] = result
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


@dataclass(frozen=True)
class Calibration:
    threshold: float
    chunks_per_group: int
    groups: int


def calibrated_threshold(
    name: str,
    method: DriftMethod,
    reference: DatasetProfile,
    current_size: int,
    bins: int,
    sigmas: float,
) -> Calibration | None:
    """Mean + sigmas x std of the statistic's size (|z| for the Z-test) of held-out groups of
    baseline chunks, each about the window's size, scored against the merge of all the other
    chunks (never against a reference that contains them). None when the chunks cannot make
    3 groups of about the window's size."""
    chunks = [chunk.columns[name] for chunk in reference.chunks if name in chunk.columns and chunk.columns[name].valid]
    if len(chunks) < MIN_CALIBRATION_GROUPS:
        raise UserInputError(
            f"feature '{name}' has a calibrated threshold, but the reference has {len(chunks)} chunks "
            "(3 or more needed): build it with 'modelwatch profile' from the training data"
        )
    chunk_size = statistics.median(chunk.valid for chunk in chunks)
    per_group = max(1, round(current_size / chunk_size))
    groups = len(chunks) // per_group
    if current_size < chunk_size / 2 or groups < MIN_CALIBRATION_GROUPS:
        return None
    values = []
    for index in range(groups):
        held_out = chunks[index * per_group : (index + 1) * per_group]
        rest = chunks[: index * per_group] + chunks[(index + 1) * per_group :]
        group = held_out[0].merged(*held_out[1:])
        values.append(abs(compute(method, rest[0].merged(*rest[1:]), group, bins).statistic))
    finite = [v for v in values if np.isfinite(v)]
    if len(finite) < MIN_CALIBRATION_GROUPS:
        return None
    return Calibration(statistics.fmean(finite) + sigmas * statistics.pstdev(finite), per_group, groups)
