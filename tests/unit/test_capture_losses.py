"""DLE's expected losses where captures are profiled: one loss-model run per capture object, a
record without a finite prediction expects nothing, and a loss model that cannot run on the
object's records leaves its profile without losses (and says why) instead of losing the object."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modelwatch.dle import fit_loss_model, loss_model_inputs
from modelwatch.loss_model import EXPECTED_ABS_ERROR, EXPECTED_SQUARED_ERROR, LossModel
from modelwatch.serving.capture import CAPTURE, MAX_LINE_BYTES, log_lines, parse_line
from modelwatch.spec import parse_spec
from modelwatch.windows.capture_profile import profile_captures

SPEC = parse_spec(
    {
        "model": {"name": "price", "task": "regression"},
        "columns": {"target": "y", "prediction": "predicted"},
        "features": {
            "x": {"type": "numeric"},
            "shade": {"type": "categorical", "categories": ["light", "dark"]},
            "owner": {"type": "categorical", "sensitive": True, "sensitive_action": "hash"},
        },
    }
)


@pytest.fixture(scope="module")
def loss_model() -> LossModel:
    rng = np.random.default_rng(5)
    rows = 600
    x = rng.normal(size=rows)
    shade = rng.choice(["light", "dark"], rows)
    actual = 3 * x + rng.normal(0, np.where(shade == "dark", 2.0, 0.5))
    columns = {"x": x, "shade": shade.astype(object)}
    return fit_loss_model(["x"], ["shade"], columns, 3 * x, actual)


def _records(predictions: list[float | None]) -> list[dict]:
    return [
        {"request_id": f"r{i}", "features": {"x": 0.1 * i, "shade": "dark", "owner": "hmac:ab"}, "prediction": p}
        for i, p in enumerate(predictions)
    ]


def test_every_record_with_a_prediction_has_its_expected_losses(loss_model):
    result = profile_captures(SPEC, _records([1.0, 2.0, 3.0]), loss_model=loss_model)
    assert result.losses_not_estimated is None
    column = result.profile.columns[EXPECTED_ABS_ERROR]
    assert column.count == 3 and column.valid == 3 and column.minimum >= 0


def test_a_record_without_a_finite_prediction_expects_no_loss(loss_model):
    result = profile_captures(SPEC, _records([1.0, None, float("nan")]), loss_model=loss_model)
    for loss in (EXPECTED_ABS_ERROR, EXPECTED_SQUARED_ERROR):
        assert result.profile.columns[loss].valid == 1


def test_a_loss_model_reading_a_feature_the_captures_lack_leaves_the_object_profiled(loss_model):
    reads_more = LossModel(("x", "age"), loss_model.categorical, loss_model.graphs)
    result = profile_captures(SPEC, _records([1.0, 2.0]), loss_model=reads_more)
    assert "age" in result.losses_not_estimated
    assert result.profile.rows == 2 and EXPECTED_ABS_ERROR not in result.profile.columns
    assert set(result.join_index) == {"r0", "r1"}


def test_a_loss_model_that_fails_to_run_leaves_the_object_profiled(loss_model):
    broken = LossModel(loss_model.numeric, loss_model.categorical, {EXPECTED_ABS_ERROR: b"not an onnx graph"})
    result = profile_captures(SPEC, _records([1.0]), loss_model=broken)
    assert result.losses_not_estimated.startswith("the loss model failed")
    assert result.profile.rows == 1 and EXPECTED_ABS_ERROR not in result.profile.columns


def test_a_loss_model_leaves_out_the_features_captures_hide():
    """A sensitive feature is hashed or dropped in captures: the loss model is fitted without it."""
    assert loss_model_inputs(SPEC) == (["x"], ["shade"])


def test_capture_lines_stay_under_the_limit_in_bytes_whatever_the_text():
    """CloudWatch Logs counts an event's UTF-8 bytes: wide characters must not push a line over."""
    records = [{"request_id": f"r{i}", "features": {"note": "価格" * 2000}, "prediction": 1.0} for i in range(60)]
    lines = list(log_lines(CAPTURE, records))
    assert len(lines) > 1 and all(len(line.encode()) <= MAX_LINE_BYTES + 100 for line in lines)
    assert [r for line in lines for r in parse_line(line)[1]] == records


def test_text_json_can_only_escape_is_still_captured():
    records = [{"request_id": "r0", "features": {"note": "a\ud800b"}, "prediction": float("nan")}]
    (line,) = log_lines(CAPTURE, records)
    kind, parsed = parse_line(line)
    assert kind == CAPTURE and parsed[0]["features"]["note"] == "a\ud800b"
    strict = json.loads(line, parse_constant=_refuse)  # JSON has no NaN: it must be null
    assert strict["records"][0]["prediction"] is None


def _refuse(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")
