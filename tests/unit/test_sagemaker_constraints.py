"""constraints.json -> a monitoring spec that loads: types, completeness, ranges, domains, the
drift distance and thresholds; what has no equivalent is one line each."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from modelwatch.importing.sagemaker.constraints import import_constraints
from modelwatch.importing.sagemaker.documents import NotModelMonitorFileError
from modelwatch.importing.sagemaker.toml_text import toml_text
from modelwatch.spec import parse_spec
from modelwatch.spec.models import DriftMethod
from tests.sagemaker_examples import MONITOR_CONSTRAINTS, PIPELINE_CONSTRAINTS, PIPELINE_STATISTICS


def test_the_pipeline_constraints_become_a_spec_that_loads() -> None:
    imported = import_constraints(PIPELINE_CONSTRAINTS, "churn")
    spec = parse_spec(imported.document)
    assert imported.unmapped == []
    assert list(spec.features) == [f"_c{i}" for i in range(6)]
    for feature in spec.features.values():
        assert feature.type == "numeric" and feature.min == 0.0  # is_non_negative
        assert feature.nullable is False and feature.max_missing_rate is None  # completeness 1.0
    # comparison_method "Robust" at comparison_threshold 0.1, for both kinds of feature.
    assert spec.drift.numeric.method is DriftMethod.LINF_ROBUST and spec.drift.numeric.threshold == 0.1
    assert spec.drift.categorical.method is DriftMethod.LINF_ROBUST and spec.drift.categorical.threshold == 0.1
    # datatype_check_threshold and domain_content_threshold 1.0: every value must match.
    assert spec.quality.max_type_error_rate == 0.0 and spec.quality.max_unseen_category_rate == 0.0


def test_the_written_toml_is_the_same_spec() -> None:
    imported = import_constraints(MONITOR_CONSTRAINTS, "messages")
    text = toml_text(imported.document, "a header\nof two lines")
    assert text.startswith("# a header\n# of two lines\n")
    assert parse_spec(tomllib.loads(text)) == parse_spec(imported.document)


def test_string_domains_become_categories_and_unknown_keys_are_reported() -> None:
    imported = import_constraints(MONITOR_CONSTRAINTS, "messages", baseline_features=["message"])
    spec = parse_spec(imported.document)
    assert spec.features["message"].categories == ["preproc-not-YET-supported-for-csv-json"]
    assert spec.drift.categorical.threshold == 1.0
    assert imported.unmapped == [
        "constraints: features.second_message: not in the statistics; feature not imported",
        "constraints: monitoring_config.distribution_constraints.enable_comparisons: "
        "not a documented Model Monitor key; not mapped",
        "constraints: monitoring_config.distribution_constraints.min_domain_mass: "
        "not a documented Model Monitor key; not mapped",
    ]


def _constraints(tmp_path: Path, features: list[dict], config: dict) -> Path:
    path = tmp_path / "constraints.json"
    path.write_text(json.dumps({"version": 0.0, "features": features, "monitoring_config": config}))
    return path


def test_completeness_overrides_and_methods_map_key_by_key(tmp_path: Path) -> None:
    features = [
        {"name": "age", "inferred_type": "Integral", "completeness": 0.9},
        {
            "name": "city",
            "inferred_type": "String",
            "completeness": 0.75,
            "monitoringConfigOverrides": {"comparison_threshold": 0.3, "evaluate_constraints": "Disabled"},
        },
        {"name": "blob", "inferred_type": "Unknown"},
    ]
    config = {
        "emit_metrics": "Disabled",
        "datatype_check_threshold": 0.9,
        "domain_content_threshold": 0.95,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.2,
            "comparison_method": "Simple",
            "categorical_comparison_threshold": 0.4,
            "categorical_drift_method": "ChiSquared",
        },
    }
    imported = import_constraints(_constraints(tmp_path, features, config), "m")
    spec = parse_spec(imported.document)
    assert spec.features["age"].nullable is True and spec.features["age"].max_missing_rate == pytest.approx(0.1)
    assert spec.features["age"].min is None
    assert spec.features["city"].max_missing_rate == pytest.approx(0.25)
    assert spec.features["city"].drift.threshold == 0.3
    assert "blob" not in spec.features
    assert spec.drift.numeric.method is DriftMethod.LINF_SIMPLE and spec.drift.numeric.threshold == 0.2
    assert spec.drift.categorical.method is DriftMethod.CHI_SQUARE and spec.drift.categorical.threshold == 0.4
    assert spec.quality.max_type_error_rate == pytest.approx(0.1)
    assert spec.quality.max_unseen_category_rate == pytest.approx(0.05)
    assert len(imported.unmapped) == 3
    assert any("features.blob: inferred_type Unknown" in line for line in imported.unmapped)
    assert any("monitoringConfigOverrides.evaluate_constraints = Disabled" in line for line in imported.unmapped)
    assert any("monitoring_config.emit_metrics = Disabled" in line for line in imported.unmapped)


def test_statistics_are_not_constraints() -> None:
    # A statistics file has features too, but their names and types are all a spec would get;
    # the import reads it as constraints without limits: still a valid spec.
    imported = import_constraints(PIPELINE_STATISTICS, "m")
    assert parse_spec(imported.document).features["_c0"].nullable is True


def test_a_file_without_features_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"regression_constraints": {}}))
    with pytest.raises(NotModelMonitorFileError, match="model-quality"):
        import_constraints(path, "m")
