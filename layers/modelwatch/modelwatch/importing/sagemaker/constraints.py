"""constraints.json (Model Monitor's suggested or edited constraints) -> a monitoring spec.

Mapped, key by key:
- inferred_type: Integral / Fractional -> a numeric feature, String -> a categorical one;
- completeness c: nullable = (c < 1), and features.<f>.max_missing_rate = 1 - c (the share of
  missing values Model Monitor's completeness_check lets through);
- num_constraints.is_non_negative -> min = 0; string_constraints.domains -> categories;
- monitoring_config.datatype_check_threshold t -> quality.max_type_error_rate = 1 - t (t is the
  share of values that must have the type: "Expected match: 100.0%" at t = 1);
- domain_content_threshold t -> quality.max_unseen_category_rate = 1 - t;
- distribution_constraints: comparison_method (Simple / Robust) -> drift method linf_simple /
  linf_robust, comparison_threshold -> its threshold for numeric features,
  categorical_comparison_threshold (default: comparison_threshold) for categorical ones,
  categorical_drift_method ChiSquared -> chisquare.
Anything else is reported, one line each, and not mapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelwatch.importing.sagemaker.documents import features_of, misshapen, number, read_document

WHAT = "constraints.json"
NUMERIC_TYPES = ("Integral", "Fractional")
# The documented default of comparison_threshold (and of the categorical one, which follows it).
DEFAULT_COMPARISON_THRESHOLD = 0.1
COMPARISON_METHODS = {
    "simple": "linf_simple",
    "linf_simple": "linf_simple",
    "robust": "linf_robust",
    "linf_robust": "linf_robust",
}
OVERRIDE_KEYS = ("monitoringConfigOverrides", "monitoring_config_overrides")
# Switches whose "Enabled" is what ModelWatch does anyway (it checks and sends metrics for every
# feature); only "Disabled" has no equivalent.
SWITCHES = ("evaluate_constraints", "emit_metrics")


@dataclass
class ImportedSpec:
    document: dict[str, Any]
    unmapped: list[str] = field(default_factory=list)


def _switch_lines(config: dict[str, Any], where: str) -> list[str]:
    return [
        f"constraints: {where}.{key} = {config[key]}: ModelWatch checks and reports every feature; not mapped"
        for key in SWITCHES
        if key in config and str(config[key]).lower() != "enabled"
    ]


def _feature_overrides(feature: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The feature's per-feature monitoring config, wherever the file put it (the docs spell the
    key monitoringConfigOverrides at the feature; the SDK's example has monitoring_config_overrides
    inside string_constraints)."""
    for holder, prefix in (
        (feature, ""),
        (feature.get("num_constraints") or {}, "num_constraints."),
        (feature.get("string_constraints") or {}, "string_constraints."),
    ):
        for key in OVERRIDE_KEYS:
            if isinstance(holder.get(key), dict):
                return holder[key], prefix + key
    return {}, ""


def _feature_entry(feature: dict[str, Any], path: Path, unmapped: list[str]) -> dict[str, Any] | None:
    name, kind = feature["name"], feature["inferred_type"]
    where = f"features.{name}"
    if kind in NUMERIC_TYPES:
        entry: dict[str, Any] = {"type": "numeric"}
        if (feature.get("num_constraints") or {}).get("is_non_negative") is True:
            entry["min"] = 0.0
    elif kind == "String":
        entry = {"type": "categorical"}
        domains = (feature.get("string_constraints") or {}).get("domains")
        if isinstance(domains, list) and domains:
            entry["categories"] = list(dict.fromkeys(str(value) for value in domains))
    else:
        unmapped.append(f"constraints: {where}: inferred_type {kind} has no ModelWatch type; feature not imported")
        return None
    if kind == "Integral":
        # ModelWatch's numbers have no integer kind: 2.5 in an Integral column is no type error here.
        entry["description"] = "Integral in SageMaker Model Monitor"
    if "completeness" in feature:
        completeness = number(feature["completeness"], f"{where}.completeness", path)
        entry["nullable"] = completeness < 1.0
        if completeness < 1.0:
            entry["max_missing_rate"] = round(1.0 - completeness, 12)
    overrides, override_key = _feature_overrides(feature)
    unmapped += _switch_lines(overrides, f"{where}.{override_key}")
    if "comparison_threshold" in overrides:
        entry["drift"] = {"threshold": number(overrides["comparison_threshold"], f"{where}.{override_key}", path)}
    for key in overrides:
        if key not in (*SWITCHES, "comparison_threshold"):
            unmapped.append(f"constraints: {where}.{override_key}.{key}: not a key ModelWatch knows; not mapped")
    return entry


