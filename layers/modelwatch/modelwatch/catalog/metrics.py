"""Every metric ModelWatch puts in CloudWatch: its name, unit, dimensions and the function that
emits it. Emitters, alarm rules, the dashboard, the local CloudWatch and docs/spec.md's metric
list all come from here (`python -m modelwatch.catalog.metrics_doc` rewrites that list).

Every metric carries the `service` dimension (Powertools' default dimension). Drift metrics add
`window`; per-feature, per-KPI and per-method drift metrics add `feature`, `kpi` or `method`. The
exceptions to "one name per metric" are the predict function's per-value metrics, a numeric
feature's value (`FeatureValue.<feature>`) and a class's prediction count
(`Predictions.<class>`): they ride in the request's single EMF document, where a dimension would
need a document per value (about 0.06 ms each on every request).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

Unit = Literal["Milliseconds", "Count", "None", "Percent"]
# How a value of each unit is written for people (a notice): 612.3 ms, 7.5%.
UNIT_SUFFIXES: dict[str, str] = {"Milliseconds": " ms", "Percent": "%"}
# Who puts it in CloudWatch: a function (its name in modelwatch.catalog.functions), Powertools on
# a function's behalf, or CloudWatch metric math over the HTTP API's own metrics.
Emitter = Literal["predict", "feedback", "capture", "drift", "notify", "retrain", "promote", "approval", "api", "smoke"]
PerValue = Literal["feature", "class", "kpi", "method"]
# The model tasks a metric has a value for (modelwatch.spec.models.Task; a literal here, since
# the catalogue imports nothing of the spec).
Task = Literal["binary", "multiclass", "regression"]
EVERY_TASK: tuple[Task, ...] = ("binary", "multiclass", "regression")
CLASSIFIERS: tuple[Task, ...] = ("binary", "multiclass")
BINARY: tuple[Task, ...] = ("binary",)
MULTICLASS: tuple[Task, ...] = ("multiclass",)
REGRESSION: tuple[Task, ...] = ("regression",)


@dataclass(frozen=True)
class MathInput:
    """One metric a metric math expression reads, by the id the expression names it with.
    `dimensions` are the names only: their values (an API's id) belong to a deployment."""

    id: str
    namespace: str
    name: str
    statistic: str
    dimensions: tuple[str, ...]


@dataclass(frozen=True)
class MetricMath:
    """A CloudWatch metric math expression over its inputs: the deployed alarm sends exactly this
    text to CloudWatch, and the local runtime evaluates exactly this text over the same inputs."""

    expression: str
    inputs: tuple[MathInput, ...]
    label: str


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    emitted_by: tuple[Emitter, ...]
    description: str
    # The dimension an alarm or a widget takes one series per value of (feature, class, KPI).
    per: PerValue | None = None
    # The value named in the metric's name (`<name>.<value>`), not in a dimension: a per-feature
    # or per-class metric of the request's one EMF document (a dimension would need a document
    # per value, about 0.06 ms each on every request).
    named_per: Literal["feature", "class", "model_version"] | None = None
    # Extra dimensions beyond `service` (and `window` for drift metrics), in emission order.
    extra_dimensions: tuple[str, ...] = ()
    emitted_by_function_code: bool = True  # False: Powertools or metric math make it
    math: MetricMath | None = None  # set when CloudWatch computes it from other metrics
    # The tasks it has a value for: an alert rule or a dashboard panel on any other is refused
    # or left out (a regression has no confidence, a classifier no MAE).
    tasks: tuple[Task, ...] = EVERY_TASK
    # A drift-run metric of the run as a whole, not of one window (no `window` dimension).
    per_window: bool = True
    # A function reads it back from CloudWatch (GetMetricData): the local runtime puts it in
    # moto's CloudWatch as well as in its own store, so the same call answers there.
    read_back: bool = False
    # Sent only when there is something to count (a failure, a request with input problems):
    # clean traffic sends none, and CloudWatch bills such a series only for the hours it is sent.
    only_when_nonzero: bool = False

    def applies_to(self, task: str) -> bool:
        return task in self.tasks

    @property
    def is_drift_metric(self) -> bool:
        return self.emitted_by == ("drift",) and self.per_window

    @cached_property  # read on every emission: built once
    def dimensions(self) -> tuple[str, ...]:
        """Every dimension of a data point, in emission order."""
        window = ("window",) if self.is_drift_metric else ()
        per = (self.per,) if self.per else ()
        return ("service", *window, *self.extra_dimensions, *per)

    def name_for(self, value: str) -> str:
        """The metric name of one feature's or class's values (metrics `named_per` one)."""
        return f"{self.name}.{value}" if self.named_per else self.name


def _metric(name: str, unit: Unit, emitter: Emitter | tuple[Emitter, ...], description: str, **extra) -> Metric:
    return Metric(name, unit, emitter if isinstance(emitter, tuple) else (emitter,), description, **extra)


# --- the prediction API ----------------------------------------------------------------------
PREDICTION_LATENCY = _metric("PredictionLatency", "Milliseconds", "predict", "end-to-end handler time")
MODEL_LATENCY = _metric("ModelLatency", "Milliseconds", "predict", "model inference time")
CONFIDENCE = _metric(
    "Confidence", "None", "predict", "highest class probability, per record (classifiers)", tasks=CLASSIFIERS
)
PREDICTED_VALUE = _metric(
    "PredictedValue", "None", "predict", "the predicted value, per record (regression)", tasks=REGRESSION
)
PREDICTIONS = _metric(
    "Predictions",
    "Count",
    "predict",
    "predictions of each class, named Predictions.<class> (classifiers)",
    named_per="class",
    tasks=CLASSIFIERS,
)
FEATURE_VALUE = _metric(
    "FeatureValue",
    "None",
    "predict",
    "value of each numeric feature, named FeatureValue.<feature>",
    named_per="feature",
)
MISSING_VALUES = _metric(
    "MissingValues", "Count", "predict", "missing feature values (sent when there are some)", only_when_nonzero=True
)
OUT_OF_RANGE = _metric(
    "OutOfRange",
    "Count",
    "predict",
    "values outside the allowed range (sent when there are some)",
    only_when_nonzero=True,
)
UNSEEN_CATEGORY = _metric(
    "UnseenCategory",
    "Count",
    "predict",
    "categories not in the schema (sent when there are some)",
    only_when_nonzero=True,
)
VALIDATION_ERRORS = _metric(
    "ValidationErrors", "Count", ("predict", "feedback"), "rejected requests", only_when_nonzero=True
)
MODEL_LOAD_FAILED = _metric(
    "ModelLoadFailed",
    "Count",
    ("predict", "capture"),
    "a model version (or its DLE loss model, which the capture function runs) that is missing or fails its hash",
    only_when_nonzero=True,
)
COLD_START = _metric(
    "ColdStart",
    "Count",
    ("predict", "feedback"),
    "cold starts of the API functions (Powertools)",
    extra_dimensions=("function_name",),
    emitted_by_function_code=False,
)
CAPTURE_RECORDS_SENT = _metric(
    "CaptureRecordsSent",
    "Count",
    "predict",
    "capture records logged, named CaptureRecordsSent.<model_version> (every record served, or its [capture] "
    "sample_rate share); the drift run reconciles them with capture/",
    named_per="model_version",
    read_back=True,
)
FEEDBACK = _metric("Feedback", "Count", "feedback", "labels and outcomes received")
FEEDBACK_RECORDS_SENT = _metric(
    "FeedbackRecordsSent",
    "Count",
    "feedback",
    "feedback pieces logged (each label or outcomes item accepted); the drift run reconciles them, by the hour "
    "received, with the pieces the capture function filed under labels/",
    read_back=True,
)
# Never sent: its alarm exists so `modelwatch smoke` can set its state and watch the notice travel
# (alarm -> both topics -> notifier and email) without paging anyone about a real metric.
SMOKE_TEST = _metric(
    "SmokeTest",
    "Count",
    "smoke",
    "never sent: the smoke alarm's metric (modelwatch smoke sets the alarm's state to test delivery)",
    emitted_by_function_code=False,
    per_window=False,
)
# API Gateway's own metrics of an HTTP API (namespace AWS/ApiGateway, dimension ApiId): requests
# and 4xx and 5xx responses per period. They are AWS's names, not ours, so they are not in CATALOGUE.
API_GATEWAY_NAMESPACE = "AWS/ApiGateway"
API_ID_DIMENSION = "ApiId"
API_REQUESTS = MathInput("requests", API_GATEWAY_NAMESPACE, "Count", "Sum", (API_ID_DIMENSION,))
API_SERVER_ERRORS = MathInput("errors", API_GATEWAY_NAMESPACE, "5xx", "Sum", (API_ID_DIMENSION,))
API_CLIENT_ERRORS = MathInput("client_errors", API_GATEWAY_NAMESPACE, "4xx", "Sum", (API_ID_DIMENSION,))
# API Gateway's own latency of each request, as the caller waits for it (integration, cold start
# and the gateway included): free, and what the dashboard's latency panel shows beside the handler's.
API_LATENCY = "Latency"
# Lambda's own metrics of a function (namespace AWS/Lambda, dimension FunctionName).
LAMBDA_NAMESPACE = "AWS/Lambda"
LAMBDA_FUNCTION_DIMENSION = "FunctionName"
LAMBDA_ERRORS, LAMBDA_THROTTLES, LAMBDA_DURATION = "Errors", "Throttles", "Duration"
# Events that Lambda could not put in a function's dead-letter queue (a refused send, a missing
# key grant): the event is then lost, so this alarms.
LAMBDA_DEAD_LETTER_ERRORS = "DeadLetterErrors"
# Step Functions' own metrics of a state machine (namespace AWS/States, dimension StateMachineArn).
STATES_NAMESPACE = "AWS/States"
STATES_MACHINE_DIMENSION = "StateMachineArn"
STATES_EXECUTIONS_FAILED = "ExecutionsFailed"
API_5XX_RATE = _metric(
    "Api5xxRate",
    "Percent",
    "api",
    "5xx responses over all requests (metric math over the HTTP API's 5xx and Count)",
    emitted_by_function_code=False,
    # A percentage of the period's requests; a period without requests is 0, not a division by 0.
    math=MetricMath(
        expression=f"IF({API_REQUESTS.id} > 0, 100 * {API_SERVER_ERRORS.id} / {API_REQUESTS.id}, 0)",
        inputs=(API_SERVER_ERRORS, API_REQUESTS),
        label="5xx rate (%)",
    ),
)

# --- capture and profiles --------------------------------------------------------------------
CAPTURED_RECORDS = _metric("CapturedRecords", "Count", "capture", "records written to capture/ or quarantine/")
CAPTURE_FAILED = _metric(
    "CaptureFailed",
    "Count",
    "capture",
    "records that could not be captured, and log batches the delivery stream could not process (kept under "
    "deliveries-errors/ for redrive-captures)",
    only_when_nonzero=True,
)
CAPTURES_MISSING = _metric(
    "CapturesMissing",
    "Count",
    "drift",
    "capture records sent but not in capture/, beyond [capture] sent_count_tolerance (CloudWatch counts what "
    "was sent at least once), over every model version, for each settled hour (SETTLE_HOURS) the drift run "
    "reconciles",
    per_window=False,
)
FEEDBACK_MISSING = _metric(
    "FeedbackMissing",
    "Count",
    "drift",
    "feedback pieces logged but not filed under labels/, beyond [capture] sent_count_tolerance, for each hour "
    "received that the drift run reconciles (SETTLE_HOURS)",
    per_window=False,
)
ACCOUNTING_HEARTBEAT = _metric(
    "AccountingHeartbeat",
    "Count",
    "drift",
    "1 for every drift run whose capture and feedback accounting finished (whether or not an hour was due); its "
    "alarm fires when it stops arriving",
    per_window=False,
)
PROFILED_OBJECTS = _metric("ProfiledObjects", "Count", "capture", "capture objects profiled")
PROFILE_FAILED = _metric("ProfileFailed", "Count", "capture", "capture objects quarantined as poison")

# --- the drift check (dimension `window` on each) --------------------------------------------
INSUFFICIENT_DATA = _metric("InsufficientData", "Count", "drift", "1 when the window is below the minimum sample size")
MISSING_RATE = _metric("MissingRate", "None", "drift", "share of missing values")
OUT_OF_RANGE_RATE = _metric("OutOfRangeRate", "None", "drift", "share of values outside the allowed range")
UNSEEN_CATEGORY_RATE = _metric("UnseenCategoryRate", "None", "drift", "share of categories not in the schema")
NEW_LABELED_ROWS = _metric("NewLabeledRows", "Count", "drift", "labelled predictions since the version was created")
KPI = _metric("Kpi", "None", "drift", "business KPI from feedback outcomes", per="kpi")
ACCURACY = _metric("Accuracy", "None", "drift", "accuracy on labelled rows", tasks=CLASSIFIERS)
PRECISION = _metric("Precision", "None", "drift", "precision on labelled rows", tasks=BINARY)
RECALL = _metric("Recall", "None", "drift", "recall on labelled rows", tasks=BINARY)
F1 = _metric("F1", "None", "drift", "F1 on labelled rows", tasks=BINARY)
AUC = _metric("AUC", "None", "drift", "ROC AUC on labelled rows", tasks=BINARY)
LOG_LOSS = _metric("LogLoss", "None", "drift", "log loss on labelled rows", tasks=CLASSIFIERS)
PRECISION_MACRO = _metric(
    "PrecisionMacro", "None", "drift", "macro precision on labelled rows (multiclass)", tasks=MULTICLASS
)
RECALL_MACRO = _metric("RecallMacro", "None", "drift", "macro recall on labelled rows (multiclass)", tasks=MULTICLASS)
F1_MACRO = _metric("F1Macro", "None", "drift", "macro F1 on labelled rows (multiclass)", tasks=MULTICLASS)
F1_WEIGHTED = _metric(
    "F1Weighted", "None", "drift", "support-weighted F1 on labelled rows (multiclass)", tasks=MULTICLASS
)
AUC_OVR = _metric(
    "AUCOvR", "None", "drift", "macro one-vs-rest ROC AUC on labelled rows (multiclass)", tasks=MULTICLASS
)
MAE = _metric("MAE", "None", "drift", "mean absolute error on labelled rows (regression)", tasks=REGRESSION)
RMSE = _metric("RMSE", "None", "drift", "root mean squared error on labelled rows (regression)", tasks=REGRESSION)
MAPE = _metric(
    "MAPE", "None", "drift", "mean absolute percentage error on labelled rows (regression)", tasks=REGRESSION
)
R2 = _metric("R2", "None", "drift", "coefficient of determination on labelled rows (regression)", tasks=REGRESSION)
ESTIMATED_F1_MACRO = _metric(
    "EstimatedF1Macro", "None", "drift", "macro F1 estimated without labels (CBPE)", tasks=MULTICLASS
)
ESTIMATED_MAE = _metric(
    "EstimatedMAE", "None", "drift", "mean absolute error estimated without labels (DLE)", tasks=REGRESSION
)
ESTIMATED_RMSE = _metric(
    "EstimatedRMSE", "None", "drift", "root mean squared error estimated without labels (DLE)", tasks=REGRESSION
)
ESTIMATED_ACCURACY = _metric(
    "EstimatedAccuracy", "None", "drift", "accuracy estimated without labels (CBPE)", tasks=CLASSIFIERS
)
ESTIMATED_AUC = _metric("EstimatedAUC", "None", "drift", "ROC AUC estimated without labels (CBPE)", tasks=BINARY)
DRIFT_SHARE = _metric("DriftShare", "None", "drift", "share of drifted features")
DATASET_DRIFT = _metric("DatasetDrift", "None", "drift", "1 when the dataset drifted")
FEATURE_DRIFTED = _metric("FeatureDrifted", "None", "drift", "1 when the feature's verdict is drift", per="feature")
DRIFT_SCORE = _metric("DriftScore", "None", "drift", "bounded drift score per feature (never a p-value)", per="feature")
MAX_DRIFT_SCORE = _metric("MaxDriftScore", "None", "drift", "the highest DriftScore of any feature")
PREDICTION_DRIFT = _metric("PredictionDrift", "None", "drift", "drift score of the predictions")
LABEL_DRIFT = _metric("LabelDrift", "None", "drift", "drift score of the labels")
MULTIVARIATE_DRIFT_SCORE = _metric(
    "MultivariateDriftScore",
    "None",
    "drift",
    "multivariate drift score per method (PCA reconstruction error rank, domain classifier ROC AUC)",
    per="method",
)
MULTIVARIATE_DRIFT = _metric("MultivariateDrift", "None", "drift", "1 when the method's verdict is drift", per="method")
CONCEPT_DRIFT = _metric("ConceptDrift", "None", "drift", "1 when performance fell while the inputs stayed put")
WORST_SEGMENT_DRIFT_SHARE = _metric(
    "WorstSegmentDriftShare",
    "None",
    "drift",
    "what only segments see: the highest share, over segment values, of features drifted in the segment "
    "value (after the correction across segments x features) but not in the whole window; one series for "
    "every segment, drift.json names them",
)

# --- alerts and retraining -------------------------------------------------------------------
NOTIFICATIONS_SENT = _metric(
    "NotificationsSent",
    "Count",
    "notify",
    "incident and retraining notices sent: by email, and to Slack when configured",
)
RETRAINING_PROMOTE = _metric("RetrainingPromote", "Count", "promote", "challengers promoted")
RETRAINING_REJECT = _metric("RetrainingReject", "Count", "promote", "challengers rejected")
RETRAINING_AWAITING_APPROVAL = _metric(
    "RetrainingAwaitingApproval", "Count", "approval", "chosen challengers waiting for a person to approve them"
)

CATALOGUE: dict[str, Metric] = {
    m.name: m
    for m in (
        PREDICTION_LATENCY,
        MODEL_LATENCY,
        CONFIDENCE,
        PREDICTED_VALUE,
        PREDICTIONS,
        FEATURE_VALUE,
        MISSING_VALUES,
        OUT_OF_RANGE,
        UNSEEN_CATEGORY,
        VALIDATION_ERRORS,
        MODEL_LOAD_FAILED,
        CAPTURE_RECORDS_SENT,
        COLD_START,
        FEEDBACK,
        FEEDBACK_RECORDS_SENT,
        SMOKE_TEST,
        API_5XX_RATE,
        CAPTURED_RECORDS,
        CAPTURE_FAILED,
        CAPTURES_MISSING,
        FEEDBACK_MISSING,
        ACCOUNTING_HEARTBEAT,
        PROFILED_OBJECTS,
        PROFILE_FAILED,
        INSUFFICIENT_DATA,
        MISSING_RATE,
        OUT_OF_RANGE_RATE,
        UNSEEN_CATEGORY_RATE,
        NEW_LABELED_ROWS,
        KPI,
        ACCURACY,
        PRECISION,
        RECALL,
        F1,
        AUC,
        LOG_LOSS,
        PRECISION_MACRO,
        RECALL_MACRO,
        F1_MACRO,
        F1_WEIGHTED,
        AUC_OVR,
        MAE,
        RMSE,
        MAPE,
        R2,
        ESTIMATED_ACCURACY,
        ESTIMATED_AUC,
        ESTIMATED_F1_MACRO,
        ESTIMATED_MAE,
        ESTIMATED_RMSE,
        DRIFT_SHARE,
        DATASET_DRIFT,
        FEATURE_DRIFTED,
        DRIFT_SCORE,
        MAX_DRIFT_SCORE,
        PREDICTION_DRIFT,
        LABEL_DRIFT,
        MULTIVARIATE_DRIFT_SCORE,
        MULTIVARIATE_DRIFT,
        CONCEPT_DRIFT,
        WORST_SEGMENT_DRIFT_SHARE,
        NOTIFICATIONS_SENT,
        RETRAINING_PROMOTE,
        RETRAINING_REJECT,
        RETRAINING_AWAITING_APPROVAL,
    )
}

# The metrics functions read back from CloudWatch, by name.
READ_BACK = {name: metric for name, metric in CATALOGUE.items() if metric.read_back}

# Keys of the drift document's `performance` and `estimated_performance` (and of the spec's
# retraining trigger) -> their metrics.
# Keys are every task's (modelwatch.spec.models.TASK_METRICS); a window emits those it has.
PERFORMANCE = {
    "accuracy": ACCURACY,
    "precision": PRECISION,
    "recall": RECALL,
    "f1": F1,
    "roc_auc": AUC,
    "log_loss": LOG_LOSS,
    "precision_macro": PRECISION_MACRO,
    "recall_macro": RECALL_MACRO,
    "f1_macro": F1_MACRO,
    "f1_weighted": F1_WEIGHTED,
    "roc_auc_ovr": AUC_OVR,
    "mae": MAE,
    "rmse": RMSE,
    "mape": MAPE,
    "r2": R2,
}
ESTIMATED_PERFORMANCE = {
    "accuracy": ESTIMATED_ACCURACY,
    "roc_auc": ESTIMATED_AUC,
    "f1_macro": ESTIMATED_F1_MACRO,
    "mae": ESTIMATED_MAE,
    "rmse": ESTIMATED_RMSE,
}
# Keys of the drift document's `quality` -> their metrics.
QUALITY_RATES = {
    "missing_rate": MISSING_RATE,
    "out_of_range_rate": OUT_OF_RANGE_RATE,
    "unseen_category_rate": UNSEEN_CATEGORY_RATE,
}
# The spec's drift trigger metrics -> their metrics.
DRIFT_TRIGGERS = {"drift_share": DRIFT_SHARE, "max_drift_score": MAX_DRIFT_SCORE}
# Per-feature metrics whose alarm is one alarm on their highest value over the features: "any
# feature's DriftScore above t" is "MaxDriftScore above t", which the drift check sends beside them.
# One incident, one alarm (modelwatch.alerts.plan); its notice names the features (from drift.json).
FOLDED_OVER_FEATURES = {DRIFT_SCORE.name: MAX_DRIFT_SCORE}


# A plain property (no metric, nothing billed) of the prediction function's EMF document: the peak
# resident memory of its process so far, in MB, as Lambda's REPORT line states it per invocation
# ("Max Memory Used", the environment's peak). The dashboard's memory panel reads it with Logs
# Insights, since the REPORT lines are not logged by default (modelwatch_infra.functions).
PEAK_MEMORY_PROPERTY = "max_memory_mb"

# CloudWatch's limits (EMF and PutMetricData), which the spec is checked against at load.
EMF_MAX_METRICS_PER_DOCUMENT = 100
EMF_MAX_VALUES_PER_METRIC = 100
METRIC_NAME_MAX_LENGTH = 255
DIMENSION_VALUE_MAX_LENGTH = 1024
# Values CloudWatch stores: 0, or a magnitude between these (smaller ones it rejects).
SMALLEST_MAGNITUDE, LARGEST_MAGNITUDE = 8.515920e-109, 1.174271e108


def recordable(value: float) -> float | None:
    """A value as CloudWatch can store it, as a float: magnitudes below its smallest are 0 (a
    value that small is 0 to every statistic), above its largest the largest; None for NaN or an
    infinity, which no statistic can take (and which would make the whole EMF document invalid
    JSON). Called for every value on the request path: the common case returns first."""
    magnitude = abs(value)
    if SMALLEST_MAGNITUDE <= magnitude <= LARGEST_MAGNITUDE:
        return float(value)
    if magnitude < SMALLEST_MAGNITUDE:
        return 0.0
    if magnitude != magnitude or magnitude == math.inf:
        return None
    return LARGEST_MAGNITUDE if value > 0 else -LARGEST_MAGNITUDE


def recordable_values(values: Iterable[float]) -> list[float]:
    """recordable() of each value, leaving out those it cannot record."""
    return [recorded for value in values if (recorded := recordable(value)) is not None]


def per_request_metrics(task: str) -> list[Metric]:
    """The predict function's metrics of one request's EMF document, by one name each (the ones
    named per feature or class are counted apart)."""
    return [
        m
        for m in CATALOGUE.values()
        if "predict" in m.emitted_by
        and m.emitted_by_function_code
        and m.dimensions == ("service",)
        and m.named_per is None
        and m.applies_to(task)
    ]


def metric_named(name: str) -> Metric:
    """The catalogue's metric of an emitted name (FeatureValue.<feature>, Predictions.<class> included)."""
    if name in CATALOGUE:
        return CATALOGUE[name]
    base, _, value = name.partition(".")
    if value and base in CATALOGUE and CATALOGUE[base].named_per:
        return CATALOGUE[base]
    raise KeyError(f"metric {name!r} is not in modelwatch.catalog.metrics")
