"""A month of ModelWatch in billable units: invocations and GB-seconds per function, bytes logged,
S3 requests by kind, custom metric series, alarm metrics, traces, state transitions.

Every count is derived from the sources the stack and the functions use, so nothing is kept twice:
- functions, their memory, invocation, reads and writes, SnapStart: `modelwatch.catalog.functions`
- metric series (name x dimensions) and who emits them: `modelwatch.catalog.metrics` with the spec
  (windows, features, KPIs, classes, multivariate methods)
- alarms: `modelwatch.alerts.plan.planned_alarms` plus the stack's per-function alarms (or the
  synthesized template's alarms, when given)
- the capture path's S3 areas and how long each is kept: `modelwatch.catalog.layout`; the
  delivery stream's buffer: the spec's `[capture]`
A function, metric or alarm added to its catalogue is counted here without an edit; what is not
known from them (bytes logged per invocation, wall time, object sizes) is read from `footprint.toml`.

The capture path: the predict and feedback functions print one line per request; a Logs
subscription filter sends them to one Firehose delivery stream, which writes one S3 object per
buffer (`[capture] buffer_seconds` or `buffer_mib`, whichever fills first); each object's S3
notification invokes the capture function once. So the objects, invocations and S3 requests of an
hour are bounded by the buffer whatever the traffic, and nothing depends on how Logs batches its
deliveries: AWS documents no batch size, so every Logs record is taken to carry one log event
(the worst case for Firehose's per-record rounding; any batching only lowers the bill).
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from modelwatch.alerts.consumed import sends_drift_series, sends_metric
from modelwatch.alerts.plan import function_alarms, planned_alarms
from modelwatch.catalog import delivery
from modelwatch.catalog import functions as fcat
from modelwatch.catalog import metrics as mcat
from modelwatch.catalog.functions import DRIFT_CHECK_PERIOD_SECONDS
from modelwatch.catalog.layout import (
    CAPTURE,
    DELIVERIES,
    DELIVERY_ERRORS,
    FEEDBACK_FILED,
    JOINS,
    LABELS,
    PROFILES,
    PROFILES_HOURLY,
    QUARANTINE,
    REPORTS,
    Area,
)
from modelwatch.catalog.metrics import Metric
from modelwatch.drift.multivariate import MIN_CLASSIFIER_ROWS
from modelwatch.jobs.retraining_machine import (
    PROMOTE_STEPS,
    RETRAIN_STEPS,
    STEPS_WITHOUT_TRAINING,
    retraining_definition,
    run_limit,
)
from modelwatch.serving.capture import MAX_LINE_BYTES
from modelwatch.sketches import SKETCH_K
from modelwatch.spec.models import DriftMethod, MonitoringSpec

HOURS_PER_MONTH = 730.0  # AWS bills a month as 730 hours
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
WEEKS_PER_MONTH = HOURS_PER_MONTH / (7 * 24)
DEFAULT_LABEL_SHARE = 0.10  # labels at 10% of predictions unless --labels-per-month says otherwise
MIB = 1024 * 1024
# The stack's customer-managed KMS keys when no template is given: the alerts topics' key and the
# inputs' key (log groups and queues holding raw inputs); tests/infra/test_cost_template.py holds
# it to the synthesized template. (Issue 14's "one key" merges them: set this to 1 with it.)
CUSTOMER_MANAGED_KEYS = 1
# Lambda deactivates a SnapStart version after this many days without an invocation, and bills
# its cached snapshot only while it is active (README, "SnapStart and idle APIs").
SNAPSTART_INACTIVE_AFTER_DAYS = 14
# An area kept until someone deletes it (profiles, rollups, reports) is billed for a year of it.
MONTHS_KEPT_WITHOUT_RETENTION = 12
# Model versions a delivery object's capture records belong to: the one served (two only while a
# promotion is picked up, within [serving] pointer_ttl_seconds).
SERVED_VERSIONS = 1

# Sent by the hourly drift run only for an hour that had traffic (functions/drift/telemetry.py):
# an hour with predictions, 31 hours on.
ON_TRAFFIC_HOURS: tuple[Metric, ...] = (mcat.CAPTURES_MISSING,)
# Likewise for an hour that received feedback (its feedback accounting).
ON_FEEDBACK_HOURS: tuple[Metric, ...] = (mcat.FEEDBACK_MISSING,)
# Sent once per retraining run that trains and evaluates a challenger (one of the two).
ON_EVALUATION: tuple[Metric, ...] = (mcat.RETRAINING_PROMOTE, mcat.RETRAINING_REJECT)
# Areas a function writes only now and then, not once per object it handles: rejected or
# unreadable input (quarantine), and the ".late" marker the capture function leaves beside an
# hour's rollup when a capture object arrives after that hour was rolled up.
OCCASIONAL_WRITES = (QUARANTINE, PROFILES_HOURLY)
# A delivery object's feedback lines write, per prediction hour they hold, the labels object and
# the hour's "changed" marker (modelwatch.data_access.label_store), and per hour received their
# tally for the accounting (modelwatch.data_access.feedback_receipts; counted per prediction hour,
# which errs high); every other area the capture function writes is written once per (model
# version, hour) group of its capture records.
PER_LABEL_DELIVERY = {LABELS: 2, FEEDBACK_FILED: 1}
# Areas a function reads only now and then, not per delivery: stored capture objects for a
# backfill, and what the delivery stream could not process (counted for its alarm).
OCCASIONAL_READS = (CAPTURE, DELIVERY_ERRORS)
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
    architecture: str = "arm64"
    snap_start: bool = True
    # A month without a request: "steady" (the predict function's SnapStart version went inactive
    # 14 days after its last invocation, so its snapshot is not billed), or "first" (the month the
    # traffic stopped: the snapshot is billed for up to 14 more days).
    idle_month: Literal["steady", "first"] = "steady"
    dashboard: bool = True
    log_retention_days: int = 30
    capture_retention_days: int = 90
    # X-Ray on the API functions (FunctionDefinition.traced_by_default). Issue 14 makes tracing
    # opt-in, off by default; until that switch reaches the stack this field is it.
    trace_api: bool = False
    trace_background: bool = False  # X-Ray on functions off the API path (the stack's default: off)
    # Lambda's START, END and REPORT lines in every function's log group. Issue 14 turns them off
    # by default; until that switch reaches the stack this field is it.
    platform_log_lines: bool = False
    api_detailed_metrics: bool = False  # per-route API metrics, billed as custom metrics
    access_log_fields: Literal["lean", "full"] = "lean"  # context accessLogFields
    alarm_each_function: bool = False  # context alarmEachFunction: Errors and Throttles on every function
    # Customer-managed keys when no template is given; None: the stack's (CUSTOMER_MANAGED_KEYS).
    kms_keys: int | None = None
    # Years since the keys were created; None: from the third year on (each key's first two
    # rotations billed: the steady state).
    key_age_years: float | None = None
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


@dataclass(frozen=True)
class DeliveryStream:
    """A month of the delivery stream and what its objects make the capture function do (none:
    a month without a line)."""

    capture_lines: float = 0.0  # lines the predict function prints for capture (one per request, or more)
    feedback_lines: float = 0.0  # one per feedback request
    delivered_bytes: float = 0.0  # written to deliveries/: every line and its newline
    billed_bytes: float = 0.0  # Firehose ingestion: each Logs record rounded up to the 5 KB increment
    decompressed_bytes: float = 0.0  # what the stream's CloudWatch Logs decompression reads
    traffic_hours: float = 0.0  # hours of the month with at least one line
    objects: float = 0.0  # one PUT by the stream, one S3 notification, one capture invocation each
    records_per_object: float = 0.0  # capture records and feedback pieces (what the capture function handles)
    capture_groups: float = 0.0  # (model version, record hour): capture object, partial profile, join index each
    label_groups: float = 0.0  # (prediction hour): a labels object and that hour's "changed" marker each
    captured_records: float = 0.0

    @property
    def lines(self) -> float:
        """Logs records, one log event each (the worst case: AWS documents no batch size)."""
        return self.capture_lines + self.feedback_lines

    @property
    def objects_per_traffic_hour(self) -> float:
        return self.objects / self.traffic_hours if self.traffic_hours else 0.0

    @property
    def records_per_capture_group(self) -> float:
        return self.captured_records / self.capture_groups if self.capture_groups else 0.0


@dataclass
class MonthlyUsage:
    invocations: dict[str, float] = field(default_factory=dict)
    gb_seconds: dict[str, float] = field(default_factory=dict)
    log_bytes: dict[str, float] = field(default_factory=dict)  # per log group: a function, or the API's access log
    s3_puts: dict[str, float] = field(default_factory=dict)  # PUT and LIST (one price), per function
    s3_lists: dict[str, float] = field(default_factory=dict)
    s3_gets: dict[str, float] = field(default_factory=dict)
    s3_stored_gb: dict[str, float] = field(default_factory=dict)  # per area, steady state (GB-months a month)
    s3_notifications: float = 0.0  # delivery objects' event notifications to the capture function (free)
    metric_series: dict[str, float] = field(default_factory=dict)  # metric -> series (billed metric-months)
    alarms: int = 0
    alarm_metrics: int = 0
    dashboards: int = 1  # modelwatch_infra.dashboard: one per stack
    # Customer-managed keys, and those with automatic rotation; from the template's AWS::KMS::Key
    # resources when one is given.
    kms_keys: int = CUSTOMER_MANAGED_KEYS
    kms_rotating_keys: int = CUSTOMER_MANAGED_KEYS
    kms_rotations_billed: int = 0  # per rotating key
    api_requests: float = 0.0
    xray_traces: float = 0.0
    state_transitions: float = 0.0
    sns_publishes: float = 0.0
    secret_calls: float = 0.0
    secrets: int = 1
    snapstart_cached_gb_seconds: float = 0.0
    snapstart_restored_gb: float = 0.0
    snapstart_active_share: float = 0.0  # of the month, the predict function's version is active
    api_route_metrics: float = 0.0
    stream: DeliveryStream = field(default_factory=DeliveryStream)

    @property
    def custom_metrics(self) -> float:
        return sum(self.metric_series.values()) + self.api_route_metrics


# --- the capture path ------------------------------------------------------------------------
def _fitted(coefficients: list[float], x: float) -> float:
    """a + b * x, footprint's fits."""
    return coefficients[0] + coefficients[1] * x


