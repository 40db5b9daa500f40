"""Request ids that carry their own time and the deployment's signature: 12 hex digits of
milliseconds since the epoch, 20 random hex digits, then 16 hex digits of an HMAC-SHA256 over the
first 32 under the deployment's request-id key. They sort by time, a late label can be filed under
its prediction's hour without looking the prediction up, and only an id POST /predict issued
verifies: feedback for anything else is refused, so labels attach to real predictions only."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

TIME_DIGITS, RANDOM_DIGITS, TAG_DIGITS = 12, 20, 16
SIGNED_REQUEST_ID = rf"^[0-9a-f]{{{TIME_DIGITS + RANDOM_DIGITS + TAG_DIGITS}}}$"
_SIGNED = re.compile(SIGNED_REQUEST_ID)
# The key's purpose, so one secret could never sign ids and something else alike.
PURPOSE = b"modelwatch request ids v1"


class RequestIdSigner:
    """Issues and verifies this deployment's request ids with its request-id key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("a request-id key needs at least 16 bytes")
        self._key = hmac.new(secret, PURPOSE, hashlib.sha256).digest()

    def _tag(self, body: str) -> str:
        return hmac.new(self._key, body.encode("ascii"), hashlib.sha256).hexdigest()[:TAG_DIGITS]

    def new_request_id(self, now: datetime) -> str:
        body = f"{int(now.timestamp() * 1000):0{TIME_DIGITS}x}{secrets.token_hex(RANDOM_DIGITS // 2)}"
        return body + self._tag(body)

    def issued(self, request_id: str) -> bool:
        """Whether this deployment issued `request_id` (compared in constant time)."""
        if not _SIGNED.match(request_id):
            return False
        body, tag = request_id[: TIME_DIGITS + RANDOM_DIGITS], request_id[TIME_DIGITS + RANDOM_DIGITS :]
        return hmac.compare_digest(self._tag(body), tag)


def request_time(request_id: str) -> datetime | None:
    """When the request was made, read from the id's own digits (None when it has none: an id
    in another form). Whether the deployment issued it is RequestIdSigner.issued's question."""
    if not _SIGNED.match(request_id):
        return None
    milliseconds = int(request_id[:TIME_DIGITS], 16)
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
