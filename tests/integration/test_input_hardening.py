"""Bad input on both routes gets a 4xx in the documented format, never a 5xx: every JSON encoding
the RFC allows, base64 or not, media types in any case and with parameters; numbers that are
numbers; outcomes that are finite; and a spec CloudWatch could not take is refused at load."""

from __future__ import annotations

import base64
import json

import pytest

from modelwatch.spec import parse_spec
from modelwatch.spec.loader import SpecError
from tests.integration.conftest import GOOD, issued_request_id

ROUTES = ("/feedback", "/predict")


def _body(stack, route: str) -> dict:
    """A valid body: feedback names a request id this stack's predict issued."""
    if route == "/predict":
        return {"features": GOOD}
    return {"request_id": issued_request_id(stack), "label": 1}


FUNCTIONS = {"/predict": "predict", "/feedback": "feedback"}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]
MEDIA_TYPES = [
    "application/json",
    "Application/JSON",
    "application/json; charset=utf-8",
    "APPLICATION/JSON;charset=UTF-16",
]


def _call(stack, route: str, raw: bytes, media_type: str, base64_encoded: bool):
    from modelwatch_local.apigw import http_event, response_parts

    event = http_event("POST", route, {"content-type": media_type}, raw)
    if base64_encoded:  # API Gateway sends a body it cannot pass as UTF-8 text base64-encoded
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    invocation = stack.invoke(FUNCTIONS[route], event)
    status, _, data = response_parts(invocation.result)
    return status, json.loads(data)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("base64_encoded", [False, True])
def test_every_json_encoding_is_read_and_answered(stack, route, encoding, base64_encoded):
    """Base64 on: every encoding the RFC allows is read. Base64 off: a JSON content type's body
    as API Gateway passes it, as text (UTF-16 and UTF-32 of ASCII without a BOM are valid UTF-8,
    NUL bytes and all). Their BOMs are not UTF-8: such a body arrives with its undecodable bytes
    replaced, and is answered with a 400 naming the body, never a 5xx."""
    raw = json.dumps(_body(stack, route)).encode(encoding)
    status, body = _call(stack, route, raw, "application/json", base64_encoded)
    try:
        raw.decode("utf-8")
        text = True
    except UnicodeDecodeError:
        text = False
    if base64_encoded or text:
        assert status == 200, body
    else:
        assert status == 400 and [e["field"] for e in body["errors"]] == ["body"], body


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_an_encoding_named_in_a_mixed_case_media_type_is_answered(stack, route, encoding):
    raw = json.dumps(_body(stack, route)).encode(encoding)
    media_type = f"Application/JSON ; Charset={encoding.upper()}"
    status, body = _call(stack, route, raw, media_type, base64_encoded=True)
    assert status == 200, body


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("media_type", MEDIA_TYPES)
@pytest.mark.parametrize("base64_encoded", [False, True])
def test_media_types_compare_without_case_and_parameters(stack, route, media_type, base64_encoded):
    status, body = _call(stack, route, json.dumps(_body(stack, route)).encode(), media_type, base64_encoded)
    assert status == 200, body


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe{\x00", b"\x00\x00\x00", '{"a": "\udcff"}'.encode("utf-8", "surrogatepass"), bytes(range(1, 32))],
)
def test_undecodable_bodies_are_a_documented_4xx(stack, route, raw):
    status, body = _call(stack, route, raw, "application/json", base64_encoded=True)
    assert 400 <= status < 500 and body["errors"] and {"field", "rule", "message"} <= set(body["errors"][0])


@pytest.mark.parametrize("value", [True, "1e5", "35"])
def test_a_number_must_be_a_json_number(stack, value):
    result = stack.call("predict", "POST", "/predict", {"features": GOOD | {"age": value}})
    assert result.status == 422
    assert [e["field"] for e in result.body["errors"]] == ["features.age"]


@pytest.mark.parametrize(
    "raw",
    [b'{"request_id": "%s", "outcomes": {"revenue": NaN}}', b'{"request_id": "%s", "outcomes": {"revenue": Infinity}}'],
)
def test_outcomes_are_finite(stack, raw):
    result = stack.call("feedback", "POST", "/feedback", raw.replace(b"%s", issued_request_id(stack).encode()))
    assert result.status == 422 and result.body["errors"][0]["field"].startswith("outcomes.revenue")


def test_a_value_too_small_for_cloudwatch_is_served_and_kept_out_of_the_metrics(stack):
    """A feature value is no metric by default (the capture line holds it; a spec that sends
    FeatureValue records it as CloudWatch can: tests/unit/test_bulk_emf.py), so a value CloudWatch
    would reject cannot spoil the request's document."""
    result = stack.call("predict", "POST", "/predict", {"features": GOOD | {"income": 1e-320}})
    assert result.status == 200
    (document,) = [d for d in result.emf() if "ColdStart" not in d]
    assert not any(name.startswith("FeatureValue") for name in document)


def test_a_spec_cloudwatch_could_not_take_fails_at_load_naming_the_key(demo_spec):
    document = demo_spec.model_dump(mode="json")
    document["serving"]["max_batch_size"] = 500
    with pytest.raises(SpecError, match=r"serving\.max_batch_size: at most 100"):
        parse_spec(document, "<test>")
    document = demo_spec.model_dump(mode="json")
    document["features"] = {f"n{i}": {"type": "numeric"} for i in range(120)}
    document["segments"] = []  # the demo's segment cuts by its own category feature
    with pytest.raises(SpecError, match="features: at most"):
        parse_spec(document, "<test>")
    document = demo_spec.model_dump(mode="json")
    document["features"]["x" * 300] = {"type": "numeric"}
    with pytest.raises(SpecError, match="too long for a metric name"):
        parse_spec(document, "<test>")