def profile_bytes(records: float, footprint: Mapping[str, Any]) -> float:
    """A partial profile of `records` records: exact values up to the sketch's limit, then a
    t-digest (footprint's [capture_object] fits, one each side of SKETCH_K)."""
    sizes = footprint["capture_object"]
    return _fitted(sizes["profile_bytes_exact" if records <= SKETCH_K else "profile_bytes_sketch"], records)


def firehose_billed_bytes(record_bytes: float, prices: Mapping[str, Any]) -> float:
    """What Firehose bills for one record: its size rounded up to the next increment."""
    increment = prices["firehose"]["ingestion_increment_bytes"]
    return math.ceil(record_bytes / increment) * increment


def objects_per_hour(spec: MonitoringSpec, lines: float, delivered_bytes: float) -> float:
    """Objects the delivery stream writes in an hour with traffic: one each time the buffer's size
    fills, and one per buffer interval while lines keep coming. An interval starts with the first
    line into an empty buffer, so a flush is followed by the wait for the next line: with lines
    arriving at random over the hour (the model's traffic), their mean spacing, so an object every
    buffer_seconds + 3600 / lines seconds on average (never more than 3600 / buffer_seconds, nor
    one per line). buffer_seconds = 0 is Firehose's "zero
    buffering": each record is delivered as it arrives, so at most one object per record (each a
    line, in the worst case)."""
    if lines <= 0:
        return 0.0
    by_size = math.ceil(delivered_bytes / (spec.capture.buffer_mib * MIB))
    seconds = spec.capture.buffer_seconds
    by_time = lines if seconds == 0 else min(3600 / (seconds + 3600 / lines), lines)
    return max(by_size, by_time)


