"""POST /feedback: labels and outcomes land in S3 in batches (one object per delivery and
prediction hour, not one per label), under their prediction's hour; a retried delivery rewrites
its own object."""

from __future__ import annotations

from modelwatch.catalog import layout
from modelwatch.data_access.label_store import parse_labels
from modelwatch.serving.capture import MARKER
from tests.integration.conftest import GOOD, issued_request_id


def _predict(stack, n: int = 1) -> list[str]:
    result = stack.call("predict", "POST", "/predict", {"instances": [GOOD] * n})
    return [p["request_id"] for p in result.body["predictions"]]


def _pieces(stack) -> dict[str, list[dict]]:
    stack.flush_deliveries()  # what the delivery stream buffered is in S3 once its interval passes
    """labels object key -> its feedback pieces (the hours' "changed" markers left out)."""
    return {
        key: parse_labels(body)
        for key, body in stack.objects(layout.LABELS.prefix).items()
        if not key.startswith(layout.LABELS_CHANGED_BASE)
    }


def test_single_label_lands_under_the_prediction_hour(stack):
    (request_id,) = _predict(stack)
    stack.clock.advance(3 * 3600)  # the label arrives hours later
    result = stack.call(
        "feedback", "POST", "/feedback", {"request_id": request_id, "label": 1, "outcomes": {"clicked": True}}
    )
    assert result.status == 200, result.body
    assert result.body == {"accepted": 1}
    objects = {k: pieces for k, pieces in _pieces(stack).items() if any(p["request_id"] == request_id for p in pieces)}
    ((key, (document,)),) = objects.items()
    capture_hours = [k.split("/")[2] for k in stack.objects("capture/") if "dt=" in k]
    hour = key.split("/")[1]
    assert hour in capture_hours  # same hour partition as the capture
    assert document["label"] == "1" and document["outcomes"] == {"clicked": True}
    assert layout.labels_changed_key(hour.removeprefix("dt=")) in stack.objects(layout.LABELS_CHANGED_BASE)


def test_a_batch_is_one_object_and_a_redelivery_rewrites_it(stack):
    ids = _predict(stack, 3)
    items = [{"request_id": i, "label": 0, "outcomes": {"revenue": 12.5}} for i in ids]
    before = set(_pieces(stack))
    first = stack.call("feedback", "POST", "/feedback", {"items": items}, deliver_capture=False)
    assert first.status == 200
    lines = [line for line in first.stdout if MARKER in line]
    delivery = stack.delivery_event(lines, "feedback-batch")
    for _ in range(2):  # S3 notifying, then notifying again (or Lambda retrying the invocation)
        stack.invoke("capture", delivery)
    created = {k: v for k, v in _pieces(stack).items() if k not in before}
    ((_key, pieces),) = created.items()  # three labels, one object; the redelivery rewrote it
    assert sorted(p["request_id"] for p in pieces) == sorted(ids)


def test_a_request_id_predict_did_not_issue_is_refused_and_kept(stack):
    """Labels attach only to real predictions: an id in the right form but not signed by this
    deployment (made up, or from another deployment), or in another form, is a 422 naming the
    field, and the request waits in quarantine."""
    issued = issued_request_id(stack)
    forged = issued[:-1] + ("0" if issued[-1] != "0" else "1")
    for request_id, rule in (
        (forged, "issued_by_predict"),
        ("external-42", "string_pattern_mismatch"),
        (issued[:32], "string_pattern_mismatch"),
    ):
        result = stack.call("feedback", "POST", "/feedback", {"request_id": request_id, "label": "1"})
        assert result.status == 422, result.body
        assert [(e["field"], e["rule"]) for e in result.body["errors"]] == [("request_id", rule)]
    batch = {"items": [{"request_id": issued, "label": 1}, {"request_id": forged, "label": 0}]}
    result = stack.call("feedback", "POST", "/feedback", batch)
    assert result.status == 422 and [e["field"] for e in result.body["errors"]] == ["items.1.request_id"]
    stack.flush_deliveries()
    assert len(stack.objects(layout.QUARANTINE.prefix, bodies=False)) >= 1
    assert stack.call("feedback", "POST", "/feedback", {"request_id": issued, "label": "1"}).status == 200


def test_bad_feedback_names_the_field(stack):
    well_formed = "0" * 48  # the form predict issues (whether it issued it is checked later)
    cases = [
        ({"request_id": well_formed}, "body", "value_error"),
        ({"request_id": "a b", "label": 1}, "request_id", "string_pattern_mismatch"),
        ({"items": []}, "items", "too_short"),
        ({"items": [{"request_id": well_formed, "label": 1, "extra": 1}]}, "items.0.extra", "extra_forbidden"),
        ({"request_id": well_formed, "label": [1]}, "label", None),
    ]
    for body, field, rule in cases:
        result = stack.call("feedback", "POST", "/feedback", body)
        assert result.status == 422, (body, result.body)
        fields = {(e["field"], e["rule"]) for e in result.body["errors"]}
        assert any(f == field or f.startswith(field + ".") for f, _ in fields), (body, fields)
        if rule:
            assert any(r == rule for _, r in fields), (body, fields)


def test_labels_must_be_classes_of_the_served_model(stack):
    """The demo model's classes are "0" and "1": a label outside them, or a boolean (which would
    be the label "true", never a class), is a 422 naming the field, and quarantined."""
    (request_id,) = _predict(stack)
    cases = [
        ({"request_id": request_id, "label": "2"}, "label", "unknown_class"),
        ({"request_id": request_id, "label": True}, "label", "boolean_label"),
        ({"request_id": request_id, "label": "yes"}, "label", "unknown_class"),
        (
            {"items": [{"request_id": request_id, "label": 1}, {"request_id": request_id, "label": 7}]},
            "items.1.label",
            "unknown_class",
        ),
    ]
    for body, field, rule in cases:
        before = len(stack.objects("quarantine/"))
        result = stack.call("feedback", "POST", "/feedback", body)
        assert result.status == 422, (body, result.body)
        assert [(e["field"], e["rule"]) for e in result.body["errors"]] == [(field, rule)], result.body
        assert "classes" in result.body["errors"][0]["message"]
        stack.flush_deliveries()
        assert len(stack.objects("quarantine/")) == before + 1
        assert "ValidationErrors" not in result.metrics()  # API Gateway's 4xx count is the metric

    def stored() -> list[str]:  # label objects holding this request id (keys hold batch ids, not request ids)
        stack.flush_deliveries()
        return [key for key, body in stack.objects("labels/").items() if request_id.encode() in body]

    assert stored() == []  # a refused batch stores none of its items
    for label in (1, "1", 1.0, 0):
        assert stack.call("feedback", "POST", "/feedback", {"request_id": request_id, "label": label}).status == 200
    assert stored()  # the accepted ones are stored, where the check above looked
