"""Posting a message to a Slack incoming webhook: retried with backoff on 429, 5xx and network
errors; anything else, or the last failure, raises so the caller's retries and dead-letter queue
keep the notice. A 429's Retry-After is honoured: the next post waits at least that long, and a
wait longer than MAX_RETRY_AFTER_SECONDS is left to Lambda's retries (hours apart) rather than
spent in the invocation or ignored by posting again sooner."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

ATTEMPTS = 3
MAX_RETRY_AFTER_SECONDS = 10.0  # within the notifier's 60 s timeout with every attempt's own


class WebhookError(Exception):
    """Slack did not accept the message."""


def post(
    url: str,
    message: dict[str, Any],
    backoff_seconds: float,
    on_retry: Callable[[int], None] = lambda attempt: None,
    timeout_seconds: float = 5.0,
) -> None:
    body = json.dumps(message).encode()
    for attempt in range(1, ATTEMPTS + 1):
        wait = backoff_seconds * 2 ** (attempt - 1)
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
                if 200 <= response.status < 300:
                    return
                raise WebhookError(f"status {response.status}")
        except urllib.error.HTTPError as error:
            retryable = error.code == 429 or error.code >= 500
            if not retryable or attempt == ATTEMPTS:
                raise WebhookError(f"Slack answered {error.code}") from error
            asked = _retry_after(error.headers.get("Retry-After")) if error.code == 429 else None
            if asked is not None and asked > MAX_RETRY_AFTER_SECONDS:
                raise WebhookError(f"Slack answered 429 and asked to wait {asked:g} s") from error
            wait = max(wait, asked or 0.0)
        except (urllib.error.URLError, TimeoutError, WebhookError) as error:
            if attempt == ATTEMPTS:
                raise WebhookError(str(error)) from error
        on_retry(attempt)
        time.sleep(wait)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (Slack sends a number; an HTTP date or junk reads as absent)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def webhook_url(secret: str) -> str:
    """The secret holds the URL itself, or {"webhook_url": …}."""
    if secret.lstrip().startswith("{"):
        return str(json.loads(secret)["webhook_url"])
    return secret.strip()
