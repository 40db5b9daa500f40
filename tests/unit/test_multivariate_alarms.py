"""Multivariate drift reaches CloudWatch: the drift check's telemetry emits a score and a verdict
per method, and a spec rule on them plans one alarm per method the spec runs."""

from __future__ import annotations

from functions.drift.telemetry import metric_values
from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog import metrics as catalog
from modelwatch.jobs.window_check import WindowCheck
from modelwatch.spec import parse_spec


def _check(**changes) -> WindowCheck:
    document = {
        "window": "1d",
        "model_version": "v1",
        "current_rows": 5000,
        "status": "ok",
        "quality": {"missing_rate": 0.0, "out_of_range_rate": 0.0, "unseen_category_rate": 0.0},
        "new_labeled_rows": 0,
        "drift_share": 0.0,
        "dataset_drift": False,
        "features": [],
        "multivariate": [
            {"method": "pca_reconstruction", "score": 0.71, "threshold": 0.6, "drifted": True},
            {"method": "domain_classifier", "score": None, "threshold": None, "drifted": None},
        ],
        "concept_drift": {"drifted": None, "reason": "40 labelled rows, fewer than drift.min_labeled_rows (200)"},
    }
    return WindowCheck.from_document(document | changes)


def test_each_computed_method_gives_a_score_and_a_verdict_and_undefined_gives_nothing():
    values = {(m.name, tuple(d.items())): v for m, v, d in metric_values(_check())}
    method = (("method", "pca_reconstruction"),)
    assert values[(catalog.MULTIVARIATE_DRIFT_SCORE.name, method)] == 0.71
    assert values[(catalog.MULTIVARIATE_DRIFT.name, method)] == 1.0
    assert not any(dims == (("method", "domain_classifier"),) for _, dims in values)
    assert not any(name == catalog.CONCEPT_DRIFT.name for name, _ in values)  # no verdict is not "0"


def test_a_rule_on_multivariate_drift_is_one_alarm_per_method(demo_spec):
    document = demo_spec.model_dump(mode="json")
    document["alerts"].append(
        {
            "name": "MultivariateDrift",
            "metric": "MultivariateDrift",
            "statistic": "Maximum",
            "comparison": "GreaterThanThreshold",
            "threshold": 0.5,
        }
    )
    planned = [p for p in planned_alarms(parse_spec(document, "<test>")) if p.rule.name == "MultivariateDrift"]
    assert {p.name for p in planned} == {"MultivariateDrift-pca_reconstruction", "MultivariateDrift-domain_classifier"}
    assert all(set(p.dimensions) == set(catalog.MULTIVARIATE_DRIFT.dimensions) for p in planned)
