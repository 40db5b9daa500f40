"""A month of ModelWatch in billable units: invocations and GB-seconds per function, bytes logged,
S3 requests by kind, custom metric series, alarm metrics, traces, state transitions.

Every count is derived from the sources the stack and the functions use, so nothing is kept twice:
- functions, their memory, invocation, reads and writes, SnapStart: `modelwatch.catalog.functions`
- metric series (name x dimensions) and who emits them: `modelwatch.catalog.metrics` with the spec
  (windows, features, KPIs, classes, multivariate methods)
- alarms: `modelwatch.alerts.plan.planned_alarms` plus the stack's per-function alarms (or the
  synthesized template's alarms, when given)
A function, metric or alarm added to its catalogue is counted here without an edit; what is not
known from them (bytes logged per invocation, wall time) is read from `footprint.toml`.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from modelwatch.alerts.consumed import sends_drift_series
from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog import delivery
from modelwatch.catalog import functions as fcat
from modelwatch.catalog import metrics as mcat
from modelwatch.catalog.functions import DRIFT_CHECK_PERIOD_SECONDS
from modelwatch.catalog.layout import CAPTURE, LABELS, PROFILES_HOURLY, QUARANTINE
from modelwatch.catalog.metrics import Metric
from modelwatch.drift.multivariate import MIN_CLASSIFIER_ROWS
from modelwatch.jobs.retraining_machine import retraining_definition
from modelwatch.spec.models import DriftMethod, MonitoringSpec

HOURS_PER_MONTH = 730.0  # AWS bills a month as 730 hours
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
WEEKS_PER_MONTH = HOURS_PER_MONTH / (7 * 24)
DEFAULT_LABEL_SHARE = 0.10  # labels at 10% of predictions unless --labels-per-month says otherwise

# Sent by the hourly drift run only for an hour that had traffic (functions/drift/telemetry.py):
# an hour with predictions, 31 hours on.
ON_TRAFFIC_HOURS: tuple[Metric, ...] = (mcat.CAPTURES_MISSING,)
# Sent once per retraining run that trains and evaluates a challenger (one of the two).
ON_EVALUATION: tuple[Metric, ...] = (mcat.RETRAINING_PROMOTE, mcat.RETRAINING_REJECT)
# Areas a function writes only now and then, not once per object it handles: rejected or
# unreadable input (quarantine), and the ".late" marker the capture function leaves beside an
# hour's rollup when a capture object arrives after that hour was rolled up.
OCCASIONAL_WRITES = (QUARANTINE, PROFILES_HOURLY)
# A delivery of feedback lines writes, per prediction hour it holds, the labels object and the
# hour's "changed" marker (modelwatch.data_access.label_store); every other area the capture
# function writes is written once per capture object.
PER_LABEL_DELIVERY = {LABELS: 2}
# Areas a function reads only for a backfill (stored capture objects), not per delivery.
OCCASIONAL_READS = (CAPTURE,)
# Drift metrics by what a window needs before the drift check emits them (functions/drift/telemetry.py).
# A drift metric listed nowhere here is counted as a verdict metric: emitted once a window has
# its minimum sample size.
NEEDS_ROWS: tuple[Metric, ...] = (
    mcat.INSUFFICIENT_DATA,
    mcat.NEW_LABELED_ROWS,
    *mcat.QUALITY_RATES.values(),
    *mcat.ESTIMATED_PERFORMANCE.values(),
)
NEEDS_LABELS: tuple[Metric, ...] = (*mcat.PERFORMANCE.values(), mcat.KPI)
NEEDS_MIN_LABELED_ROWS: tuple[Metric, ...] = (mcat.CONCEPT_DRIFT,)
NEEDS_LABELS_AT_MIN_SAMPLE: tuple[Metric, ...] = (mcat.LABEL_DRIFT,)  # a distribution of labels


def _data(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("modelwatch.cost").joinpath(name).read_text())


def load_prices() -> dict[str, Any]:
    return _data("prices.toml")


def load_footprint() -> dict[str, Any]:
    return _data("footprint.toml")


@dataclass(frozen=True)
class Traffic:
    """A month's traffic and the deployment choices that change what it costs."""

    requests_per_month: float
    records_per_request: float = 1.0
    labels_per_month: float | None = None  # None: DEFAULT_LABEL_SHARE of predictions
    labels_per_feedback_request: float = 1.0
    baseline_rows: int = 10_000  # decides p-value tests (no DriftScore) vs distances for categorical features
    capture_lines_per_delivery: float | None = None  # None: footprint's assumption
    architecture: str = "arm64"
    snap_start: bool = True
    log_retention_days: int = 30
    capture_retention_days: int = 90
    trace_background: bool = False  # X-Ray on functions off the API path (the stack's default: off)
    api_detailed_metrics: bool = False  # per-route API metrics, billed as custom metrics
    alert_emails: int = 0
    # Hours of traffic behind the drift check's longest window; None: all of it (a steady month).
    # A shortened day on the local stack sets it to what it ran.
    history_hours: float | None = None

    @property
    def predictions(self) -> float:
        return self.requests_per_month * self.records_per_request

    @property
    def labels(self) -> float:
        return DEFAULT_LABEL_SHARE * self.predictions if self.labels_per_month is None else self.labels_per_month


