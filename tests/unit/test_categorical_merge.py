"""The categorical profile's bound does not make merges depend on their order."""

from __future__ import annotations

import itertools

import numpy as np

from modelwatch.drift import analyze
from modelwatch.profiles import OTHER, CategoricalColumnProfile
from modelwatch.profiles.categorical import MAX_CATEGORIES
from modelwatch.spec import parse_spec
from tests.conftest import build_profile


def _part(rng: np.random.Generator, start: int, size: int) -> CategoricalColumnProfile:
    labels = [f"v{i}" for i in range(start, start + size)]
    counts = rng.integers(1, 50, len(labels))
    return CategoricalColumnProfile.from_counts(dict(zip(labels, counts.tolist(), strict=True)), 0)


def test_merge_of_columns_past_the_bound_does_not_depend_on_order():
    rng = np.random.default_rng(1)
    parts = [_part(rng, 0, 900), _part(rng, 600, 900), _part(rng, 1200, 900), _part(rng, 2000, 300)]
    results = set()
    for order in itertools.permutations(parts):
        pairwise = order[0]
        for part in order[1:]:
            pairwise = pairwise.merged(part)
        results.add(tuple(sorted(pairwise.counts.items())))
        results.add(tuple(sorted(order[0].merged(*order[1:]).counts.items())))
    assert len(results) == 1
    (counts,) = results
    merged = dict(counts)
    assert len(merged) == MAX_CATEGORIES and sum(merged.values()) == sum(sum(p.counts.values()) for p in parts)
    # Every category kept by name has its exact total.
    for label, n in merged.items():
        if label != OTHER:
            assert n == sum(p.counts.get(label, 0) for p in parts)


def test_profiles_that_folded_different_categories_compare_on_their_common_part():
    spec = parse_spec({"model": {"name": "t"}, "features": {"c": {"type": "categorical"}}})
    rng = np.random.default_rng(2)
    labels = np.array([f"v{i}" for i in range(3000)])
    reference = build_profile(spec, {"c": rng.choice(labels, 60_000)})
    current = build_profile(spec, {"c": rng.choice(labels[:1200], 3000)})
    stable = build_profile(spec, {"c": rng.choice(labels, 3000)})
    assert OTHER in reference.columns["c"].counts
    assert analyze(spec, reference, stable).features[0].drifted is False
    assert analyze(spec, reference, current).features[0].drifted is True
