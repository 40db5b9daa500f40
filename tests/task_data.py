"""Generated data of a known rule for one model task: two numeric features and a categorical one,
a class (binary: two, multiclass: three) or a number (regression) as the target, with noise that
grows with x1 for a regression (so DLE has an error to model). Training and serving tests share it."""

from __future__ import annotations

import numpy as np


def task_frame(rng: np.random.Generator, rows: int, task: str) -> dict[str, np.ndarray]:
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    shade = rng.choice(["light", "dark"], rows).astype(object)
    signal = 1.2 * x1 - 0.8 * x2 + np.where(shade == "dark", 0.7, 0.0)
    if task == "regression":
        target = 50 + 8 * signal + rng.normal(0, 2 + np.abs(x1), rows)
    else:
        cuts = [-0.7, 0.7] if task == "multiclass" else [0.0]
        target = np.array(["abc"[i] for i in np.digitize(signal + rng.normal(0, 0.6, rows), cuts)], dtype=object)
    return {"x1": x1, "x2": x2, "shade": shade, "y": target}
