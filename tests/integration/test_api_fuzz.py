"""Property-based fuzzing of both routes: whatever arrives, the answer is never a 5xx and never
an unhandled exception (which would surface here as a raised error)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import GOOD

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
feature_values = st.one_of(json_values, st.sampled_from([-1e308, 1e308, 0, -5, 18, 101, "a", "b", "mars", "", "NaN"]))
mutated_record = st.fixed_dictionaries(
    {}, optional={name: feature_values for name in [*GOOD, "unknown_feature"]}
) | st.builds(lambda name, value: GOOD | {name: value}, st.sampled_from([*GOOD, "extra"]), feature_values)
predict_bodies = st.one_of(
    json_values,
    st.builds(lambda r: {"features": r}, mutated_record),
    st.builds(lambda rs: {"instances": rs}, st.lists(mutated_record, max_size=4)),
    st.dictionaries(st.sampled_from(["features", "instances", "x"]), json_values, max_size=3),
)
feedback_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {}, optional={"request_id": json_values, "label": json_values, "outcomes": json_values, "items": json_values}
    ),
    st.builds(
        lambda ids, labels: {
            "items": [{"request_id": i, "label": label} for i, label in zip(ids, labels, strict=False)]
        },
        st.lists(st.text(max_size=20), max_size=4),
        st.lists(json_values, max_size=4),
    ),
)


def _encode(body) -> bytes:
    return json.dumps(body, allow_nan=True).encode()


raw_bodies = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode))
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""])
FUZZ = settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _check(result) -> None:
    assert result.status < 500, result.body
    if result.status >= 400:
        assert result.body["errors"] and all({"field", "rule", "message"} <= set(e) for e in result.body["errors"])
    elif "predictions" in result.body:
        for prediction in result.body["predictions"]:
            assert all(0.0 <= p <= 1.0 for p in prediction["probabilities"].values()), prediction


@FUZZ
@given(body=st.one_of(predict_bodies.map(_encode), raw_bodies), content_type=content_types)
def test_predict_never_answers_5xx(stack, body, content_type):
    _check(
        stack.call("predict", "POST", "/predict", body, headers={"content-type": content_type}, deliver_capture=False)
    )


@FUZZ
@given(body=st.one_of(feedback_bodies.map(_encode), raw_bodies), content_type=content_types)
def test_feedback_never_answers_5xx(stack, body, content_type):
    _check(
        stack.call("feedback", "POST", "/feedback", body, headers={"content-type": content_type}, deliver_capture=False)
    )