@dataclass
class MonthlyUsage:
    invocations: dict[str, float] = field(default_factory=dict)
    gb_seconds: dict[str, float] = field(default_factory=dict)
    log_bytes: dict[str, float] = field(default_factory=dict)  # per log group: a function, or the API's access log
    s3_puts: dict[str, float] = field(default_factory=dict)  # PUT and LIST (one price), per function
    s3_lists: dict[str, float] = field(default_factory=dict)
    s3_gets: dict[str, float] = field(default_factory=dict)
    s3_stored_gb: float = 0.0
    metric_series: dict[str, float] = field(default_factory=dict)  # metric -> series (billed metric-months)
    alarms: int = 0
    alarm_metrics: int = 0
    dashboards: int = 1  # modelwatch_infra.dashboard: one per stack
    # Customer-managed keys: the alerts topic's and the inputs' (log groups and queues holding
    # raw inputs); from the template's AWS::KMS::Key resources when one is given.
    kms_keys: int = 2
    api_requests: float = 0.0
    xray_traces: float = 0.0
    state_transitions: float = 0.0
    sns_publishes: float = 0.0
    secret_calls: float = 0.0
    snapstart_cached_gb_seconds: float = 0.0
    snapstart_restored_gb: float = 0.0
    api_route_metrics: int = 0

    @property
    def custom_metrics(self) -> float:
        return sum(self.metric_series.values()) + self.api_route_metrics


# --- traffic per function --------------------------------------------------------------------
def capture_deliveries(spec: MonitoringSpec, traffic: Traffic, footprint: Mapping[str, Any]) -> float:
    """Logs subscription deliveries to the capture function: one capture line per request
    (a batch's records share a line up to its size limit)."""
    per_delivery = traffic.capture_lines_per_delivery or footprint["assumptions"]["capture_lines_per_delivery"]
    return traffic.requests_per_month * _captured_share(spec, traffic) / per_delivery


def label_deliveries(traffic: Traffic, footprint: Mapping[str, Any]) -> float:
    """Logs subscription deliveries of feedback lines (one line per feedback request) to the
    capture function, batched like capture lines."""
    per_delivery = traffic.capture_lines_per_delivery or footprint["assumptions"]["capture_lines_per_delivery"]
    return traffic.labels / traffic.labels_per_feedback_request / per_delivery


def _captured_share(spec: MonitoringSpec, traffic: Traffic) -> float:
    """Share of requests that print a capture line: any of their records in the sample."""
    return 1.0 - (1.0 - spec.capture.sample_rate) ** traffic.records_per_request


def retraining_runs(spec: MonitoringSpec, footprint: Mapping[str, Any]) -> float:
    weekly = WEEKS_PER_MONTH if spec.retraining.schedule else 0.0
    return weekly + footprint["assumptions"]["retraining_runs_from_triggers"]


def _retraining_trains(spec: MonitoringSpec, traffic: Traffic) -> bool:
    """A run trains when its lookback holds `min_rows` labelled rows; else it stops after its first step."""
    lookback_labels = traffic.labels * min(spec.retraining.lookback_hours, HOURS_PER_MONTH) / HOURS_PER_MONTH
    return lookback_labels >= spec.retraining.min_rows


def _retraining_states() -> list[dict[str, Any]]:
    definition = retraining_definition("function", "topic")
    return list(definition["States"].values())


