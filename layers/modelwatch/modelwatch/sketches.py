"""The one quantile sketch ModelWatch uses (Apache DataSketches KLL) and its helpers.

k = 2000 keeps every value exactly up to 2,000 values; beyond that the rank error is at most
SKETCH_RANK_ERROR (0.14%, 99% confidence).
"""

from __future__ import annotations

import base64

import numpy as np
from datasketches import kll_doubles_sketch

SKETCH_K = 2000
SKETCH_RANK_ERROR = kll_doubles_sketch.get_normalized_rank_error(SKETCH_K, False)


def new_sketch() -> kll_doubles_sketch:
    return kll_doubles_sketch(SKETCH_K)


def copy_sketch(sketch: kll_doubles_sketch) -> kll_doubles_sketch:
    return kll_doubles_sketch.deserialize(sketch.serialize())


def sketch_to_text(sketch: kll_doubles_sketch) -> str:
    return base64.b64encode(sketch.serialize()).decode("ascii")


def sketch_from_text(text: str) -> kll_doubles_sketch:
    return kll_doubles_sketch.deserialize(base64.b64decode(text))


def sorted_weighted(sketch: kll_doubles_sketch) -> tuple[np.ndarray, np.ndarray]:
    """The sketch's distinct retained values (sorted) and the number of values each stands for.

    The weights come from the sketch's own CDF, not from iterating it: the Python binding's
    iterator reports weight 1 for every retained item of a sketch merged past its exact range
    (three merged sketches of 30,000 values: weights summing to 2,813, not 90,000), while
    `get_cdf` and `get_rank` are right. Weights read this way always sum to the sketch's n.
    """
    if sketch.is_empty():
        return np.empty(0), np.empty(0)
    values = np.unique(np.fromiter((value for value, _ in sketch), dtype=np.float64, count=sketch.num_retained))
    cumulative = np.asarray(sketch.get_cdf(values.tolist(), True)[:-1], dtype=np.float64)
    # The last retained value is the maximum: all of n lies at or below it.
    cumulative[-1] = 1.0
    weights = np.diff(np.concatenate(([0.0], np.round(cumulative * sketch.n))))
    keep = weights > 0
    return values[keep], weights[keep]


def update_sorted(sketch: kll_doubles_sketch, values: np.ndarray) -> None:
    """Add values; sorted input makes compactions about 3x cheaper, and KLL's error bound
    holds for any input order."""
    sketch.update(np.sort(np.asarray(values, dtype=np.float64)))