def _drift_section(config: dict[str, Any], path: Path, unmapped: list[str]) -> dict[str, Any]:
    where = "monitoring_config.distribution_constraints"
    distribution = config.get("distribution_constraints") or {}
    if str(distribution.get("perform_comparison", "Enabled")).lower() != "enabled":
        unmapped.append(
            f"constraints: {where}.perform_comparison = {distribution['perform_comparison']}: "
            "ModelWatch always judges drift; the distance and threshold below are imported anyway"
        )
    written = str(distribution.get("comparison_method", "Robust"))
    method = COMPARISON_METHODS.get(written.lower())
    if method is None:
        unmapped.append(f"constraints: {where}.comparison_method = {written}: not Simple or Robust; Robust used")
        method = "linf_robust"
    numeric_threshold = number(
        distribution.get("comparison_threshold", DEFAULT_COMPARISON_THRESHOLD), f"{where}.comparison_threshold", path
    )
    categorical_threshold = number(
        distribution.get("categorical_comparison_threshold", numeric_threshold),
        f"{where}.categorical_comparison_threshold",
        path,
    )
    categorical_method = method
    drift_method = str(distribution.get("categorical_drift_method", "LInfinity"))
    if drift_method.lower() == "chisquared":
        categorical_method = "chisquare"
    elif drift_method.lower() != "linfinity":
        unmapped.append(f"constraints: {where}.categorical_drift_method = {drift_method}: unknown; L∞ used")
    known = {
        "perform_comparison",
        "comparison_method",
        "comparison_threshold",
        "categorical_comparison_threshold",
        "categorical_drift_method",
    }
    for key in distribution:
        if key not in known:
            unmapped.append(f"constraints: {where}.{key}: not a documented Model Monitor key; not mapped")
    return {
        "numeric": {"method": method, "threshold": numeric_threshold},
        "categorical": {"method": categorical_method, "threshold": categorical_threshold},
    }


def _quality_section(config: dict[str, Any], path: Path) -> dict[str, Any]:
    quality: dict[str, Any] = {}
    if "datatype_check_threshold" in config:
        share = number(config["datatype_check_threshold"], "monitoring_config.datatype_check_threshold", path)
        quality["max_type_error_rate"] = round(min(max(1.0 - share, 0.0), 1.0), 12)
    if "domain_content_threshold" in config:
        share = number(config["domain_content_threshold"], "monitoring_config.domain_content_threshold", path)
        quality["max_unseen_category_rate"] = round(min(max(1.0 - share, 0.0), 1.0), 12)
    return quality


def import_constraints(path: Path, model_name: str, baseline_features: list[str] | None = None) -> ImportedSpec:
    """The spec document (a dict for parse_spec and the TOML writer). `baseline_features`: the
    features the statistics imported; a constraint on any other is reported and left out, since
    a spec feature the baseline lacks cannot be checked."""
    document = read_document(path, WHAT)
    try:
        return _spec_of(document, path, model_name, baseline_features)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as error:
        raise misshapen(path, WHAT, "a value", error) from None


def _spec_of(
    document: dict[str, Any], path: Path, model_name: str, baseline_features: list[str] | None
) -> ImportedSpec:
    unmapped: list[str] = []
    features: dict[str, Any] = {}
    for feature in features_of(document, path, WHAT):
        if baseline_features is not None and feature["name"] not in baseline_features:
            unmapped.append(f"constraints: features.{feature['name']}: not in the statistics; feature not imported")
            continue
        entry = _feature_entry(feature, path, unmapped)
        if entry is not None:
            features[feature["name"]] = entry
    for name in baseline_features or []:
        if name not in features and all(f["name"] != name for f in document["features"]):
            unmapped.append(f"constraints: '{name}' has statistics but no constraints; not a feature of the spec")
    config = document.get("monitoring_config") or {}
    unmapped += _switch_lines(config, "monitoring_config")
    known = {*SWITCHES, "datatype_check_threshold", "domain_content_threshold", "distribution_constraints"}
    unmapped += [
        f"constraints: monitoring_config.{key}: not a documented Model Monitor key; not mapped"
        for key in config
        if key not in known
    ]
    spec: dict[str, Any] = {
        "version": 1,
        "model": {
            "name": model_name,
            "description": f"Imported from SageMaker Model Monitor's {path.name}",
        },
        "drift": _drift_section(config, path, unmapped),
    }
    quality = _quality_section(config, path)
    if quality:
        spec["quality"] = quality
    spec["features"] = features
    return ImportedSpec(spec, unmapped)
