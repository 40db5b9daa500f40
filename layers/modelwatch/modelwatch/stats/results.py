"""The result of a drift statistic, in the manner of scipy.stats' result objects."""

from __future__ import annotations

from dataclasses import dataclass

from modelwatch.spec.models import DriftMethod


@dataclass(frozen=True)
class StatisticResult:
    """What a method computes: its statistic, and a p-value where the method defines one."""

    method: DriftMethod
    statistic: float
    p_value: float | None = None
    # Why the result is less than it seems (e.g. a p-value made cautious for sketch error).
    note: str | None = None
