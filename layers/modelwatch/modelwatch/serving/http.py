"""HTTP edges shared by the API functions: checks before parsing, and error bodies that name
each bad field and the rule it broke. Every refusal is a 4xx with a JSON body."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) response."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":"), allow_nan=False),
        "isBase64Encoded": False,
    }


def problem(status: int, message: str, errors: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    return json_response(status, {"message": message, "errors": list(errors)})


def field_errors(pydantic_errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's errors as {field, rule, message}; `field` is a dotted path into the body."""
    found = []
    for error in pydantic_errors:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        found.append(
            {"field": ".".join(location) or "body", "rule": str(error.get("type", "invalid")), "message": message}
        )
    return found


def body_bytes(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return b"\xff"  # undecodable: reported as not JSON
    return body.encode("utf-8", errors="surrogateescape") if isinstance(body, str) else bytes(body)


def precheck(event: Mapping[str, Any], max_body_bytes: int) -> dict[str, Any] | None:
    """Refuse what cannot be parsed at all (415, 413, 400) before validation; None when fine."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        shown = content_type or "none"
        return problem(
            415,
            "unsupported content type",
            [
                {
                    "field": "header.content-type",
                    "rule": "media_type",
                    "message": f"must be application/json, got {shown}",
                }
            ],
        )
    raw = body_bytes(event)
    if len(raw) > max_body_bytes:
        return problem(
            413,
            "body too large",
            [{"field": "body", "rule": "max_bytes", "message": f"{len(raw)} bytes, at most {max_body_bytes} allowed"}],
        )
    if not raw.strip():
        return problem(
            400, "empty body", [{"field": "body", "rule": "required", "message": "a JSON object is required"}]
        )
    try:
        # Strictly decoded first: json.loads of bytes lets lone surrogates through, which no
        # encoding of JSON text may hold (and the validation after this would fail on them).
        document = json.loads(raw.decode(json.detect_encoding(raw)))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return problem(400, "malformed JSON", [{"field": "body", "rule": "json", "message": f"not valid JSON: {exc}"}])
    if not isinstance(document, dict):
        kind = type(document).__name__.replace("NoneType", "null")
        return problem(
            422,
            "invalid request",
            [{"field": "body", "rule": "object_type", "message": f"must be a JSON object, not {kind}"}],
        )
    return None


def as_utf8_json(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as the API's validation reads it, once precheck accepted it: the body as text
    decoded from whichever encoding JSON allows (UTF-8 with or without a byte order mark, UTF-16,
    UTF-32, detected from the bytes as RFC 8259's predecessors describe), and the media type
    written plainly (its case and parameters were checked already)."""
    raw = body_bytes(event)
    text = raw.decode(json.detect_encoding(raw))
    headers = {k: v for k, v in (event.get("headers") or {}).items() if str(k).lower() != "content-type"}
    return {**event, "body": text, "isBase64Encoded": False, "headers": {**headers, "content-type": "application/json"}}
