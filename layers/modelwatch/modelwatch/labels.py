"""How any value becomes a class or category label, the same everywhere (profiles, feedback).

No numpy here: the feedback function's package does without it (numpy's scalar types register
with the `numbers` ABCs, so they are handled all the same)."""

from __future__ import annotations

import numbers


def label_of(value: object) -> str:
    """Integral numbers print without a fraction, so 1, 1.0 and "1" are the same label."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return str(int(value))
    return str(value)
