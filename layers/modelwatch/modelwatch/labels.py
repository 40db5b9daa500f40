"""How any value becomes a class or category label, the same everywhere (profiles, feedback)."""

from __future__ import annotations

import numpy as np


def label_of(value: object) -> str:
    """Integral numbers print without a fraction, so 1, 1.0 and "1" are the same label."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)
