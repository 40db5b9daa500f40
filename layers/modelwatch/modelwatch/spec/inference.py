"""A spec for data that comes without one: column kinds inferred from the reference."""

from __future__ import annotations

from modelwatch.spec.loader import parse_spec
from modelwatch.spec.models import MonitoringSpec


def inferred_spec(
    numeric: list[str],
    categorical: list[str],
    target: str | None = None,
    prediction: str | None = None,
    score: str | None = None,
) -> MonitoringSpec:
    """Default methods and thresholds; allowed ranges and categories fall back to the reference's."""
    roles = {"target": target, "prediction": prediction, "score": score}
    features = {name: {"type": "numeric"} for name in numeric} | {name: {"type": "categorical"} for name in categorical}
    for column in roles.values():
        features.pop(column, None)  # type: ignore[arg-type]
    return parse_spec(
        {
            "model": {"name": "inferred"},
            "columns": {k: v for k, v in roles.items() if v is not None},
            "features": features,
        },
        source="<inferred from the reference data>",
    )
