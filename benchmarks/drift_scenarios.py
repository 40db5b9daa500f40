"""Stable and drifted windows for judging drift verdicts: the shapes that break fixed thresholds.

Ten features: normal, skewed (log-normal), heavy-tailed (Student t, 3 degrees of freedom),
discrete with ties (Poisson), an integer age (a rounded normal), zero-inflated (30% zeros, then
exponential), bimodal; categorical with rare categories (the rarest 0.5%), binary, and a
five-level region.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from modelwatch.profiles.coercion import CategoryCounts

NUMERIC = ("normal", "skewed", "heavy", "discrete", "age", "zero_inflated", "bimodal")
CATEGORICAL = ("rare_categories", "binary", "region")
FEATURES = NUMERIC + CATEGORICAL
# Half of the features; with dataset_drift_share 0.5 the dataset drifts when all of them do.
SHIFTED = ("normal", "skewed", "age", "rare_categories", "region")
# The features whose mean a shift of k sigma moves by k standard deviations (the others move a
# latent normal, or a share of zeros, which has no single sigma).
MEAN_SHIFTABLE = ("normal", "skewed", "heavy", "discrete", "age", "bimodal")
SHIFT_SIGMAS = 0.5
RARE_SHARES = np.array([0.40, 0.25, 0.15, 0.10, 0.05, 0.03, 0.015, 0.005])
RARE_LABELS = np.array([f"cat{i}" for i in range(len(RARE_SHARES))])
RARE_EDGES = stats.norm.ppf(np.cumsum(RARE_SHARES)[:-1])
REGION_LABELS = np.array(["north", "south", "east", "west", "central"])
REGION_EDGES = stats.norm.ppf(np.cumsum([0.3, 0.25, 0.2, 0.15]))
BINARY_EDGE = stats.norm.ppf(0.7)
SKEWED_SD = float(np.sqrt((np.e - 1) * np.e))  # the standard deviation of exp(N(0, 1))
BIMODAL_SD = float(np.sqrt(1.0 + 3.0**2))  # +-3 with equal weight, each N(., 1)


def window(
    rng: np.random.Generator, rows: int, shifted: tuple[str, ...] = (), sigmas: float = SHIFT_SIGMAS
) -> dict[str, np.ndarray]:
    """Rows of every feature. A feature named in `shifted` moves its mean by `sigmas` of its own
    standard deviation (the categorical and zero-inflated ones: their latent normal by as much)."""

    def shift(name: str, sd: float = 1.0) -> float:
        return sigmas * sd if name in shifted else 0.0

    zeros = rng.standard_normal(rows) + shift("zero_inflated") < stats.norm.ppf(0.3)
    return {
        "normal": rng.normal(10.0 + shift("normal", 2.0), 2.0, rows),
        "skewed": np.exp(rng.standard_normal(rows)) + shift("skewed", SKEWED_SD),
        "heavy": rng.standard_t(3, rows) + shift("heavy", np.sqrt(3.0)),
        "discrete": rng.poisson(6.0 + shift("discrete", np.sqrt(6.0)), rows).astype(np.float64),
        "age": np.round(rng.normal(42.0 + shift("age", 12.0), 12.0, rows)),
        "zero_inflated": np.where(zeros, 0.0, rng.exponential(50.0, rows)),
        "bimodal": rng.choice([-3.0, 3.0], rows) + rng.standard_normal(rows) + shift("bimodal", BIMODAL_SD),
        "rare_categories": RARE_LABELS[
            np.searchsorted(RARE_EDGES, rng.standard_normal(rows) + shift("rare_categories"))
        ],
        "binary": np.where(rng.standard_normal(rows) + shift("binary") > BINARY_EDGE, "yes", "no"),
        "region": REGION_LABELS[np.searchsorted(REGION_EDGES, rng.standard_normal(rows) + shift("region"))],
    }


def spec_document(**drift: object) -> dict:
    features = {name: {"type": "numeric"} for name in NUMERIC} | {name: {"type": "categorical"} for name in CATEGORICAL}
    return {"model": {"name": "verdicts"}, "features": features, "drift": drift}


def counted(frame: dict[str, np.ndarray]) -> dict[str, np.ndarray | CategoryCounts]:
    """The same rows with categorical columns already counted: profiles of 100,000-row windows
    in milliseconds (what a Parquet reader's value_counts gives the profiler)."""
    batch: dict[str, np.ndarray | CategoryCounts] = dict(frame)
    for name in CATEGORICAL:
        labels, counts = np.unique(frame[name], return_counts=True)
        batch[name] = CategoryCounts(dict(zip(labels.tolist(), counts.tolist(), strict=True)), 0, len(frame[name]))
    return batch
