"""The spec's serving limits keep every accepted record within one capture line: the worst case
(every text at its limit, every character at its longest JSON encoding) is built with the capture
module's own record builders and encoder, for derived and explicit limits; a spec whose limits
could not fit is refused at load naming the key; and a quarantined request's errors are cut by
their encoded size, not their count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelwatch.catalog.capture_line import (
    LOG_EVENT_MAX_BYTES,
    MAX_LINE_BYTES,
    OUTCOME_KEY_MAX_CHARS,
    REQUEST_ID_MAX_CHARS,
)
from modelwatch.serving import capture
from modelwatch.serving.request_ids import RANDOM_DIGITS, TAG_DIGITS, TIME_DIGITS
from modelwatch.spec import parse_spec
from modelwatch.spec.loader import SpecError
from modelwatch.spec.models import MonitoringSpec

AT = datetime(2026, 12, 8, tzinfo=UTC)
WORST = "\x01"  # written \u0001 in JSON: six bytes for one character


def _spec(
    demo_spec: MonitoringSpec,
    serving: dict | None = None,
    features: dict | None = None,
    attributes: dict | None = None,
) -> MonitoringSpec:
    document = demo_spec.model_dump(mode="json", exclude_none=True)
    document["serving"] = {
        key: value
        for key, value in document["serving"].items()
        if key not in ("max_text_chars", "max_category_chars")  # derived at load
    } | (serving or {})
    if features is not None:
        document["features"] = features
        document["segments"] = []  # the demo's segments cut by its own features
    if attributes is not None:
        document["attributes"] = attributes
    return parse_spec(document, "<test>")


def _worst_label_line(spec: MonitoringSpec) -> str:
    limits = spec.serving
    assert limits.max_text_chars is not None
    text = WORST * limits.max_text_chars
    outcomes = {f"{k}".ljust(OUTCOME_KEY_MAX_CHARS, WORST): text for k in range(limits.max_outcomes)}
    record = capture.label_record("r" * 128, text, outcomes, AT)
    (line,) = capture.log_lines(capture.LABEL, [record])
    return line


@pytest.mark.parametrize("outcomes", [0, 1, 20, 100, 400])
def test_the_worst_feedback_record_fits_one_line_with_derived_limits(demo_spec, outcomes):
    spec = _spec(demo_spec, {"max_outcomes": outcomes})
    assert spec.serving.max_text_chars is not None and spec.serving.max_text_chars >= 1
    assert len(_worst_label_line(spec).encode()) <= MAX_LINE_BYTES + 100 < LOG_EVENT_MAX_BYTES


def test_the_defaults_are_the_documented_ones(demo_spec):
    serving = _spec(demo_spec).serving
    assert (serving.max_outcomes, serving.max_text_chars, serving.max_category_chars) == (20, 1024, 256)


def test_the_worst_capture_record_fits_one_line(demo_spec):
    features = {f"c{k:03d}".ljust(60, "x"): {"type": "categorical"} for k in range(90)}
    features |= {f"n{k:03d}".ljust(60, "x"): {"type": "numeric"} for k in range(90)}
    spec = _spec(demo_spec, features=features)
    chars = spec.serving.max_category_chars
    assert chars is not None and 1 <= chars < 256  # derived down: 90 categorical values of 256 would not fit
    values = {name: WORST * chars if name.startswith("c") else -2.2250738585072014e-308 for name in features}
    probabilities = {f"{k}".ljust(64, WORST): 0.123456789012345 for k in range(100)}
    record = capture.capture_record("r" * 128, AT, "v" * 64, values, WORST * 64, probabilities)
    (line,) = capture.log_lines(capture.CAPTURE, [record])
    assert len(line.encode()) <= MAX_LINE_BYTES + 100


def test_the_worst_capture_record_with_request_attributes_fits_one_line(demo_spec):
    """Request attributes are counted into the record's worst case: the categorical values'
    derived limit makes room for them, so the longest record the API accepts still fits."""
    features = {f"c{k:03d}".ljust(60, "x"): {"type": "categorical"} for k in range(90)}
    attributes = {f"a{k:02d}".ljust(64, "x"): {"max_length": 1024} for k in range(16)}
    without = _spec(demo_spec, features=features).serving.max_category_chars
    spec = _spec(demo_spec, features=features, attributes=attributes)
    chars = spec.serving.max_category_chars
    assert chars is not None and without is not None and 1 <= chars < without
    values = {name: WORST * chars for name in features}
    given = {name: WORST * 1024 for name in attributes}
    probabilities = {f"{k}".ljust(64, WORST): 0.123456789012345 for k in range(100)}
    record = capture.capture_record("r" * 128, AT, "v" * 64, values, WORST * 64, probabilities, given)
    (line,) = capture.log_lines(capture.CAPTURE, [record])
    assert len(line.encode()) <= MAX_LINE_BYTES + 100


def test_limits_a_line_could_not_hold_are_refused_at_load_naming_the_key(demo_spec):
    with pytest.raises(SpecError, match=r"serving\.max_text_chars: 2000 characters .* at most 264"):
        _spec(demo_spec, {"max_outcomes": 100, "max_text_chars": 2000})
    wide = {f"c{k}": {"type": "categorical"} for k in range(150)}
    with pytest.raises(SpecError, match=r"serving\.max_category_chars: 256 characters for 150 categorical"):
        _spec(demo_spec, {"max_category_chars": 256}, features=wide)


def test_quarantined_errors_are_cut_by_their_encoded_size():
    """A field path repeats the sender's key: a hundred 50 KB keys are no longer a 5 MB line."""
    field = "features.{}".ljust(50_000, "z")
    errors = [{"field": field.format(k), "rule": "extra_forbidden", "message": "no"} for k in range(100)]
    record = capture.quarantine_record(AT, "/predict", 422, errors, b"{}")
    (line,) = capture.log_lines(capture.QUARANTINE, [record])
    assert len(line.encode()) <= MAX_LINE_BYTES
    assert record["errors_total"] == 100 and record["errors"] and record["errors"][0]["rule"] == "extra_forbidden"


def test_the_worst_case_counts_a_request_id_at_least_as_long_as_the_ones_issued():
    assert TIME_DIGITS + RANDOM_DIGITS + TAG_DIGITS <= REQUEST_ID_MAX_CHARS