def function_invocations(spec: MonitoringSpec, traffic: Traffic, footprint: Mapping[str, Any]) -> dict[str, float]:
    """Invocations a month of every catalogued function, by how it is invoked."""
    feedback_requests = traffic.labels / traffic.labels_per_feedback_request
    deliveries = capture_deliveries(spec, traffic, footprint)
    lambda_steps = sum(1 for s in _retraining_states() if s.get("Resource", "").endswith("lambda:invoke"))
    if not _retraining_trains(spec, traffic):
        lambda_steps = 1
    # Alarm changes reach the notifier only when something changes: nothing does without traffic.
    notifications = footprint["assumptions"]["notifications_per_month"] if traffic.requests_per_month > 0 else 0
    by_invocation = {
        "api": traffic.requests_per_month,
        # Capture lines and feedback lines, each delivery one invocation that stores and profiles.
        "delivery-stream": deliveries + label_deliveries(traffic, footprint),
        "schedule": SECONDS_PER_MONTH / DRIFT_CHECK_PERIOD_SECONDS,
        "sns": notifications,
        "state-machine": retraining_runs(spec, footprint) * lambda_steps,
    }
    # The approval function: once per run whose challenger is chosen, and only with approval =
    # "manual" (counted for every run that trains: an upper bound).
    manual = spec.retraining.approval == "manual" and _retraining_trains(spec, traffic)
    approvals = retraining_runs(spec, footprint) if manual else 0.0
    counts = {}
    for name, definition in fcat.FUNCTIONS.items():
        if definition is fcat.APPROVAL:
            counts[name] = approvals
        elif definition is fcat.FEEDBACK:
            counts[name] = feedback_requests
        else:
            counts[name] = by_invocation[definition.invocation]
    return counts


def _per_function(table: Mapping[str, float], name: str, default: float) -> float:
    return float(table.get(name, default))


# --- metric series ----------------------------------------------------------------------------
def _share_of_hours(events_per_month: float) -> float:
    """Share of a month's hours in which something happening `events_per_month` times (at
    random) happens at least once: CloudWatch bills a metric for the hours it is sent."""
    return 1.0 - math.exp(-events_per_month / HOURS_PER_MONTH) if events_per_month > 0 else 0.0


def _class_count(spec: MonitoringSpec) -> int:
    if spec.task == "binary":
        return 2
    if spec.task == "multiclass":
        return len(spec.columns.classes or ()) or 3  # classes read from the data: assume three
    return 1


def _drift_score_features(spec: MonitoringSpec, baseline_rows: int) -> list[str]:
    """Features whose DriftScore is sent: those judged by a method with a bounded score."""
    small = baseline_rows <= spec.drift.small_sample_max_rows
    bounded = []
    for name, feature in spec.features.items():
        method = spec.feature_drift(name).method
        if method is None:  # Evidently's rule (modelwatch.drift.methods.default_method)
            numeric = feature.type == "numeric"
            method = (DriftMethod.KS if small else DriftMethod.WASSERSTEIN) if numeric else None
            if method is None:
                method = DriftMethod.CHI_SQUARE if small else DriftMethod.JENSEN_SHANNON
        if DriftMethod(method).bounded_score:
            bounded.append(name)
    return bounded


def _series_per_value(spec: MonitoringSpec, metric: Metric, traffic: Traffic) -> int:
    """Series of one metric for one window (drift) or overall: the product of its dimensions' values."""
    count = 1
    if metric.named_per == "feature":
        count *= len(spec.plain_numeric_features)  # a sensitive number's values are never sent
    elif metric.named_per == "class":
        count *= _class_count(spec)
    # Named per model version (CaptureRecordsSent.<version>): the live version's one series.
    for dimension in metric.dimensions:
        if dimension == "feature":
            count *= len(
                _drift_score_features(spec, traffic.baseline_rows) if metric is mcat.DRIFT_SCORE else spec.features
            )
        elif dimension == "class":
            count *= _class_count(spec)
        elif dimension == "kpi":
            count *= len(spec.kpis)
        elif dimension == "method":
            count *= len(spec.multivariate_methods)
        elif dimension == "function_name":
            count *= len(metric.emitted_by)
    return count


def _task_has(metric: Metric, spec: MonitoringSpec) -> bool:
    """Only metrics the catalogue gives the spec's task are sent."""
    return metric.applies_to(spec.task)


def _method_minimum(spec: MonitoringSpec, method: str) -> int:
    """Rows a window needs before a multivariate method gives a score."""
    if method == "domain_classifier":
        return max(MIN_CLASSIFIER_ROWS, spec.drift.min_sample_size)
    return spec.drift.min_sample_size


