"""A drift report written as Model Monitor's constraint_violations.json, so the alarms and
scripts that read it keep working: {"violations": [{feature_name, constraint_check_type,
description}]}, with Model Monitor's check types and its wording (its visualization reads a drift
distance with the regex `distance: (.+) exceeds`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from modelwatch.drift.results import DriftReport
from modelwatch.errors import UserInputError
from modelwatch.quality import FeatureQuality
from modelwatch.spec.models import MonitoringSpec

DATA_TYPE = "data_type_check"
COMPLETENESS = "completeness_check"
BASELINE_DRIFT = "baseline_drift_check"
MISSING_COLUMN = "missing_column_check"
EXTRA_COLUMN = "extra_column_check"
CATEGORICAL_VALUES = "categorical_values_check"


def _violation(feature: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%" if share in (0.0, 1.0) else f"{share * 100}%"


def _type_name(spec: MonitoringSpec, name: str) -> str:
    feature = spec.features[name]
    if feature.type == "categorical":
        return "String"
    return "Integral" if feature.description.startswith("Integral") else "Fractional"


def _quality_violations(spec: MonitoringSpec, quality: FeatureQuality) -> list[dict[str, str]]:
    name, found = quality.name, []
    feature, limits = spec.features[name], spec.quality
    if quality.type_error_rate > limits.max_type_error_rate:
        kind = _type_name(spec, name)
        found.append(
            _violation(
                name,
                DATA_TYPE,
                f"Data type match requirement is not met. Expected data type: {kind}, Expected match: "
                f"{_percent(1 - limits.max_type_error_rate)}. Observed: Only {_percent(1 - quality.type_error_rate)} "
                f"of data is {kind}.",
            )
        )
    missing_limit = limits.max_missing_rate if feature.max_missing_rate is None else feature.max_missing_rate
    if not feature.nullable:
        missing_limit = 0.0
    if quality.missing_rate > missing_limit:
        found.append(
            _violation(
                name,
                COMPLETENESS,
                f"Data completeness requirement is not met. Expected completeness: {_percent(1 - missing_limit)}. "
                f"Observed: Only {_percent(1 - quality.missing_rate)} of data is complete.",
            )
        )
    if quality.unseen_category_rate > limits.max_unseen_category_rate:
        examples = ", ".join(quality.unseen_values[:5])
        found.append(
            _violation(
                name,
                CATEGORICAL_VALUES,
                f"Data domain requirement is not met. Expected: {_percent(1 - limits.max_unseen_category_rate)} "
                f"of values in the baseline's domain. Observed: Only {_percent(1 - quality.unseen_category_rate)} "
                f"of data is in it (e.g. {examples}).",
            )
        )
    return found


def violations(
    spec: MonitoringSpec, report: DriftReport, current_columns: Iterable[str], missing_columns: Iterable[str] = ()
) -> list[dict[str, str]]:
    """Every constraint the window breaks, feature by feature in the spec's order, then the
    columns the spec does not know. `missing_columns`: features the window lacked (added empty so
    the check could run): a missing_column_check each, not a completeness one as well."""
    columns, absent = list(current_columns), set(missing_columns)
    absent |= {name for name in spec.features if name not in columns}
    quality = {item.name: item for item in report.quality.features}
    drift = {item.name: item for item in report.features}
    found: list[dict[str, str]] = []
    for name in spec.features:
        if name in absent:
            found.append(
                _violation(name, MISSING_COLUMN, f"Missing column: {name} is in the baseline but not in the data.")
            )
            continue
        if name in quality:
            found += _quality_violations(spec, quality[name])
        column = drift.get(name)
        if column is not None and column.status == "ok" and column.drifted:
            found.append(_violation(name, BASELINE_DRIFT, _drift_description(column)))
    roles = {spec.columns.target, spec.columns.prediction, spec.columns.score}
    prefix = spec.columns.score_prefix
    for name in columns:
        if name in spec.features or name in roles or (prefix and name.startswith(prefix)) or name.startswith("__"):
            continue
        found.append(_violation(name, EXTRA_COLUMN, f"Extra column: {name} is in the data but not in the baseline."))
    return found


def _drift_description(column) -> str:
    method = column.method.value if column.method is not None else "?"
    if column.compared == "p_value":
        p_value = column.p_value_adjusted if column.p_value_adjusted is not None else column.p_value
        return (
            f"Baseline drift distance: {column.effect} exceeds the minimum effect: {column.min_effect} "
            f"with p-value {p_value} below threshold: {column.threshold} ({method})"
            if column.min_effect is not None
            else f"Baseline drift p-value: {p_value} is below threshold: {column.threshold} ({method})"
        )
    # Ends at the threshold, as Model Monitor's does: a script may read the number after "threshold: ".
    return f"Baseline drift distance: {column.statistic} exceeds threshold: {column.threshold}"


def write_violations(path: Path, found: list[dict[str, str]]) -> None:
    try:
        path.write_text(json.dumps({"violations": found}, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise UserInputError(f"{path}: cannot write: {error.strerror or error}") from None
