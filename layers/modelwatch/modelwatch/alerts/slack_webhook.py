"""Posting a message to a Slack incoming webhook: retried with backoff on 429, 5xx and network
errors; anything else, or the last failure, raises so the caller's retries and dead-letter queue
keep the notice."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

ATTEMPTS = 3


class WebhookError(Exception):
    """Slack did not accept the message."""


def post(
    url: str,
    message: dict[str, Any],
    backoff_seconds: float,
    on_retry: Callable[[int], None] = lambda attempt: None,
) -> None:
    body = json.dumps(message).encode()
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if 200 <= response.status < 300:
                    return
                raise WebhookError(f"status {response.status}")
        except urllib.error.HTTPError as error:
            retryable = error.code == 429 or error.code >= 500
            if not retryable or attempt == ATTEMPTS:
                raise WebhookError(f"Slack answered {error.code}") from error
        except (urllib.error.URLError, TimeoutError, WebhookError) as error:
            if attempt == ATTEMPTS:
                raise WebhookError(str(error)) from error
        on_retry(attempt)
        time.sleep(backoff_seconds * 2 ** (attempt - 1))


def webhook_url(secret: str) -> str:
    """The secret holds the URL itself, or {"webhook_url": …}."""
    if secret.lstrip().startswith("{"):
        return str(json.loads(secret)["webhook_url"])
    return secret.strip()
