"""The metrics ModelWatch emits, by name: the one list alert rules and dashboards refer to.

Metrics with a `class` or `kpi` dimension are emitted once per value of it. `FeatureValue` and
`DriftScore` are per feature: `FeatureValue.<feature>` (one metric per feature in the request's
EMF document, cheaper than a document per feature) and `DriftScore` with a `feature` dimension.
`Api5xxRate` is not emitted by a function: it is
CloudWatch metric math over the HTTP API's own 5xx and Count metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["Milliseconds", "Count", "None", "Percent"]


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    unit: Unit
    source: Literal["predict", "feedback", "drift", "capture", "api", "retrain"]
    dimension: Literal["feature", "class", "kpi"] | None = None
    description: str = ""


METRICS: dict[str, MetricDefinition] = {
    m.name: m
    for m in (
        MetricDefinition("PredictionLatency", "Milliseconds", "predict", description="end-to-end handler time"),
        MetricDefinition("ModelLatency", "Milliseconds", "predict", description="model inference time"),
        MetricDefinition("Confidence", "None", "predict", description="highest class probability"),
        MetricDefinition("Predictions", "Count", "predict", "class", "predictions by predicted class"),
        MetricDefinition(
            "FeatureValue", "None", "predict", "feature", "value of each numeric feature, named FeatureValue.<feature>"
        ),
        MetricDefinition("MissingValues", "Count", "predict", description="missing feature values"),
        MetricDefinition("OutOfRange", "Count", "predict", description="values outside the allowed range"),
        MetricDefinition("UnseenCategory", "Count", "predict", description="categories not in the schema"),
        MetricDefinition("ValidationErrors", "Count", "predict", description="rejected records"),
        MetricDefinition("ModelLoadFailed", "Count", "predict", description="artifact missing or tampered"),
        MetricDefinition("CaptureFailed", "Count", "capture", description="records that could not be captured"),
        MetricDefinition("Feedback", "Count", "feedback", description="labels received"),
        MetricDefinition("DriftScore", "None", "drift", "feature", "bounded drift score per feature (not p-values)"),
        MetricDefinition("FeatureDrifted", "None", "drift", "feature", "1 when the feature's verdict is drift"),
        MetricDefinition("DriftShare", "None", "drift", description="share of drifted features"),
        MetricDefinition("MaxDriftScore", "None", "drift", description="the highest DriftScore of any feature"),
        MetricDefinition("DatasetDrift", "None", "drift", description="1 when the dataset drifted"),
        MetricDefinition("PredictionDrift", "None", "drift", description="drift score of the prediction"),
        MetricDefinition("LabelDrift", "None", "drift", description="drift score of the labels"),
        MetricDefinition("Accuracy", "None", "drift"),
        MetricDefinition("Precision", "None", "drift"),
        MetricDefinition("Recall", "None", "drift"),
        MetricDefinition("F1", "None", "drift"),
        MetricDefinition("AUC", "None", "drift"),
        MetricDefinition("EstimatedAccuracy", "None", "drift"),
        MetricDefinition("EstimatedAUC", "None", "drift"),
        MetricDefinition("MissingRate", "None", "drift"),
        MetricDefinition("OutOfRangeRate", "None", "drift"),
        MetricDefinition("UnseenCategoryRate", "None", "drift"),
        MetricDefinition("NewLabeledRows", "Count", "drift"),
        MetricDefinition("InsufficientData", "Count", "drift"),
        MetricDefinition("CapturedRecords", "Count", "capture"),
        MetricDefinition("UnknownRequestIds", "Count", "feedback"),
        MetricDefinition("ProfileFailed", "Count", "capture", description="capture objects quarantined as poison"),
        MetricDefinition("ConceptDrift", "None", "drift", description="1 when performance fell with stable inputs"),
        MetricDefinition("Kpi", "None", "drift", "kpi", "business KPI from feedback outcomes"),
        MetricDefinition("Api5xxRate", "Percent", "api", description="5xx responses over all requests, percent"),
        MetricDefinition("RetrainingPromote", "Count", "retrain", description="challengers promoted"),
        MetricDefinition("RetrainingReject", "Count", "retrain", description="challengers rejected"),
    )
}


# Performance keys of the drift document (and of the spec's retraining trigger) -> metric names.
PERFORMANCE_METRICS = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "roc_auc": "AUC",
}
# The spec's drift trigger metrics -> metric names.
DRIFT_TRIGGER_METRICS = {"drift_share": "DriftShare", "max_drift_score": "MaxDriftScore"}


def feature_metric(feature: str) -> str:
    """The name of a numeric feature's value metric."""
    return f"FeatureValue.{feature}"