def _drift_window_share(spec: MonitoringSpec, metric: Metric, traffic: Traffic, hours: float) -> float:
    """1 when a window of `hours` sends `metric` every run at this traffic, else 0."""
    if traffic.history_hours is not None:
        hours = min(hours, traffic.history_hours)
    rows = traffic.predictions / HOURS_PER_MONTH * hours
    labels = traffic.labels / HOURS_PER_MONTH * hours
    if rows <= 0:
        return 0.0  # an empty window sends nothing (functions/drift/telemetry.py)
    if any(metric is m for m in NEEDS_ROWS):
        return 1.0
    if any(metric is m for m in NEEDS_LABELS):
        return 1.0 if labels >= 1 else 0.0
    if any(metric is m for m in NEEDS_LABELS_AT_MIN_SAMPLE):
        return 1.0 if labels >= spec.drift.min_sample_size else 0.0
    if metric.per == "method":  # multivariate: each method has its own minimum (modelwatch.drift.multivariate)
        methods = spec.multivariate_methods
        return sum(rows >= _method_minimum(spec, m) for m in methods) / len(methods) if methods else 0.0
    if any(metric is m for m in NEEDS_MIN_LABELED_ROWS):
        enough = labels >= spec.drift.min_labeled_rows and rows >= spec.drift.min_sample_size
        return 1.0 if enough else 0.0
    return 1.0 if rows >= spec.drift.min_sample_size else 0.0


def _drift_datapoints(spec: MonitoringSpec, traffic: Traffic) -> float:
    """Datapoints one drift run sends: every drift series its windows emit at this traffic."""
    return sum(
        _series_per_value(spec, metric, traffic) * _drift_window_share(spec, metric, traffic, window.hours)
        for metric in mcat.CATALOGUE.values()
        if metric.is_drift_metric and _task_has(metric, spec)
        for window in spec.drift.windows
        if sends_drift_series(spec, metric, window.name)
    )


def metric_series(
    spec: MonitoringSpec, traffic: Traffic, footprint: Mapping[str, Any], invocations: Mapping[str, float]
) -> dict[str, float]:
    """Billed metric-months per catalogued metric: series x share of the month's hours sent."""
    series: dict[str, float] = {}
    cold_starts = traffic.requests_per_month / 1e6 * footprint["assumptions"]["cold_starts_per_million_requests"]
    for metric in mcat.CATALOGUE.values():
        emitters = [e for e in metric.emitted_by if e in fcat.FUNCTIONS]
        if not emitters or not _task_has(metric, spec):
            continue  # metric math over the API's own metrics is free
        if metric.only_when_nonzero:  # failures and input problems: none on clean traffic
            series[metric.name] = 0.0
            continue
        per_value = _series_per_value(spec, metric, traffic)
        if metric.is_drift_metric:
            shares = [
                _drift_window_share(spec, metric, traffic, w.hours)
                for w in spec.drift.windows
                if sends_drift_series(spec, metric, w.name)
            ]
            series[metric.name] = per_value * sum(shares)
            continue
        if metric is mcat.COLD_START:
            share = _share_of_hours(cold_starts)
        elif any(metric is m for m in ON_TRAFFIC_HOURS):
            share = _share_of_hours(invocations[fcat.PREDICT.name])
        elif any(metric is m for m in ON_EVALUATION):
            share = _share_of_hours(retraining_runs(spec, footprint) if _retraining_trains(spec, traffic) else 0.0)
        else:
            share = max(_share_of_hours(invocations[e]) for e in emitters)
        series[metric.name] = per_value * share
    return series


# --- alarms -----------------------------------------------------------------------------------
def alarms_from_plan(spec: MonitoringSpec) -> tuple[int, int]:
    """(alarms, alarm metrics) the stack creates: the plan's, each function's errors and
    throttles, each dead-letter queue, each capture subscription and the delivery path's own
    failures (modelwatch_infra.alerting).
    Metric math is billed per metric it reads."""
    plan = planned_alarms(spec)
    planned_metrics = sum(len(p.math.inputs) if p.math is not None else 1 for p in plan)
    per_function = 2 * len(fcat.FUNCTIONS)
    # One per asynchronously invoked function, plus the delivering service's own: the schedule
    # target's (EventBridge) and the topic subscription's (SNS).
    dead_letters = sum(int(f.asynchronous) + int(f.invocation in ("schedule", "sns")) for f in fcat.FUNCTIONS.values())
    # Delivery errors and throttling of each capture subscription (one per API function's logs).
    subscriptions = 2 * len(fcat.API_ROUTES)
    # The delivery path's own failures (modelwatch.catalog.delivery): each asynchronous function's
    # DeadLetterErrors, each state machine's failed executions, the retraining starts' dead letters.
    delivery_path = sum(int(f.asynchronous) for f in fcat.FUNCTIONS.values()) + len(delivery.STATE_MACHINES) + 1
    delivery_path += 1  # the smoke alarm `modelwatch smoke` sets (its metric is never sent)
    alarms = len(plan) + per_function + dead_letters + subscriptions + delivery_path
    return alarms, planned_metrics + per_function + dead_letters + subscriptions + delivery_path


