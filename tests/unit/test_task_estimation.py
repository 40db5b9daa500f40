"""Performance without labels per task: multiclass CBPE and regression DLE, against realized values
on windows whose inputs shifted (where the estimate matters)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from modelwatch.cbpe import estimate_multiclass, fit_multiclass_calibration
from modelwatch.dle import LossModel, estimate_regression, fit_loss_model, loss_columns
from modelwatch.profiles import ProfileSchema, profile_batch
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.score_sample import SAMPLE_ROWS
from modelwatch.score_histogram import grid_indices, grid_probabilities

CLASSES = ["a", "b", "c"]


def _multiclass_window(rng, rows: int, shift: float, temperature: float):
    x = rng.normal(shift, 1.0, (rows, 2))
    logits = np.stack([1.5 * x[:, 0], -1.0 * x[:, 0] + 1.2 * x[:, 1], 0.3 * x[:, 1] + 0.5], axis=1)
    truth = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    actual = np.array([CLASSES[rng.choice(3, p=p)] for p in truth], dtype=object)
    said = np.exp(logits * temperature)  # temperature > 1: an overconfident model
    said /= said.sum(axis=1, keepdims=True)
    predicted = np.array([CLASSES[i] for i in said.argmax(axis=1)], dtype=object)
    batch = {"x0": x[:, 0], "y": actual, "p": predicted} | {f"p_{c}": said[:, i] for i, c in enumerate(CLASSES)}
    return batch


SCHEMA = ProfileSchema(
    numeric=("x0",), categorical=(), target="y", prediction="p", task="multiclass", score_prefix="p_"
)


@pytest.mark.parametrize("temperature", [1.0, 1.8], ids=["calibrated", "overconfident"])
def test_multiclass_estimates_follow_realized_performance_under_shift(temperature):
    rng = np.random.default_rng(5)
    reference = profile_batch(SCHEMA, _multiclass_window(rng, 20_000, 0.0, temperature))
    calibrations = fit_multiclass_calibration(reference.performance)
    assert calibrations is not None
    if temperature == 1.0:  # already calibrated: the held-out check keeps most classes raw
        assert sum(c.applied for c in calibrations.values()) <= 1
    else:
        assert all(c.applied for c in calibrations.values())
    for shift in (0.0, 0.7, -0.8, 1.3):
        window = _multiclass_window(rng, 5_000, shift, temperature)
        realized = profile_batch(SCHEMA, window).performance.metrics()
        unlabelled = profile_batch(SCHEMA, {k: v for k, v in window.items() if k != "y"})
        assert unlabelled.performance is None
        estimated = estimate_multiclass(calibrations, unlabelled)
        assert estimated["accuracy"] == pytest.approx(realized["accuracy"], abs=0.025), shift
        assert estimated["f1_macro"] == pytest.approx(realized["f1_macro"], abs=0.035), shift
        assert estimated["roc_auc_ovr"] == pytest.approx(realized["roc_auc_ovr"], abs=0.03), shift


def _regression_window(rng, rows: int, shift: float):
    x = rng.normal(shift, 1.0, rows)
    colour = rng.choice(["red", "blue"], rows)
    # Noise grows with x and is larger for blue: the error depends on the inputs.
    noise = rng.normal(0, 1, rows) * (0.5 + np.abs(x)) * np.where(colour == "blue", 2.0, 1.0)
    target = 100 + 10 * x + noise
    prediction = 100 + 10 * x
    return {"x": x, "colour": colour.astype(object), "y": target, "p": prediction}


def test_regression_estimates_follow_realized_errors_under_shift():
    rng = np.random.default_rng(9)
    reference = _regression_window(rng, 6_000, 0.0)
    model = fit_loss_model(["x"], ["colour"], reference, reference["p"], reference["y"])
    model = LossModel.from_bytes(model.to_bytes())  # as stored with the model version
    schema = ProfileSchema(
        numeric=("x",),
        categorical=("colour",),
        target="y",
        prediction="p",
        task="regression",
        expected_losses=partial(loss_columns, model, "p"),
    )
    for shift in (0.0, 1.0, -1.5):
        window = _regression_window(rng, 5_000, shift)
        realized = profile_batch(schema, window).performance.metrics()
        estimated = estimate_regression(profile_batch(schema, {k: v for k, v in window.items() if k != "y"}))
        assert estimated["mae"] == pytest.approx(realized["mae"], rel=0.06), shift
        assert estimated["rmse"] == pytest.approx(realized["rmse"], rel=0.06), shift
        assert estimated["mape"] == pytest.approx(realized["mape"], rel=0.1), shift
        assert estimated["r2"] is None


def test_multiclass_estimates_divide_calibrated_probabilities_by_their_rows_sum():
    """Calibrated one class at a time, a row's probabilities no longer sum to one; the estimate
    divides them by their sum, row by row (from the window's sample of whole rows), and the same
    rows give the same estimate whatever the batches and their merge order."""
    rng = np.random.default_rng(21)
    reference = profile_batch(SCHEMA, _multiclass_window(rng, 20_000, 0.0, 1.8))
    calibrations = fit_multiclass_calibration(reference.performance)
    window = _multiclass_window(rng, 1_500, 0.6, 1.8)
    unlabelled = {k: v for k, v in window.items() if k != "y"}
    whole = profile_batch(SCHEMA, unlabelled)
    assert whole.score_sample is not None and whole.score_sample.rows == 1_500
    # By hand, from the rows: calibrate, divide by the row's sum, take the predicted class's share,
    # on the probabilities as the histograms hold them (their grid points). The window is held
    # whole, so the estimate is this exactly, up to the order of summation.
    probabilities = grid_probabilities(grid_indices(np.column_stack([window[f"p_{c}"] for c in CLASSES])))
    calibrated = np.column_stack([calibrations[c](probabilities[:, i]) for i, c in enumerate(CLASSES)])
    normalized = calibrated / calibrated.sum(axis=1, keepdims=True)
    predicted = np.array([CLASSES.index(p) for p in window["p"]])
    by_hand = normalized[np.arange(len(predicted)), predicted].mean()
    estimated = estimate_multiclass(calibrations, whole)
    assert estimated["accuracy"] == pytest.approx(by_hand, abs=1e-12)
    parts = [profile_batch(SCHEMA, {k: v[i::4] for k, v in unlabelled.items()}) for i in range(4)]
    forwards = parts[0].merged(*parts[1:])
    backwards = parts[3].merged(parts[2], parts[1], parts[0])
    assert estimate_multiclass(calibrations, forwards) == estimate_multiclass(calibrations, backwards)
    stored = DatasetProfile.from_json(forwards.to_json())
    assert estimate_multiclass(calibrations, stored) == estimate_multiclass(calibrations, forwards)
    assert estimate_multiclass(calibrations, forwards)["accuracy"] == pytest.approx(estimated["accuracy"], abs=1e-12)


def test_a_window_of_5000_rows_is_normalized_on_every_row():
    """The per-row division is read from the window's sample of whole rows; a window of up to
    SAMPLE_ROWS rows (5,000-row chunks, say) is held whole, merged from parts in any order, so its
    correction carries no sampling noise."""
    rng = np.random.default_rng(5)
    window = {k: v for k, v in _multiclass_window(rng, 5_000, 0.3, 1.8).items() if k != "y"}
    assert SAMPLE_ROWS >= 5_000
    parts = [profile_batch(SCHEMA, {k: v[i::3] for k, v in window.items()}) for i in range(3)]
    sample = parts[2].merged(parts[0], parts[1]).score_sample
    assert sample is not None and sample.rows == 5_000 and len(sample.predicted) == 5_000
