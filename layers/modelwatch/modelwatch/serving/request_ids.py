"""Request ids that carry their own time: 12 hex digits of milliseconds since the epoch, then 20
random hex digits. They sort by time, and a late label can be filed under its prediction's hour
without looking the prediction up."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def new_request_id(now: datetime) -> str:
    return f"{int(now.timestamp() * 1000):012x}{secrets.token_hex(10)}"


def request_time(request_id: str) -> datetime | None:
    """When the request was made, or None for an id ModelWatch did not issue."""
    if not _PATTERN.match(request_id):
        return None
    milliseconds = int(request_id[:12], 16)
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