def alarms_from_template(template: Mapping[str, Any]) -> tuple[int, int]:
    """(alarms, alarm metrics) of a synthesized template."""
    alarms = metrics = 0
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        alarms += 1
        queries = resource.get("Properties", {}).get("Metrics") or []
        metrics += max(1, sum(1 for q in queries if "MetricStat" in q))
    return alarms, metrics


def read_template(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


# --- the month --------------------------------------------------------------------------------
def _traces(invocations: float, footprint_prices: Mapping[str, Any]) -> float:
    """Traces X-Ray records under the default rule: the first request each second, then a share."""
    reservoir = footprint_prices["reservoir_per_second"] * SECONDS_PER_MONTH
    return min(invocations, reservoir) + footprint_prices["fixed_rate"] * max(0.0, invocations - reservoir)


def monthly_usage(
    spec: MonitoringSpec,
    traffic: Traffic,
    template: Mapping[str, Any] | None = None,
    footprint: Mapping[str, Any] | None = None,
    prices: Mapping[str, Any] | None = None,
) -> MonthlyUsage:
    footprint = footprint or load_footprint()
    prices = prices or load_prices()
    usage = MonthlyUsage()
    invocations = function_invocations(spec, traffic, footprint)
    usage.invocations = invocations
    logs, durations = footprint["log_bytes"], footprint["duration_ms"]
    idle = traffic.requests_per_month <= 0
    extra_records = max(0.0, traffic.records_per_request - 1)
    for name, definition in fcat.FUNCTIONS.items():
        count = invocations[name]
        milliseconds = _per_function(durations["per_invocation"], name, durations["default_per_invocation"])
        if definition is fcat.DRIFT and idle:
            milliseconds = durations["drift_idle"]
        usage.gb_seconds[name] = count * milliseconds / 1000 * definition.memory_mb / 1024
        logged = _per_function(logs["per_invocation"], name, logs["default_per_invocation"])
        if definition is fcat.PREDICT:
            logged += logs["predict_per_extra_record"] * extra_records
            # Records left out of the capture sample print no capture line.
            unsampled = 1.0 - spec.capture.sample_rate
            logged -= unsampled * logs["capture_per_record"] * traffic.records_per_request
        if definition is fcat.FEEDBACK:  # each piece is logged (the capture path stores it)
            logged += logs["feedback_per_extra_item"] * max(0.0, traffic.labels_per_feedback_request - 1)
        if definition is fcat.DRIFT:
            logged = (
                len(spec.drift.windows) * logs["drift_per_window_line"]
                + _drift_datapoints(spec, traffic) * logs["emf_single_metric_document"]
            )
        usage.log_bytes[name] = count * (logged + logs["lambda_platform_per_invocation"])
        if definition.snap_start and traffic.snap_start:
            memory_gb = definition.memory_mb / 1024
            published = footprint["assumptions"]["published_versions"]
            usage.snapstart_cached_gb_seconds += memory_gb * SECONDS_PER_MONTH * published
            cold = traffic.requests_per_month / 1e6 * footprint["assumptions"]["cold_starts_per_million_requests"]
            usage.snapstart_restored_gb += memory_gb * cold
        traced = definition.traced_by_default or traffic.trace_background
        if traced:
            usage.xray_traces += _traces(count, prices["xray"])
    api_requests = sum(invocations[f.name] for f in fcat.API_ROUTES.values())
    usage.api_requests = api_requests
    usage.log_bytes["api-access-log"] = api_requests * logs["api_access_log_per_request"]
    if traffic.api_detailed_metrics:
        # Per route: Count, 4xx, 5xx, Latency, IntegrationLatency, DataProcessed (API Gateway's list).
        usage.api_route_metrics = 6 * len(fcat.API_ROUTES)
    _s3(spec, traffic, footprint, usage)
    usage.metric_series = metric_series(spec, traffic, footprint, invocations)
    usage.alarms, usage.alarm_metrics = alarms_from_template(template) if template else alarms_from_plan(spec)
    if template:
        usage.kms_keys = sum(1 for r in template.get("Resources", {}).values() if r.get("Type") == "AWS::KMS::Key")
    runs = retraining_runs(spec, footprint)
    usage.state_transitions = runs * (len(_retraining_states()) + 1)  # every state, plus the start
    usage.sns_publishes = invocations[fcat.NOTIFY.name] + runs
    usage.secret_calls = invocations[fcat.NOTIFY.name]  # the notifier reads the webhook per cold start at most
    return usage


def _s3(spec: MonitoringSpec, traffic: Traffic, footprint: Mapping[str, Any], usage: MonthlyUsage) -> None:
    """S3 requests from each function's catalogued reads and writes: one request per object of each
    area it writes (quarantine only on rejects) and of each area it reads per object it handles
    (the model registry is cached); the drift check's by its windows; retraining's by its lookback."""
    invocations = usage.invocations
    objects = capture_deliveries(spec, traffic, footprint)  # capture objects, and a profile and join index each
    label_objects = label_deliveries(traffic, footprint)
    for name, definition in fcat.FUNCTIONS.items():
        if definition in (fcat.DRIFT, fcat.RETRAIN, fcat.PREDICT):
            continue  # below: by their windows and lookback; predict reads the cached registry only
        writes = [a for a in definition.writes if a not in OCCASIONAL_WRITES]
        reads = [a for a in definition.reads if a.bucket == "data" and a not in OCCASIONAL_READS]
        if definition is fcat.CAPTURE_FUNCTION:
            per_object = [a for a in writes if a not in PER_LABEL_DELIVERY]
            label_writes = sum(PER_LABEL_DELIVERY.get(a, 0) for a in writes)
            usage.s3_puts[name] = objects * len(per_object) + label_objects * label_writes
            usage.s3_gets[name] = objects * len(reads)
            continue
        usage.s3_puts[name] = invocations[name] * len(writes)
        usage.s3_gets[name] = invocations[name] * len(reads)
    drift_runs = invocations[fcat.DRIFT.name]
    drift = footprint["drift"]
    longest = max(w.hours for w in spec.drift.windows)
    traffic_hours = HOURS_PER_MONTH * _share_of_hours(traffic.requests_per_month)
    label_hours = HOURS_PER_MONTH * _share_of_hours(traffic.labels)
    usage.s3_lists[fcat.DRIFT.name] = drift_runs * drift["lists_per_run"]
    # A run reads each hour's rolled-up profile of its longest window (hours with traffic) and
    # each labelled hour's joined rollup; each partial profile once, when its hour is rolled up;
    # and, when an hour's labels change (here: once, the hour they arrive in), its join indexes
    # and labels objects, listed once each.
    history = longest if traffic.history_hours is None else min(longest, traffic.history_hours)
    hours_with_data = history * _share_of_hours(traffic.requests_per_month)
    hours_with_labels = history * _share_of_hours(traffic.labels)
    usage.s3_gets[fcat.DRIFT.name] = (
        drift_runs * (drift["gets_per_run"] + hours_with_data + hours_with_labels) + 2 * objects + label_objects
    )
    usage.s3_lists[fcat.DRIFT.name] += 2 * label_hours
    # Each run writes its reports per window, and the labelled-rows tally when an hour's labels
    # changed; an hour with traffic is rolled up once, an hour with new labels joined once.
    usage.s3_puts[fcat.DRIFT.name] = (
        drift_runs * drift["files_per_report"] * len(spec.drift.windows) + traffic_hours + 2 * label_hours
    )
    # Retraining reads the capture objects and labels of its lookback, per run.
    lookback = min(spec.retraining.lookback_hours, HOURS_PER_MONTH) / HOURS_PER_MONTH
    runs = retraining_runs(spec, footprint)
    usage.s3_gets[fcat.RETRAIN.name] = runs * lookback * (objects + label_objects)
    usage.s3_lists[fcat.RETRAIN.name] = runs * spec.retraining.lookback_hours * 2  # capture and labels, per hour
    sizes = footprint["assumptions"]["stored_object_bytes"]
    capture_months = traffic.capture_retention_days / 30
    monthly_bytes = objects * (sizes["capture"] + sizes["join"]) * capture_months
    monthly_bytes += objects * sizes["profile"] * 12  # profiles are kept: a year's worth
    monthly_bytes += traffic.labels * sizes["label"] * capture_months
    monthly_bytes += drift_runs * drift["files_per_report"] * len(spec.drift.windows) * sizes["report"] * 12
    usage.s3_stored_gb = monthly_bytes / 1e9
