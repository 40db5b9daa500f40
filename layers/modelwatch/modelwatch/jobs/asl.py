"""What the state machines' definitions share: the Amazon States Language text the stack deploys
and the local runtime runs (one serialization, so a null ResultPath stays null in both), and the
retry of a Lambda task that AWS recommends for transient Lambda service errors."""

from __future__ import annotations

import json
from typing import Any

# "Handle transient Lambda service exceptions" (Step Functions Developer Guide): retry these, or
# one passing service error fails an execution (and, with no tolerated failures, a whole map run).
TRANSIENT_LAMBDA_ERRORS = (
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)


def lambda_retry(*also: str, interval_seconds: int = 2, max_attempts: int = 6) -> list[dict[str, Any]]:
    """A Lambda task's Retry: the transient Lambda errors (and `also`), with backoff."""
    return [
        {
            "ErrorEquals": [*TRANSIENT_LAMBDA_ERRORS, *also],
            "IntervalSeconds": interval_seconds,
            "MaxAttempts": max_attempts,
            "BackoffRate": 2.0,
        }
    ]


def asl_text(definition: dict[str, Any]) -> str:
    """The definition as deployed (DefinitionString) and as the local runtime reads it back."""
    return json.dumps(definition, separators=(",", ":"))
