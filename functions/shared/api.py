"""What both API functions do at their edges: JSON error responses, capture lines on stdout
(delivered to S3 by the CloudWatch Logs subscription), and quarantine of rejected requests."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response

from modelwatch.data_access.platform import current_platform
from modelwatch.serving import capture
from modelwatch.serving.http import as_utf8_json, body_bytes, precheck


def error_response(status: int, message: str, errors: list[dict[str, str]]) -> Response:
    body = json.dumps({"message": message, "errors": errors}, separators=(",", ":"))
    return Response(status, "application/json", body)


def write_capture(kind: str, records: list[dict[str, Any]]) -> None:
    # Feedback is the users' data, not monitoring's overhead: it is logged even with monitoring off.
    if kind == capture.LABEL or current_platform().settings.monitoring:
        for line in capture.log_lines(kind, records):
            sys.stdout.write(line + "\n")


def quarantine(event: Mapping[str, Any], route: str, status: int, errors: list[dict[str, str]]) -> None:
    """Keep a rejected request, with its reasons, where someone can look at it."""
    platform = current_platform()
    withhold = bool(platform.spec.sensitive_features)
    record = capture.quarantine_record(platform.clock(), route, status, errors, body_bytes(event), withhold)
    write_capture(capture.QUARANTINE, [record])


def refusal_errors(response: Mapping[str, Any]) -> list[dict[str, str]]:
    return list(json.loads(response["body"]).get("errors", []))


def resolve_checked(
    app: Any, event: dict[str, Any], context: Any, route: str, max_body_bytes: int, on_reject: Callable[[], None]
) -> dict[str, Any]:
    """Refuse what cannot be parsed (400, 413, 415) before the app's validation; keep the refused
    request in quarantine with its reasons; otherwise let the app route and validate."""
    refused = precheck(event, max_body_bytes)
    if refused is not None:
        quarantine(event, route, refused["statusCode"], refusal_errors(refused))
        on_reject()
        return refused
    return app.resolve(as_utf8_json(event), context)