def delivery_stream(
    spec: MonitoringSpec, traffic: Traffic, footprint: Mapping[str, Any], prices: Mapping[str, Any]
) -> DeliveryStream:
    """The delivery stream's month: its lines, the bytes Firehose bills and writes, its objects
    (bounded by the buffer in every hour with traffic, none in an hour without) and what the
    capture function writes per object."""
    sizes, record_fit = footprint["capture_object"], footprint["logs_record"]
    captured_requests = traffic.requests_per_month * _captured_share(spec, traffic)
    captured_records = traffic.predictions * spec.capture.sample_rate
    # A request's sampled records share its capture line, split under the line limit.
    per_request = captured_records / captured_requests if captured_requests else 0.0
    request_bytes = sizes["capture_line_bytes"] + max(0.0, per_request - 1) * sizes["capture_record_bytes"]
    lines_per_request = max(1, math.ceil(request_bytes / MAX_LINE_BYTES))
    capture_line = request_bytes / lines_per_request
    capture_lines = captured_requests * lines_per_request
    feedback_lines = traffic.labels / traffic.labels_per_feedback_request
    feedback_line = sizes["label_line_bytes"] + (traffic.labels_per_feedback_request - 1) * sizes["label_record_bytes"]
    delivered = capture_lines * capture_line + feedback_lines * feedback_line
    billed = capture_lines * firehose_billed_bytes(_fitted(record_fit["gzip_bytes"], capture_line), prices)
    billed += feedback_lines * firehose_billed_bytes(_fitted(record_fit["gzip_bytes"], feedback_line), prices)
    decompressed = capture_lines * _fitted(record_fit["raw_bytes"], capture_line)
    decompressed += feedback_lines * _fitted(record_fit["raw_bytes"], feedback_line)

    lines = capture_lines + feedback_lines
    traffic_hours = HOURS_PER_MONTH * _share_of_hours(lines)
    if traffic_hours <= 0:
        return DeliveryStream()
    per_hour = objects_per_hour(spec, lines / traffic_hours, delivered / traffic_hours)
    objects = per_hour * traffic_hours
    # One object a traffic hour straddles the hour's boundary (its lines are spread in time), so
    # its records fall in two hours: a share 1 / objects-an-hour of objects, buffer_seconds / 3600
    # while the time bound decides. A group needs a line, so never more groups than lines.
    straddle = 1 / per_hour
    capture_per_object = capture_lines / objects
    feedback_per_object = feedback_lines / objects
    capture_groups = objects * min(capture_per_object, SERVED_VERSIONS * (1 + straddle))
    label_hours = footprint["assumptions"]["label_prediction_hours_per_object"]
    label_groups = objects * min(feedback_per_object, label_hours * (1 + straddle))
    return DeliveryStream(
        capture_lines=capture_lines,
        feedback_lines=feedback_lines,
        delivered_bytes=delivered,
        billed_bytes=billed,
        decompressed_bytes=decompressed,
        traffic_hours=traffic_hours,
        objects=objects,
        records_per_object=(captured_records + traffic.labels) / objects,
        capture_groups=capture_groups,
        label_groups=label_groups,
        captured_records=captured_records,
    )


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


