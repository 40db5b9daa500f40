"""Stable and drifted windows for judging drift verdicts: the shapes that break fixed thresholds.

Six features: normal, skewed (log-normal), heavy-tailed (Student t, 3 degrees of freedom),
discrete with ties (Poisson), categorical with rare categories (the rarest 0.5%), binary.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from modelwatch.profiles.coercion import CategoryCounts

NUMERIC = ("normal", "skewed", "heavy", "discrete")
CATEGORICAL = ("rare_categories", "binary")
FEATURES = NUMERIC + CATEGORICAL
# Half of the features; with dataset_drift_share 0.5 the dataset drifts when all of them do.
SHIFTED = ("normal", "skewed", "rare_categories")
SHIFT_SIGMAS = 0.5
RARE_SHARES = np.array([0.40, 0.25, 0.15, 0.10, 0.05, 0.03, 0.015, 0.005])
RARE_LABELS = np.array([f"cat{i}" for i in range(len(RARE_SHARES))])
RARE_EDGES = stats.norm.ppf(np.cumsum(RARE_SHARES)[:-1])
BINARY_EDGE = stats.norm.ppf(0.7)


def window(rng: np.random.Generator, rows: int, shifted: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Rows of every feature; features named in `shifted` move by 0.5 of their standard deviation
    (the skewed and categorical ones: of the latent normal they are made from)."""

    def shift(name: str, sd: float = 1.0) -> float:
        return SHIFT_SIGMAS * sd if name in shifted else 0.0

    return {
        "normal": rng.normal(10.0 + shift("normal", 2.0), 2.0, rows),
        "skewed": np.exp(rng.standard_normal(rows) + shift("skewed")),
        "heavy": rng.standard_t(3, rows) + shift("heavy", np.sqrt(3.0)),
        "discrete": rng.poisson(6.0 + shift("discrete", np.sqrt(6.0)), rows).astype(np.float64),
        "rare_categories": RARE_LABELS[
            np.searchsorted(RARE_EDGES, rng.standard_normal(rows) + shift("rare_categories"))
        ],
        "binary": np.where(rng.standard_normal(rows) + shift("binary") > BINARY_EDGE, "yes", "no"),
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
