"""The monitoring spec: the one file every part of ModelWatch reads."""

from modelwatch.spec.loader import SpecError, load_spec, parse_spec
from modelwatch.spec.models import (
    CALIBRATED,
    AlertRule,
    CategoricalFeature,
    DriftMethod,
    FeatureDrift,
    MonitoringSpec,
    NumericFeature,
)

__all__ = [
    "CALIBRATED",
    "AlertRule",
    "CategoricalFeature",
    "DriftMethod",
    "FeatureDrift",
    "MonitoringSpec",
    "NumericFeature",
    "SpecError",
    "load_spec",
    "parse_spec",
]
