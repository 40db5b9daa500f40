"""The retraining run's sample: at most max_training_rows rows however long the window, drawn
uniformly (every row equally likely, so every hour in proportion to its rows)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from modelwatch.retraining.dataset import LabelledRows
from modelwatch.retraining.sampling import UniformSample
from modelwatch.spec import parse_spec
from modelwatch.spec.loader import SpecError


def _hour(hour: int, rows: int) -> LabelledRows:
    stamps = [f"2026-11-{1 + hour // 24:02d}T{hour % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}" for i in range(rows)]
    return LabelledRows({"hour": np.full(rows, hour), "y": np.array(["1"] * rows, dtype=object)}, stamps)


def test_the_sample_never_exceeds_its_capacity_and_draws_from_every_hour():
    capacity, hours = 1000, 72
    sample = UniformSample(capacity, seed=7)
    sizes = [300 + 200 * (h % 3) for h in range(hours)]  # 300, 500, 700 rows an hour: 36,000 in all
    for hour, size in enumerate(sizes):
        for first in range(0, size, 100):  # capture objects of 100 rows
            sample.add(_hour(hour, min(100, size - first)))
            assert sample.held <= 2 * capacity  # the sample and its buffer: never the window
    rows = sample.rows()
    assert sample.seen == sum(sizes) and rows.rows == capacity
    assert sample.peak_held <= 2 * capacity + 100  # at its peak, one capture object more
    assert rows.timestamps == sorted(rows.timestamps)  # time order: the holdout is the latest share
    per_hour = np.bincount(rows.columns["hour"].astype(int), minlength=hours)
    assert (per_hour > 0).all()  # every hour is drawn from
    # Uniform over rows: an hour's share follows its traffic (chi-square against the sizes).
    expected = np.array(sizes) / sum(sizes) * capacity
    assert stats.chisquare(per_hour, expected).pvalue > 0.001


def test_a_window_under_the_capacity_is_kept_whole():
    sample = UniformSample(500, seed=1)
    for hour in range(3):
        sample.add(_hour(hour, 100))
    rows = sample.rows()
    assert rows.rows == 300 and sorted(rows.columns["hour"].tolist()) == [0] * 100 + [1] * 100 + [2] * 100


def test_the_same_seed_draws_the_same_sample():
    def draw() -> list[str]:
        sample = UniformSample(50, seed=3)
        for hour in range(10):
            sample.add(_hour(hour, 40))
        return sample.rows().timestamps

    assert draw() == draw()


def test_max_training_rows_below_min_rows_is_refused_naming_the_key():
    document = {
        "model": {"name": "m", "task": "binary"},
        "columns": {"target": "y", "positive_class": "1"},
        "features": {"x": {"type": "numeric"}},
        "retraining": {"min_rows": 1000, "max_training_rows": 500},
    }
    with pytest.raises(SpecError, match="retraining: max_training_rows"):
        parse_spec(document)
