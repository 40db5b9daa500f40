"""The retraining core: which rows a run trains on, how it splits them, and how it decides."""

from __future__ import annotations

import numpy as np
import pytest

from modelwatch.retraining import labelled_rows
from modelwatch.retraining.dataset import labels_by_request
from modelwatch.retraining.decision import actual_of, answers_on, metrics_of
from modelwatch.retraining.tables import from_parquet, to_parquet


def _capture(i: int, hour: int) -> dict:
    return {
        "request_id": f"r{i}",
        "timestamp": f"2026-11-20T{hour:02d}:00:{i % 60:02d}.000+00:00",
        "features": {
            "age": 20 + i,
            "income": None if i == 3 else 1000.0 * i,
            "score": 600,
            "category": "a",
            "region": "north",
        },
        "prediction": "1",
    }


def test_only_labelled_captures_become_rows_oldest_first(demo_spec):
    captures = [_capture(i, hour=10 - i) for i in range(6)]  # newest first, as a listing might give them
    labels = labels_by_request(
        [
            {"request_id": "r1", "label": 1},
            {"request_id": "r3", "label": 0.0},
            {"request_id": "r5", "label": "1"},
            {"request_id": "r4", "label": None, "outcomes": {"clicked": True}},  # an outcome, no label
            {"request_id": "unknown", "label": 1},
        ]
    )
    rows = labelled_rows(demo_spec, captures, labels)
    assert rows.rows == 3
    assert rows.columns["age"].tolist() == [25.0, 23.0, 21.0]  # r5 (05:00), r3 (07:00), r1 (09:00)
    assert np.isnan(rows.columns["income"][1])  # a missing value stays missing for the imputer
    assert rows.columns["label"].tolist() == ["1", "0", "1"]


def test_the_holdout_is_the_most_recent_share(demo_spec):
    captures = [_capture(i, hour=i % 24) for i in range(20)]
    rows = labelled_rows(demo_spec, captures, {f"r{i}": "1" for i in range(20)})
    train, holdout = rows.split(0.25)
    assert len(train["age"]) == 15 and len(holdout["age"]) == 5
    assert min(holdout["age"]) > max(train["age"]) - 24  # later hours, not a random draw
    assert sorted(rows.timestamps)[-5:] == rows.timestamps[-5:]


def test_parquet_round_trip_keeps_missing_values_and_types(demo_spec):
    columns = {
        "age": np.array([1.0, np.nan, 3.0]),
        "category": np.array(["a", None, "c"], dtype=object),
        "label": np.array(["0", "1", "1"], dtype=object),
    }
    back = from_parquet(to_parquet(columns), ["age"])
    assert back["age"].dtype == np.float64 and np.isnan(back["age"][1]) and back["age"][2] == 3.0
    assert back["category"].tolist() == ["a", None, "c"] and back["label"].tolist() == ["0", "1", "1"]


class _Constant:
    """A classifier that always gives the same probabilities."""

    def __init__(self, p_one: float) -> None:
        self.classes = ["0", "1"]
        self.p_one = p_one

    def predict_proba(self, records):
        return np.tile([1 - self.p_one, self.p_one], (len(records), 1))


def test_scoring_on_the_holdout_uses_the_models_own_predictions(demo_spec):
    holdout = {name: np.array([1.0, 2.0, 3.0, 4.0]) for name in demo_spec.numeric_features}
    holdout |= {name: np.array(["a"] * 4, dtype=object) for name in demo_spec.categorical_features}
    holdout["label"] = np.array(["1", "1", "1", "0"], dtype=object)
    actual = actual_of(demo_spec, holdout)
    assert metrics_of(demo_spec, actual, answers_on(demo_spec, _Constant(0.9), holdout))["accuracy"] == pytest.approx(
        0.75
    )
    assert metrics_of(demo_spec, actual, answers_on(demo_spec, _Constant(0.1), holdout))["accuracy"] == pytest.approx(
        0.25
    )
