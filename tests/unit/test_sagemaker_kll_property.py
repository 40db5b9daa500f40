"""Statistics written in Model Monitor's sketch layout from known data import with a rank error
within the KLL sketch's own bound, at several sizes and numbers of levels.

The generator mimics Deequ's KLL compaction: values enter level 0; a level over its capacity
(k·c^(depth), at least 2) is sorted and every other item, from a coin-chosen offset, moves up a
level with twice the weight (an odd item out stays). Halving a sorted run of items of weight w
moves any rank by at most w, so the sketch's rank error is at most the sum of the compacted
levels' weights: the bound checked here, deterministic, never a probability."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelwatch.importing.sagemaker.statistics import import_statistics
from modelwatch.profiles import NumericColumnProfile
from modelwatch.sketches import SKETCH_RANK_ERROR

SHRINKING_FACTOR = 0.64


def kll_levels(values: list[float], k: int, coin: random.Random) -> tuple[list[list[float]], int]:
    """Model Monitor's `kll.sketch.data` for these values, and the bound on its rank error (in
    values): the sum of the weights of every compaction made."""
    levels: list[list[float]] = [[]]
    error_bound = 0
    for value in values:
        levels[0].append(value)
        height = 0
        while height < len(levels):
            depth = len(levels) - 1 - height
            capacity = max(2, int(k * SHRINKING_FACTOR**depth))
            if len(levels[height]) > capacity:
                run = sorted(levels[height])
                kept = [run.pop()] if len(run) % 2 else []  # the odd one out stays at its level
                promoted = run[coin.randint(0, 1) :: 2]
                if height + 1 == len(levels):
                    levels.append([])
                levels[height + 1].extend(promoted)
                levels[height] = kept
                error_bound += 2**height
            height += 1
    coin.shuffle(levels[0])  # a level's order means nothing to Model Monitor either
    return levels, error_bound


def statistics_document(values: np.ndarray, levels: list[list[float]], k: int) -> dict:
    return {
        "version": 0.0,
        "dataset": {"item_count": len(values)},
        "features": [
            {
                "name": "x",
                "inferred_type": "Fractional",
                "numerical_statistics": {
                    "common": {"num_present": len(values), "num_missing": 0},
                    "mean": float(values.mean()),
                    "sum": float(values.sum()),
                    "std_dev": float(values.std()),
                    "min": float(values.min()),
                    "max": float(values.max()),
                    "distribution": {
                        "kll": {"sketch": {"parameters": {"c": SHRINKING_FACTOR, "k": float(k)}, "data": levels}}
                    },
                },
            }
        ],
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.sampled_from([1, 7, 100, 2_500, 20_000]),
    k=st.sampled_from([256, 1024, 2048]),
    distinct=st.sampled_from([3, 50, 100_000]),
    seed=st.integers(0, 2**32 - 1),
)
def test_imported_sketch_ranks_are_within_the_kll_bound(
    tmp_path: Path, size: int, k: int, distinct: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    values = np.round(rng.lognormal(size=size) * distinct) / distinct  # ties when `distinct` is small
    levels, error_bound = kll_levels(values.tolist(), k, random.Random(seed))
    assert sum(len(level) * 2**i for i, level in enumerate(levels)) == size  # KLL keeps the weight
    assert error_bound / size < 0.2  # k is large enough for the bound to say something
    path = tmp_path / f"statistics-{seed}.json"
    path.write_text(json.dumps(statistics_document(values, levels, k)))

    imported = import_statistics(path)
    column = imported.profile.columns["x"]
    assert isinstance(column, NumericColumnProfile)
    assert imported.notes == {}
    assert column.valid == column.sketch.n == size
    assert column.mean == float(values.mean()) and column.minimum == values.min() and column.maximum == values.max()
    points = np.unique(values)
    exact = np.searchsorted(np.sort(values), points, side="right") / size
    # Past 2,000 distinct retained values ModelWatch's own sketch digests them: its error adds.
    allowed = error_bound / size + (0.0 if column.is_exact else SKETCH_RANK_ERROR) + 1e-12
    assert np.abs(column.cdf(points) - exact).max() <= allowed
    if error_bound == 0:  # nothing was compacted: the sketch is the data
        assert np.abs(column.cdf(points) - exact).max() <= 1e-12


def test_the_generator_makes_several_levels_at_the_sizes_tested() -> None:
    depths = {
        (k, size): len(kll_levels(np.random.default_rng(0).lognormal(size=size).tolist(), k, random.Random(0))[0])
        for k in (256, 2048)
        for size in (100, 2_500, 20_000)
    }
    assert depths[(2048, 100)] == 1 and depths[(2048, 20_000)] >= 3 and depths[(256, 20_000)] >= 6


def test_a_sketch_of_many_values_is_imported_at_a_bounded_cost(tmp_path: Path) -> None:
    # A 40-million-row baseline's top levels: weights up to 2^14, far past the value budget.
    rng = np.random.default_rng(5)
    levels = [rng.normal(size=size).tolist() for size in (300, 900, 1500, 2000, 1, 700, 2048, 2048, 2048, 2048)]
    levels += [rng.normal(size=2048).tolist() for _ in range(5)]
    size = sum(len(level) * 2**i for i, level in enumerate(levels))
    values = np.concatenate([np.asarray(level) for level in levels])
    weights = np.concatenate([np.full(len(level), 2**i) for i, level in enumerate(levels)])
    document = statistics_document(values, levels, 2048)
    document["features"][0]["numerical_statistics"]["common"]["num_present"] = size
    path = tmp_path / "statistics.json"
    path.write_text(json.dumps(document))

    column = import_statistics(path).profile.columns["x"]
    assert isinstance(column, NumericColumnProfile)
    assert column.valid == size > 40_000_000 and column.sketch.n <= 2 * (1 << 23)
    points = np.quantile(values, [0.01, 0.1, 0.5, 0.9, 0.99])
    weighted_rank = np.array([weights[values <= p].sum() / weights.sum() for p in points])
    assert np.abs(column.cdf(points) - weighted_rank).max() <= 0.001 + SKETCH_RANK_ERROR