def _retraining_states(spec: MonitoringSpec) -> list[dict[str, Any]]:
    definition = retraining_definition(
        fcat.RETRAIN.name, "topic", promote_arn=fcat.PROMOTE.name, timeout=run_limit(spec)
    )
    return list(definition["States"].values())


def function_invocations(
    spec: MonitoringSpec, traffic: Traffic, footprint: Mapping[str, Any], stream: DeliveryStream
) -> dict[str, float]:
    """Invocations a month of every catalogued function, by how it is invoked."""
    feedback_requests = traffic.labels / traffic.labels_per_feedback_request
    # A run that trains runs every step; one without enough labelled rows prepares and releases.
    trains = _retraining_trains(spec, traffic)
    runs = retraining_runs(spec, footprint)
    retraining_steps = {
        fcat.RETRAIN.name: runs * (len(RETRAIN_STEPS) if trains else 0),
        fcat.PROMOTE.name: runs * len(PROMOTE_STEPS if trains else STEPS_WITHOUT_TRAINING),
    }
    # Alarm changes reach the notifier only when something changes: nothing does without traffic.
    notifications = footprint["assumptions"]["notifications_per_month"] if traffic.requests_per_month > 0 else 0
    by_invocation = {
        "api": traffic.requests_per_month,
        # Each delivery object's S3 notification: one invocation that files, stores and profiles it.
        "delivery-stream": stream.objects,
        "schedule": SECONDS_PER_MONTH / DRIFT_CHECK_PERIOD_SECONDS,
        "sns": notifications,
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
        elif name in retraining_steps:
            counts[name] = retraining_steps[name]
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
        if not metric.is_drift_metric and not sends_metric(spec, metric):
            continue  # a property of its document only: nothing reads it as a metric ([metrics] series)
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
        elif any(metric is m for m in ON_FEEDBACK_HOURS):
            share = _share_of_hours(invocations[fcat.FEEDBACK.name])
        elif any(metric is m for m in ON_EVALUATION):
            share = _share_of_hours(retraining_runs(spec, footprint) if _retraining_trains(spec, traffic) else 0.0)
        else:
            share = max(_share_of_hours(invocations[e]) for e in emitters)
        series[metric.name] = per_value * share
    return series


# --- alarms -----------------------------------------------------------------------------------
def alarms_from_plan(spec: MonitoringSpec, each_function: bool = False) -> tuple[int, int]:
    """(alarms, alarm metrics) the stack creates with its default context: the plan's (a retraining
    trigger that judges what a rule judges is that rule's alarm), the functions' errors and
    throttles where no other alarm covers them (`function_alarms`), each dead-letter queue, the
    capture path's delivery failures and the delivery path's own failures
    (modelwatch_infra.alerting). Metric math is billed per metric it reads."""
    plan = planned_alarms(spec)
    planned_metrics = sum(len(p.math.inputs) if p.math is not None else 1 for p in plan)
    per_function = sum(len(kinds) for kinds in function_alarms(spec, each_function).values())
    # One per asynchronously invoked function, plus the delivering service's own: the schedule
    # target's (EventBridge) and the topic subscription's (SNS).
    dead_letters = sum(int(f.asynchronous) + int(f.invocation in ("schedule", "sns")) for f in fcat.FUNCTIONS.values())
    # The capture path's first hop: one alarm, on one metric, of the delivery stream's freshness.
    capture_path = 1
    # The delivery path's own failures (modelwatch.catalog.delivery): each asynchronous function's
    # DeadLetterErrors, each state machine's failed executions, the retraining starts' dead letters.
    delivery_path = sum(int(f.asynchronous) for f in fcat.FUNCTIONS.values()) + len(delivery.STATE_MACHINES) + 1
    delivery_path += 1  # the smoke alarm `modelwatch smoke` sets (its metric is never sent)
    alarms = len(plan) + per_function + dead_letters + capture_path + delivery_path
    return alarms, planned_metrics + per_function + dead_letters + capture_path + delivery_path


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


def snapstart_active_share(traffic: Traffic) -> float:
    """Share of the month the predict function's SnapStart version is active, so its snapshot is
    billed: Lambda deactivates it after SNAPSTART_INACTIVE_AFTER_DAYS without an invocation. With
    requests at random, each gap longer than that leaves it inactive for the rest of the gap:
    exp(-rate * days) of the time. Without requests: none in a steady idle month, the last
    SNAPSTART_INACTIVE_AFTER_DAYS in the first one."""
    if traffic.requests_per_month > 0:
        per_day = traffic.requests_per_month / DAYS_PER_MONTH
        return 1.0 - math.exp(-per_day * SNAPSTART_INACTIVE_AFTER_DAYS)
    return SNAPSTART_INACTIVE_AFTER_DAYS / DAYS_PER_MONTH if traffic.idle_month == "first" else 0.0


def _keys(traffic: Traffic, template: Mapping[str, Any] | None, prices: Mapping[str, Any]) -> tuple[int, int, int]:
    """(keys, keys rotating, rotations billed per rotating key): from the template's AWS::KMS::Key
    resources when given, else the stack's declared keys (each rotates: cdk-nag's AwsSolutions-KMS5)."""
    if template:
        keys = [r for r in template.get("Resources", {}).values() if r.get("Type") == "AWS::KMS::Key"]
        count = len(keys)
        rotating = sum(1 for k in keys if k.get("Properties", {}).get("EnableKeyRotation"))
    else:
        count = rotating = CUSTOMER_MANAGED_KEYS if traffic.kms_keys is None else traffic.kms_keys
    most = prices["kms"]["rotations_billed"]
    rotations = most if traffic.key_age_years is None else min(most, math.floor(traffic.key_age_years))
    return count, rotating, rotations


def billed_milliseconds(measured_ms: float, memory_mb: int, durations: Mapping[str, Any]) -> float:
    """What Lambda bills for an invocation measured at `measured_ms` on one full core here: the
    work stretched to the function's share of a vCPU (memory / full_vcpu_at_mb, at most one), the
    runtime's own share added, rounded up to Lambda's 1 ms."""
    stretch = max(1.0, durations["full_vcpu_at_mb"] / memory_mb)
    return float(math.ceil(measured_ms * stretch + durations["runtime_overhead_ms"]))


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
    stream = delivery_stream(spec, traffic, footprint, prices)
    usage.stream = stream
    invocations = function_invocations(spec, traffic, footprint, stream)
    usage.invocations = invocations
    logs, durations = footprint["log_bytes"], footprint["duration_ms"]
    idle = traffic.requests_per_month <= 0
    extra_records = max(0.0, traffic.records_per_request - 1)
    platform = logs["lambda_platform_per_invocation"] if traffic.platform_log_lines else 0.0
    for name, definition in fcat.FUNCTIONS.items():
        count = invocations[name]
        milliseconds = _per_function(durations["per_invocation"], name, durations["default_per_invocation"])
        if definition is fcat.DRIFT and idle:
            milliseconds = durations["drift_idle"]
        if definition is fcat.CAPTURE_FUNCTION:  # a whole buffer an invocation: its records' work
            further = max(0.0, stream.records_per_object - 1)
            milliseconds += footprint["capture_object"]["work_ms_per_record"] * further
        milliseconds = billed_milliseconds(milliseconds, definition.memory_mb, durations)
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
                + logs["drift_accounting_lines"]
                + _drift_datapoints(spec, traffic) * logs["emf_single_metric_document"]
            )
        usage.log_bytes[name] = count * (logged + platform)
        if definition.snap_start and traffic.snap_start:
            memory_gb = definition.memory_mb / 1024
            published = footprint["assumptions"]["published_versions"]
            usage.snapstart_active_share = snapstart_active_share(traffic)
            usage.snapstart_cached_gb_seconds += (
                memory_gb * SECONDS_PER_MONTH * published * usage.snapstart_active_share
            )
            cold = traffic.requests_per_month / 1e6 * footprint["assumptions"]["cold_starts_per_million_requests"]
            usage.snapstart_restored_gb += memory_gb * cold
        # The API functions' X-Ray is one switch, the background functions' another.
        traced = traffic.trace_api if definition.traced_by_default else traffic.trace_background
        if traced:
            usage.xray_traces += _traces(count, prices["xray"])
    api_requests = sum(invocations[f.name] for f in fcat.API_ROUTES.values())
    usage.api_requests = api_requests
    access_log = logs[
        "api_access_log_full_per_request" if traffic.access_log_fields == "full" else "api_access_log_per_request"
    ]
    usage.log_bytes["api-access-log"] = api_requests * access_log
    if traffic.api_detailed_metrics:
        # Per route: Count, 4xx, 5xx, Latency, IntegrationLatency, DataProcessed (API Gateway's
        # list), billed for the hours API Gateway sends them: those with requests.
        usage.api_route_metrics = 6 * len(fcat.API_ROUTES) * _share_of_hours(api_requests)
    _s3(spec, traffic, footprint, usage, stream)
    _stored(spec, traffic, footprint, usage, stream)
    usage.metric_series = metric_series(spec, traffic, footprint, invocations)
    usage.alarms, usage.alarm_metrics = (
        alarms_from_template(template) if template else alarms_from_plan(spec, traffic.alarm_each_function)
    )
    usage.dashboards = 1 if traffic.dashboard else 0
    usage.kms_keys, usage.kms_rotating_keys, usage.kms_rotations_billed = _keys(traffic, template, prices)
    runs = retraining_runs(spec, footprint)
    usage.state_transitions = runs * (len(_retraining_states(spec)) + 1)  # every state, plus the start
    usage.sns_publishes = invocations[fcat.NOTIFY.name] + runs
    # The secrets the functions' environments name: the Slack webhook (the team's), the request-id
    # key (always generated), the pseudonym key (generated when the spec hashes a feature).
    usage.secrets = 2 + ("hash" in spec.sensitive_features.values())
    # Read once per execution environment: the notifier per cold start at most, predict (before
    # each snapshot) and feedback per cold start.
    cold = footprint["assumptions"]["cold_starts_per_million_requests"] / 1e6
    usage.secret_calls = invocations[fcat.NOTIFY.name] + cold * (
        invocations[fcat.PREDICT.name] + invocations[fcat.FEEDBACK.name]
    )
    return usage


