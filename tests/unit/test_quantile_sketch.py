"""The quantile sketch: the same bytes for the same values on every run, ranks within
SKETCH_RANK_ERROR on awkward data, point masses kept whole, and old KLL profiles still readable."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from datasketches import kll_doubles_sketch

from modelwatch.sketches import SKETCH_K, SKETCH_RANK_ERROR, QuantileSketch, sketch_from_text, sketch_to_text

_RNG = np.random.default_rng(20261206)
COLUMNS = {
    "normal": _RNG.normal(size=300_000),
    "lognormal": _RNG.lognormal(0.0, 1.5, 300_000),
    "heavy tail": _RNG.pareto(1.2, 300_000),
    "30% zeros": np.concatenate([np.zeros(90_000), _RNG.exponential(size=210_000)]),
    "rounded": np.round(_RNG.normal(size=300_000) * 1000) / 10,
    "uniform": _RNG.uniform(size=300_000),
}


def _sketch_of(values: np.ndarray, pieces: int) -> QuantileSketch:
    total = QuantileSketch()
    for piece in np.array_split(values, pieces):
        part = QuantileSketch()
        part.update(piece)
        total.merge(part)
    return total


@pytest.mark.parametrize("pieces", [1, 300])
@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_ranks_stay_within_the_stated_error(name: str, pieces: int) -> None:
    values = COLUMNS[name]
    sketch = _sketch_of(values, pieces)
    assert sketch.is_estimation_mode() and sketch.n == len(values)
    ordered = np.sort(values)
    points = np.unique(np.quantile(values, np.linspace(0.001, 0.999, 499)))
    inclusive = np.searchsorted(ordered, points, side="right") / len(values)
    exclusive = np.searchsorted(ordered, points, side="left") / len(values)
    assert np.abs(np.array(sketch.get_cdf(points, True)[:-1]) - inclusive).max() <= SKETCH_RANK_ERROR
    assert np.abs(np.array(sketch.get_cdf(points, False)[:-1]) - exclusive).max() <= SKETCH_RANK_ERROR
    values_kept, weights = sketch.weighted()
    assert weights.sum() == len(values) and np.all(np.diff(values_kept) > 0)


def test_a_point_mass_is_counted_whole() -> None:
    sketch = _sketch_of(COLUMNS["30% zeros"], 50)
    assert sketch.get_rank(0.0, inclusive=True) == pytest.approx(0.3, abs=1e-12)
    assert sketch.get_rank(0.0, inclusive=False) == 0.0


def test_exact_while_few_distinct_values_whatever_the_count() -> None:
    ages = np.round(_RNG.normal(42, 12, 500_000))
    sketch = _sketch_of(ages, 20)
    assert not sketch.is_estimation_mode()
    assert sketch.get_rank(40.0) == np.mean(ages <= 40.0)
    assert sketch.get_quantiles([0.5])[0] == np.quantile(ages, 0.5, method="inverted_cdf")
    assert len(np.unique(ages)) <= SKETCH_K


_PROGRAM = """
import numpy as np
from modelwatch.sketches import QuantileSketch, sketch_to_text
values = np.random.default_rng(3).lognormal(size=200_000)
total = QuantileSketch()
for piece in np.array_split(values, 7):
    part = QuantileSketch(); part.update(piece); total.merge(part)
print(sketch_to_text(total))
"""


def test_the_same_values_give_the_same_bytes_in_every_process() -> None:
    runs = {
        subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True, text=True, check=True).stdout
        for _ in range(3)
    }
    assert len(runs) == 1
    assert sketch_from_text(runs.pop().strip()).n == 200_000


def test_text_round_trip_and_copies_answer_alike() -> None:
    sketch = _sketch_of(COLUMNS["lognormal"], 10)
    again = sketch_from_text(sketch_to_text(sketch))
    points = np.quantile(COLUMNS["lognormal"], [0.01, 0.5, 0.99])
    assert again.get_cdf(points) == sketch.get_cdf(points)
    assert sketch_to_text(again) == sketch_to_text(sketch)


@pytest.mark.parametrize("size", [500, 50_000])
def test_a_profile_stored_with_a_kll_sketch_is_still_read(size: int) -> None:
    values = _RNG.normal(size=size)
    legacy = kll_doubles_sketch(2000)
    legacy.update(np.sort(values))
    sketch = QuantileSketch.deserialize(legacy.serialize())
    assert sketch.n == size
    assert sketch.is_estimation_mode() == legacy.is_estimation_mode()
    assert sketch.get_rank(0.0) == pytest.approx(np.mean(values <= 0.0), abs=0.005)
