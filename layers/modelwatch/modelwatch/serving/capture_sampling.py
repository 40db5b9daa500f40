"""Capture sampling: which predictions' inputs are captured when `[capture] sample_rate` < 1.

The choice is a hash of the request id, not a coin toss: the same id is always in or always out,
so a label sent later to /feedback joins exactly when its prediction was captured, and a retried
delivery captures the same records. Drift checks see `sample_rate` of the window's rows: the
size-aware thresholds follow the smaller sample (no more false alarms), and the smallest shift
a window detects grows by about 1/sqrt(sample_rate) (at 0.25, twice the shift, or a window four
times as long for the same power)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

_SCALE = float(2**64)


def captured(request_id: str, sample_rate: float) -> bool:
    if sample_rate >= 1.0:
        return True
    digest = hashlib.blake2b(request_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE < sample_rate


def sampled(records: Sequence[dict[str, Any]], sample_rate: float) -> list[dict[str, Any]]:
    """The capture records whose request ids are in the sample."""
    return [r for r in records if captured(str(r["request_id"]), sample_rate)]
