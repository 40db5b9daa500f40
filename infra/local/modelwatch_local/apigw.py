"""API Gateway HTTP API (payload format 2.0) events and responses, as Lambda sees them.

Whether a request body reaches the function base64-encoded is decided, as API Gateway decides
it, by the request's content type, not by its bytes: a text type (text/*, JSON, XML,
JavaScript, their +json and +xml variants) is passed as text, anything else (or no content type)
base64-encoded. A text type whose bytes are not UTF-8 (a UTF-16 body labelled
application/json) arrives as text with its undecodable bytes replaced, as the service would pass
it, not base64-encoded."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from typing import Any

TEXT_TYPES = ("application/json", "application/javascript", "application/xml")


def is_text(content_type: str) -> bool:
    """Whether API Gateway passes a body of this content type as text."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in TEXT_TYPES or media.endswith(("+json", "+xml"))


def http_event(
    method: str, path: str, headers: Mapping[str, str], body: bytes, source_ip: str = "127.0.0.1"
) -> dict[str, Any]:
    lowered = {k.lower(): v for k, v in headers.items()}
    if is_text(lowered.get("content-type", "")):
        text, encoded = body.decode("utf-8", errors="replace"), False
    else:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    path_only, _, query = path.partition("?")
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {path_only}",
        "rawPath": path_only,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path_only,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {path_only}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text if body else None,
        "isBase64Encoded": encoded,
    }


def response_parts(response: Mapping[str, Any]) -> tuple[int, dict[str, str], bytes]:
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    return int(response.get("statusCode", 200)), headers, data
