"""The OpenAPI document in the repo is what the code generates, and it tells the truth about the
handlers: every status they answer is documented, every body matches its documented schema."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from modelwatch_local.openapi import DOCUMENT, render
from tests.integration.conftest import GOOD


@pytest.fixture(scope="module")
def document(stack) -> dict:
    return json.loads(DOCUMENT.read_text())


def _validator(document: dict, ref_or_schema: dict) -> Draft202012Validator:
    # The whole document is the root, so "#/components/schemas/..." references resolve.
    return Draft202012Validator({**document, **ref_or_schema})


def test_committed_document_is_current_and_valid(document):
    assert DOCUMENT.read_text() == render(), "docs/openapi.json is stale: run python -m modelwatch_local.openapi"
    validate(document)


CASES = [
    ("predict", {"features": GOOD}),
    ("predict", {"instances": [GOOD, GOOD | {"region": "mars"}]}),
    ("predict", {"features": GOOD | {"age": "old"}}),
    ("predict", {"instances": []}),
    ("predict", b"{oops"),
    ("predict", {"features": {"age": 30}, "instances": [GOOD]}),
    ("feedback", {"request_id": "abc", "label": 1}),
    ("feedback", {"items": [{"request_id": "abc", "outcomes": {"clicked": True}}]}),
    ("feedback", {"request_id": "abc"}),
    ("feedback", {"items": [{"request_id": "a b", "label": 1}]}),
]


@pytest.mark.parametrize(("function", "body"), CASES)
def test_real_responses_match_the_document(stack, document, function, body):
    result = stack.call(function, "POST", f"/{function}", body)
    operation = document["paths"][f"/{function}"]["post"]
    assert str(result.status) in operation["responses"], f"status {result.status} is not documented"
    schema = operation["responses"][str(result.status)]["content"]["application/json"]["schema"]
    _validator(document, schema).validate(result.body)
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if isinstance(body, dict):
        accepted_by_document = _validator(document, request_schema).is_valid(body)
        # The document accepts exactly the bodies the handler accepts.
        assert accepted_by_document == (result.status == 200), (body, result.body)
