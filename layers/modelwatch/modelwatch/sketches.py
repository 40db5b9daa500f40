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
    """The sketch's retained values (sorted) and their weights; exact below SKETCH_K values."""
    if sketch.is_empty():
        return np.empty(0), np.empty(0)
    pairs = np.array(list(sketch), dtype=np.float64)
    order = np.argsort(pairs[:, 0], kind="stable")
    return pairs[order, 0], pairs[order, 1]


def update_sorted(sketch: kll_doubles_sketch, values: np.ndarray) -> None:
    """Add values; sorted input makes compactions about 3x cheaper, and KLL's error bound
    holds for any input order."""
    sketch.update(np.sort(np.asarray(values, dtype=np.float64)))