def _s3(
    spec: MonitoringSpec, traffic: Traffic, footprint: Mapping[str, Any], usage: MonthlyUsage, stream: DeliveryStream
) -> None:
    """S3 requests from each function's catalogued reads and writes: the capture function's per
    delivery object (each area it reads for it) and per group it files (each area it writes per
    group); the delivery stream's one PUT per object; the others' per invocation (quarantine only
    on rejects, the model registry cached); the drift check's by its windows; retraining's by its
    lookback. Capture objects and profiles an hour are bounded by the buffer, so these are too."""
    invocations = usage.invocations
    capture_groups, label_groups = stream.capture_groups, stream.label_groups
    usage.s3_puts["delivery-stream"] = stream.objects  # the stream's own writes, billed to the bucket
    usage.s3_notifications = stream.objects
    for name, definition in fcat.FUNCTIONS.items():
        if definition in (fcat.DRIFT, fcat.PREDICT):
            continue  # below: by their windows and lookback; predict reads the cached registry only
        writes = [a for a in definition.writes if a not in OCCASIONAL_WRITES]
        reads = [a for a in definition.reads if a.bucket == "data" and a not in OCCASIONAL_READS]
        if definition is fcat.CAPTURE_FUNCTION:
            per_group = [a for a in writes if a not in PER_LABEL_DELIVERY]
            label_writes = sum(PER_LABEL_DELIVERY.get(a, 0) for a in writes)
            usage.s3_puts[name] = capture_groups * len(per_group) + label_groups * label_writes
            usage.s3_gets[name] = invocations[name] * len(reads)  # the delivery object it is notified of
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
    # The accounting reads each tally of feedback pieces once, when its hour is reconciled.
    usage.s3_gets[fcat.DRIFT.name] = (
        drift_runs * (drift["gets_per_run"] + hours_with_data + hours_with_labels)
        + 2 * capture_groups
        + 2 * label_groups
    )
    # An hour's last labels reach S3 a buffer interval after they were sent, so the run at the
    # hour's end often joins the hour before they arrive, and the next run joins it again: the
    # share of labelled hours with a label in their last buffer_seconds plus the wait for a line.
    labels_per_hour = traffic.labels / label_hours if label_hours else 0.0
    spill_seconds = spec.capture.buffer_seconds + (3600 / labels_per_hour if labels_per_hour else 0.0)
    rejoined = label_hours * (1 - math.exp(-labels_per_hour * min(spill_seconds, 3600) / 3600))
    usage.s3_lists[fcat.DRIFT.name] += 2 * (label_hours + rejoined)
    # A join reads the hour's join indexes and labels objects: again for each hour joined again.
    groups_per_hour = (capture_groups / traffic_hours if traffic_hours else 0.0) + (
        label_groups / label_hours if label_hours else 0.0
    )
    usage.s3_gets[fcat.DRIFT.name] += rejoined * groups_per_hour
    # Each run writes its reports per window and the accounting's watermark, and the
    # labelled-rows tally when an hour's labels changed; an hour with traffic is rolled up once,
    # an hour with new labels joined once (and again when its last labels came after the run).
    usage.s3_puts[fcat.DRIFT.name] = (
        drift_runs * (drift["files_per_report"] * len(spec.drift.windows) + 1)
        + traffic_hours
        + 2 * (label_hours + rejoined)
    )
    # Retraining reads the capture objects and labels objects of its lookback, per run.
    lookback = min(spec.retraining.lookback_hours, HOURS_PER_MONTH) / HOURS_PER_MONTH
    runs = retraining_runs(spec, footprint)
    # (The promote function's Prepare step; the retrain function reads the prepared rows it stored.)
    usage.s3_gets[fcat.PROMOTE.name] += runs * lookback * (capture_groups + label_groups)
    usage.s3_lists[fcat.PROMOTE.name] = runs * spec.retraining.lookback_hours * 2  # capture and labels, per hour


