"""Is the challenger better than the champion, or only lucky on this holdout? Both models answer
the same rows, so the comparison is paired: McNemar's exact test for accuracy (only the rows
where exactly one of them is right carry information), and a paired bootstrap of the metric's
difference for every other metric. Pure numpy/scipy: the models' answers come in as arrays."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

# Resamples of the paired bootstrap: its p-value's resolution is 1/(resamples + 1), well under
# any level a spec would set; a fixed seed makes a re-run of the same evaluation decide the same.
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20261128


@dataclass(frozen=True)
class SignificanceResult:
    """In scipy.stats' shape: the test's statistic, its one-sided p-value (the challenger is not
    better), and the test's name."""

    statistic: float
    pvalue: float
    name: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mcnemar_exact(actual: np.ndarray, champion: np.ndarray, challenger: np.ndarray) -> SignificanceResult:
    """McNemar's exact test, one-sided: of the rows where exactly one model is right, does the
    challenger win more than half? Under the null each such row is a fair coin (scipy's binomtest).
    The statistic is the challenger's wins among those rows; with none (the two agree on every
    row) nothing speaks for the challenger and the p-value is 1."""
    champion_right = np.asarray(champion) == np.asarray(actual)
    challenger_right = np.asarray(challenger) == np.asarray(actual)
    wins = int((challenger_right & ~champion_right).sum())
    losses = int((champion_right & ~challenger_right).sum())
    if wins + losses == 0:
        return SignificanceResult(0.0, 1.0, "mcnemar_exact")
    result = stats.binomtest(wins, wins + losses, 0.5, alternative="greater")
    return SignificanceResult(float(wins), float(result.pvalue), "mcnemar_exact")


def paired_bootstrap(improvement: Callable[[np.ndarray], float], rows: int) -> SignificanceResult:
    """A paired bootstrap of `improvement(row indices)` (challenger better: positive): the same
    resampled rows score both models (scipy.stats.bootstrap resamples the indices). The p-value
    is the share of resamples where the challenger is not better, with the +1 that keeps a
    finite number of resamples from claiming p = 0; the statistic is the observed improvement."""
    observed = improvement(np.arange(rows))
    with warnings.catch_warnings():
        # Two models that agree everywhere give a degenerate distribution, and scipy warns that
        # its confidence interval is undefined; only the distribution is used here.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            (np.arange(rows),),
            improvement,
            vectorized=False,
            n_resamples=BOOTSTRAP_RESAMPLES,
            method="percentile",
            random_state=np.random.default_rng(BOOTSTRAP_SEED),
        )
    distribution = np.asarray(result.bootstrap_distribution, dtype=np.float64)
    # A resample on which the metric is undefined (NaN) counts against the challenger.
    not_better = int((~(distribution > 0)).sum())
    return SignificanceResult(float(observed), (not_better + 1) / (len(distribution) + 1), "paired_bootstrap")


def smallest_testable_rows(significance: float) -> int:
    """Below this many rows not even a challenger right wherever the champion is wrong could reach
    `significance` with McNemar's exact test (its smallest p-value on n rows is 0.5 ** n)."""
    return math.ceil(math.log2(1 / significance))
