"""Multiple-testing corrections across the features tested with p-values."""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats

Correction = Literal["none", "bonferroni", "benjamini-hochberg"]


def adjust_p_values(p_values: list[float], correction: Correction) -> list[float]:
    if not p_values or correction == "none":
        return list(p_values)
    array = np.asarray(p_values, dtype=np.float64)
    if correction == "bonferroni":
        return np.minimum(array * len(array), 1.0).tolist()
    return stats.false_discovery_control(array, method="bh").tolist()