def months_kept(area: Area, traffic: Traffic) -> float:
    """How many months of what an area receives are stored at once (the layout's retention)."""
    setting = traffic.capture_retention_days if area.retention_setting == "captureRetentionDays" else None
    days = area.kept_days(setting)
    return MONTHS_KEPT_WITHOUT_RETENTION if days is None else days / DAYS_PER_MONTH


def _stored(
    spec: MonitoringSpec, traffic: Traffic, footprint: Mapping[str, Any], usage: MonthlyUsage, stream: DeliveryStream
) -> None:
    """Steady-state storage per area: what a month writes there times the months it is kept.
    By record where objects hold records (deliveries, captures, join indexes, labels), by object
    where an object's size is not its records' (profiles, which stop growing past the sketch's
    exact limit; an hour's rollup). Priced as S3 Standard throughout (profiles past 30 days may
    move to Standard-IA, which S3 skips for objects under 128 KB: the model errs high)."""
    sizes = footprint["capture_object"]
    written = {
        DELIVERIES: stream.delivered_bytes,
        CAPTURE: stream.captured_records * sizes["capture_record_bytes"],
        JOINS: stream.captured_records * sizes["join_index_bytes_per_record"],
        LABELS: traffic.labels * sizes["label_record_bytes"],
        PROFILES: stream.capture_groups * profile_bytes(stream.records_per_capture_group, footprint),
    }
    capture_hours = HOURS_PER_MONTH * _share_of_hours(stream.capture_lines)
    if capture_hours:
        written[PROFILES_HOURLY] = capture_hours * profile_bytes(stream.captured_records / capture_hours, footprint)
    reports = usage.invocations[fcat.DRIFT.name] * footprint["drift"]["files_per_report"] * len(spec.drift.windows)
    written[REPORTS] = reports * footprint["assumptions"]["report_bytes"]
    usage.s3_stored_gb = {area.name: b * months_kept(area, traffic) / 1e9 for area, b in written.items() if b}
