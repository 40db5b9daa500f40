"""Sensitive features (`sensitive = true` in the spec): their values never reach a log line or a
capture object. "drop" leaves the value out; "hash" replaces it with a pseudonym.

The pseudonym is HMAC-SHA256 keyed with the stack's own secret, not a bare hash: a sensitive
categorical feature usually has few values (a region, a nationality, a diagnosis code), and a
bare SHA-256 of each is reversed by hashing every candidate; without the key, which only the
functions that need it can read, it is not. The same value always gets the same pseudonym, so a
categorical feature's distribution, and therefore its drift, is unchanged by pseudonymisation:
the drift check pseudonymises the baseline's categories with the same key before comparing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

PREFIX = "hmac:"
# 128 of HMAC-SHA256's 256 bits: no two of a feature's categories collide in practice, and a
# capture line stays short.
DIGEST_HEX_CHARS = 32
MIN_KEY_BYTES = 32


class Pseudonyms:
    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the pseudonym key must hold at least {MIN_KEY_BYTES} bytes")
        self._key = key

    def of(self, value: object) -> str:
        digest = hmac.new(self._key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:DIGEST_HEX_CHARS]


def protected(
    features: Mapping[str, Any], sensitive: Mapping[str, str], pseudonyms: Pseudonyms | None
) -> dict[str, Any]:
    """A record's features as they may be logged: sensitive ones hashed or left out. A missing
    value stays missing (None), so missing-value rates are still measured."""
    kept: dict[str, Any] = {}
    for name, value in features.items():
        action = sensitive.get(name)
        if action is None:
            kept[name] = value
        elif action == "hash":
            if pseudonyms is None:
                raise ValueError(f"feature {name} is to be hashed, but no pseudonym key was loaded")
            kept[name] = None if value is None else pseudonyms.of(value)
        # "drop": not kept
    return kept


def protected_records(
    records: list[dict[str, Any]], sensitive: Mapping[str, str], pseudonyms: Pseudonyms | None
) -> list[dict[str, Any]]:
    """Capture records as they may reach the log: each one's features protected (above)."""
    if not sensitive:
        return records
    return [{**record, "features": protected(record["features"], sensitive, pseudonyms)} for record in records]
