"""API Gateway HTTP API (payload format 2.0) events and responses, as Lambda sees them."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from typing import Any


def http_event(
    method: str, path: str, headers: Mapping[str, str], body: bytes, source_ip: str = "127.0.0.1"
) -> dict[str, Any]:
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
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
