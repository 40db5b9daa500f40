"""The drift check's metrics, from its window results, as CloudWatch EMF.

Dimensions: service and window (a handful of names from the spec); DriftScore and FeatureDrifted
add the feature, Kpi the KPI's name. DriftScore is only ever a bounded score (KS D, normed
Wasserstein, Jensen-Shannon, PSI), so "score > 0.3" alarms mean the same thing at any window
size; p-value tests still give FeatureDrifted.
"""

from __future__ import annotations

from typing import Any

from functions.shared.emit import emit_with_dimensions
from modelwatch.alerts.consumed import sends_drift_series
from modelwatch.catalog import metrics as catalog
from modelwatch.catalog.metrics import Metric
from modelwatch.spec.models import MonitoringSpec

BOUNDED_SCORES = {"ks", "wasserstein", "jensenshannon", "psi"}
Datapoint = tuple[Metric, float, dict[str, str]]


def metric_values(document: dict[str, Any]) -> list[Datapoint]:
    """(metric, value, extra dimensions) for one window's drift document."""
    values: list[Datapoint] = []
    if document.get("current_rows") == 0:
        # No traffic in the window: nothing to report, and nothing sent. CloudWatch bills a metric
        # for every hour it is sent, so an idle stack's hourly check would otherwise cost its
        # always-sent metrics (about 15 for the demo spec, $4.50 a month); the alarms on them see
        # missing data, which the spec treats as not breaching by default.
        return values
    insufficient = document["status"] == "insufficient_data"
    values.append((catalog.INSUFFICIENT_DATA, 1.0 if insufficient else 0.0, {}))
    for key, metric in catalog.QUALITY_RATES.items():
        values.append((metric, float(document["quality"][key]), {}))
    values.append((catalog.NEW_LABELED_ROWS, float(document["new_labeled_rows"]), {}))
    for name, value in (document.get("kpis") or {}).items():
        if value is not None:
            values.append((catalog.KPI, float(value), {"kpi": name}))
    for source, metrics in (
        ("performance", catalog.PERFORMANCE),
        ("estimated_performance", catalog.ESTIMATED_PERFORMANCE),
    ):
        for key, metric in metrics.items():
            value = (document.get(source) or {}).get(key)
            if value is not None:
                values.append((metric, float(value), {}))
    if insufficient:
        return values  # no verdict below the minimum sample size
    values.append((catalog.DRIFT_SHARE, float(document["drift_share"]), {}))
    values.append((catalog.DATASET_DRIFT, 1.0 if document["dataset_drift"] else 0.0, {}))
    scores = []
    for feature in document["features"]:
        if feature["status"] != "ok":
            continue
        per_feature = {"feature": feature["name"]}
        values.append((catalog.FEATURE_DRIFTED, 1.0 if feature["drifted"] else 0.0, per_feature))
        if feature["method"] in BOUNDED_SCORES and isinstance(feature["statistic"], float):
            values.append((catalog.DRIFT_SCORE, feature["statistic"], per_feature))
            scores.append(feature["statistic"])
    if scores:
        values.append((catalog.MAX_DRIFT_SCORE, max(scores), {}))
    for key, metric in (("prediction_drift", catalog.PREDICTION_DRIFT), ("label_drift", catalog.LABEL_DRIFT)):
        column = document.get(key)
        if column and column["status"] == "ok" and isinstance(column["statistic"], float):
            values.append((metric, column["statistic"], {}))
    for method in document.get("multivariate") or []:
        if method.get("score") is None or method.get("drifted") is None:
            continue  # not computed on this window (too few rows, or switched off): no datapoint
        per_method = {"method": method["method"]}
        values.append((catalog.MULTIVARIATE_DRIFT_SCORE, float(method["score"]), per_method))
        values.append((catalog.MULTIVARIATE_DRIFT, 1.0 if method["drifted"] else 0.0, per_method))
    concept = document.get("concept_drift")
    if concept is not None and concept.get("drifted") is not None:  # None: below the labelled minimum
        values.append((catalog.CONCEPT_DRIFT, 1.0 if concept["drifted"] else 0.0, {}))
    return values


def emit(document: dict[str, Any], spec: MonitoringSpec) -> None:
    namespace, service = spec.metrics.namespace, spec.metrics.service
    for metric, value, extra in metric_values(document):
        if not sends_drift_series(spec, metric, document["window"]):
            continue  # not read by any alarm, trigger or the dashboard: kept in drift.json only
        emit_with_dimensions(metric, value, namespace, {"service": service, "window": document["window"], **extra})
