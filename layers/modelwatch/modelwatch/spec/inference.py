"""A spec for data that comes without one: column kinds inferred from the reference."""

from __future__ import annotations

from collections.abc import Mapping

from modelwatch.spec.loader import parse_spec
from modelwatch.spec.models import MonitoringSpec


def inferred_spec(
    numeric: list[str],
    categorical: list[str],
    target: str | None = None,
    prediction: str | None = None,
    score: str | None = None,
    score_prefix: str | None = None,
    task: str = "binary",
    settings: Mapping[str, str] | None = None,
    ignored: tuple[str, ...] = (),
) -> MonitoringSpec:
    """Default methods and thresholds; allowed ranges and categories fall back to the reference's.
    Every column not named as a role (nor a class probability, `<score_prefix><class>`, nor
    `ignored`) is a feature. `settings`: more [columns] keys (a binary's positive_class, score_kind)."""
    roles = {"target": target, "prediction": prediction, "score": score, "score_prefix": score_prefix}
    features = {name: {"type": "numeric"} for name in numeric} | {name: {"type": "categorical"} for name in categorical}
    for column in [*roles.values(), *ignored]:
        features.pop(column, None)  # type: ignore[arg-type]
    if score_prefix:
        features = {name: kind for name, kind in features.items() if not name.startswith(score_prefix)}
    return parse_spec(
        {
            "model": {"name": "inferred", "task": task},
            "columns": {k: v for k, v in roles.items() if v is not None} | dict(settings or {}),
            "features": features,
        },
        source="<inferred from the reference data>",
        deployable=False,
    )
