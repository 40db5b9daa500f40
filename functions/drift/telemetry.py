"""The drift check's metrics, from its JSON document, as CloudWatch EMF.

Dimensions: service and window (a handful of names from the spec); DriftScore and FeatureDrifted
add the feature, Kpi the KPI's name. DriftScore is only ever a bounded score (KS D, normed
Wasserstein, Jensen-Shannon, PSI), so "score > 0.3" alarms mean the same thing at any window
size; p-value tests still give FeatureDrifted.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from modelwatch.metric_catalog import PERFORMANCE_METRICS

BOUNDED_SCORES = {"ks", "wasserstein", "jensenshannon", "psi"}
ESTIMATED = {"accuracy": "EstimatedAccuracy", "roc_auc": "EstimatedAUC"}
QUALITY = {
    "missing_rate": "MissingRate",
    "out_of_range_rate": "OutOfRangeRate",
    "unseen_category_rate": "UnseenCategoryRate",
}


def metric_values(document: dict[str, Any]) -> list[tuple[str, float, dict[str, str]]]:
    """(metric name, value, extra dimensions) for one window's drift document."""
    values: list[tuple[str, float, dict[str, str]]] = []
    insufficient = document["status"] == "insufficient_data"
    values.append(("InsufficientData", 1.0 if insufficient else 0.0, {}))
    for name, metric in QUALITY.items():
        values.append((metric, float(document["quality"][name]), {}))
    values.append(("NewLabeledRows", float(document["new_labeled_rows"]), {}))
    for name, value in (document.get("kpis") or {}).items():
        if value is not None:
            values.append(("Kpi", float(value), {"kpi": name}))
    for source, names in (("performance", PERFORMANCE_METRICS), ("estimated_performance", ESTIMATED)):
        for key, metric in names.items():
            value = (document.get(source) or {}).get(key)
            if value is not None:
                values.append((metric, float(value), {}))
    if insufficient:
        return values  # no verdict below the minimum sample size
    values.append(("DriftShare", float(document["drift_share"]), {}))
    values.append(("DatasetDrift", 1.0 if document["dataset_drift"] else 0.0, {}))
    scores = []
    for feature in document["features"]:
        if feature["status"] != "ok":
            continue
        values.append(("FeatureDrifted", 1.0 if feature["drifted"] else 0.0, {"feature": feature["name"]}))
        if feature["method"] in BOUNDED_SCORES and isinstance(feature["statistic"], float):
            values.append(("DriftScore", feature["statistic"], {"feature": feature["name"]}))
            scores.append(feature["statistic"])
    if scores:
        values.append(("MaxDriftScore", max(scores), {}))
    for key, metric in (("prediction_drift", "PredictionDrift"), ("label_drift", "LabelDrift")):
        column = document.get(key)
        if column and column["status"] == "ok" and isinstance(column["statistic"], float):
            values.append((metric, column["statistic"], {}))
    concept = document.get("concept_drift")
    if concept is not None:
        values.append(("ConceptDrift", 1.0 if concept["drifted"] else 0.0, {}))
    return values


def emit(document: dict[str, Any], namespace: str, service: str) -> None:
    for name, value, dimensions in metric_values(document):
        unit = MetricUnit.Count if name in ("InsufficientData", "NewLabeledRows") else MetricUnit.NoUnit
        with single_metric(name, unit, value, namespace=namespace) as metric:
            metric.add_dimension("service", service)
            metric.add_dimension("window", document["window"])
            for key, dimension in dimensions.items():
                metric.add_dimension(key, dimension)
