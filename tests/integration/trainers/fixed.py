"""A trainer that ignores the rows it is given and returns the same model every time (the forest
fitted on one fixed demo sample), as ONNX-convertible scikit-learn: a challenger equal to a
champion it made before."""

from __future__ import annotations

from typing import Any

import pandas as pd

from modelwatch.demo.data import demo_frame
from modelwatch.spec.models import MonitoringSpec
from tests.integration.trainers.forest import forest_pipeline


def fit(frame: Any, spec: MonitoringSpec) -> Any:
    sample = pd.DataFrame(demo_frame(3000, 21))
    model = forest_pipeline(spec)
    model.fit(sample[list(spec.features)], sample[spec.columns.target].astype(str))
    return model
