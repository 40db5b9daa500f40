"""Every record the API accepts fits one capture line: an outcome text, a label or a categorical
value longer than the spec's serving limits, or more outcomes than it allows, is a 422 naming the
field (never a 200 whose line CloudWatch Logs would cut), and the refused request is quarantined
within its line too."""

from __future__ import annotations

from modelwatch.catalog.capture_line import MAX_LINE_BYTES
from modelwatch.serving.capture import MARKER
from tests.integration.conftest import GOOD


def _request_ids(stack, n: int = 1) -> list[str]:
    """Ids the predict function issued (feedback for any other is refused)."""
    answer = stack.call("predict", "POST", "/predict", {"instances": [GOOD] * n})
    return [p["request_id"] for p in answer.body["predictions"]]


def _refused(result, field: str, rule: str) -> None:
    """A 422 whose errors name the field and the broken rule (a value that may be a number, a
    boolean or a text has its field named once per kind it could be: "outcomes.note.str")."""
    assert result.status == 422, result.body
    named = {(e["field"].split(".str")[0].split(".constrained-str")[0], e["rule"]) for e in result.body["errors"]}
    assert (field, rule) in named, result.body["errors"]
    lines = [line for line in result.stdout if MARKER in line]
    assert lines and '"kind":"quarantine"' in lines[0] and all(len(line.encode()) <= MAX_LINE_BYTES for line in lines)


def test_a_300_kb_outcome_is_refused_naming_the_field(stack):
    (request_id,) = _request_ids(stack)
    body = {"request_id": request_id, "outcomes": {"note": "x" * 300_000}}
    _refused(stack.call("feedback", "POST", "/feedback", body), "outcomes.note", "string_too_long")


def test_control_characters_at_the_limit_are_accepted_and_fit_one_line(stack):
    """The worst encoding of every character (\\u00XX), at every limit at once, is still one line
    (a label is one of the served model's classes; its worst case: tests/unit/test_capture_line.py)."""
    limits = stack.platform.spec.serving
    text = "\x01" * limits.max_text_chars
    outcomes = {f"{k:02d}".ljust(64, "\x01"): text for k in range(limits.max_outcomes)}
    items = [{"request_id": request_id, "outcomes": outcomes} for request_id in _request_ids(stack, 3)]
    result = stack.call("feedback", "POST", "/feedback", {"items": items})
    assert result.status == 200, result.body
    lines = [line for line in result.stdout if MARKER in line]
    assert len(lines) == 3 and all(len(line.encode()) <= MAX_LINE_BYTES for line in lines)


def test_more_outcomes_than_the_spec_allows_are_refused(stack):
    many = {f"k{i}": i for i in range(stack.platform.spec.serving.max_outcomes + 1)}
    (request_id,) = _request_ids(stack)
    result = stack.call("feedback", "POST", "/feedback", {"items": [{"request_id": request_id, "outcomes": many}]})
    _refused(result, "items.0.outcomes", "too_long")


def test_a_long_label_and_a_long_category_are_refused(stack):
    limits = stack.platform.spec.serving
    (request_id,) = _request_ids(stack)
    long_label = {"request_id": request_id, "label": "c" * (limits.max_text_chars + 1)}
    _refused(stack.call("feedback", "POST", "/feedback", long_label), "label", "string_too_long")
    long_category = {"features": GOOD | {"category": "a" * (limits.max_category_chars + 1)}}
    _refused(stack.call("predict", "POST", "/predict", long_category), "features.category", "string_too_long")


def test_a_quarantined_request_whose_errors_name_huge_fields_stays_within_its_line(stack):
    """Unknown keys are named in the errors: a few long ones are no longer one line per key."""
    features = GOOD | {f"{k}".ljust(50_000, "z"): 1 for k in range(8)}
    result = stack.call("predict", "POST", "/predict", {"features": features})
    assert result.status == 422
    lines = [line for line in result.stdout if MARKER in line]
    assert len(lines) == 1 and len(lines[0].encode()) <= MAX_LINE_BYTES
