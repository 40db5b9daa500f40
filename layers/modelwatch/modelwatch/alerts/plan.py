"""Every alarm the spec asks for, in one list the CDK stack deploys and the local runtime
evaluates: each [[alerts]] rule (one alarm per feature or KPI when its metric has that
dimension), which notifies the alerts topic, and the [retraining] metric triggers, which start
the retraining state machine. A metric CloudWatch computes with metric math (Api5xxRate) is
alarmed on its catalogue expression, which both the stack and the local runtime read.

A rule on a per-feature drift score ("a feature's DriftScore above t") is one alarm, not one per
feature: the same judgement on the highest score of any feature (MaxDriftScore), which the drift
check sends beside the per-feature series. One drift check then raises one alarm however many
features moved, and its notice names them from the check's drift.json (modelwatch.alerts.incident).

Each alarm belongs to an incident (`incident`): the alarms on one window of the drift check (and
the retraining triggers on it) are one incident, "drift-<window>"; any other alarm is its own.

One alarm per concern. A retraining trigger that judges exactly what an [[alerts]] rule already
judges (the same series, statistic, comparison, threshold, period and evaluation) is not a second
alarm: that rule's alarm starts retraining too (`retrains_on`; the stack's EventBridge rule and
the local runtime start the state machine on its change to ALARM). Only a trigger no rule covers
is an alarm of its own (action "retrain"), which starts retraining and tells nobody, since the
run's notice does. Likewise a function's errors and throttles are alarmed on their own only where
no other alarm already covers what they cost (`function_alarms`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from modelwatch.catalog.functions import DRIFT_CHECK_PERIOD_SECONDS, FUNCTIONS, FunctionDefinition
from modelwatch.catalog.metrics import (
    ACCOUNTING_HEARTBEAT,
    API_5XX_RATE,
    CAPTURE_FAILED,
    CAPTURES_MISSING,
    CATALOGUE,
    DRIFT_TRIGGERS,
    FEATURE_VALUE,
    FEEDBACK_MISSING,
    FOLDED_OVER_FEATURES,
    LAMBDA_ERRORS,
    LAMBDA_THROTTLES,
    MODEL_LOAD_FAILED,
    NEW_LABELED_ROWS,
    PERFORMANCE,
    WORST_SEGMENT_DRIFT_SHARE,
    Metric,
    MetricMath,
)
from modelwatch.spec.models import AlertRule, Comparison, MonitoringSpec

# "notify": tells the alerts topic (and starts retraining when it `retrains_on` a trigger);
# "retrain": a trigger no [[alerts]] rule covers, which only starts retraining.
Action = Literal["notify", "retrain"]


@dataclass(frozen=True)
class PlannedAlarm:
    name: str  # the rule's name, plus the feature or KPI it watches
    rule: AlertRule
    dimensions: dict[str, str]  # of the alarm's metric; none for metric math (its inputs have theirs)
    action: Action

    # The per-feature metric the spec's rule named, when this one alarm judges its highest value
    # over the features instead (FOLDED_OVER_FEATURES); `rule.metric` is then the folded metric.
    folded_from: str | None = None
    # The [retraining] triggers this alarm's judgement is: its change to ALARM starts retraining.
    retrains_on: tuple[AlertRule, ...] = ()
    # A metric AWS publishes (a dead-letter queue's), not the spec's namespace; None: the spec's.
    namespace: str | None = None

    @property
    def starts_retraining(self) -> bool:
        return bool(self.retrains_on)

    @property
    def math(self) -> MetricMath | None:
        """The metric math expression the alarm judges, when its metric is computed by one."""
        known = CATALOGUE.get(self.rule.metric)  # AWS's own metrics (dead letters) are not catalogued
        return known.math if known is not None else None

    @property
    def incident(self) -> str:
        """The incident its notices belong to: the drift check's window for the check's metrics,
        else the alarm itself."""
        return incident_of(self.rule.metric, self.dimensions.get("window"), self.name)


# A drift incident's key: "drift-<window>", and "drift-<window>:segments" for the segments' alarm,
# a concern of its own (a slice of traffic moved while the whole window may be within limits).
DRIFT_INCIDENT, SEGMENTS_INCIDENT = "drift-", ":segments"


def incident_of(metric: str, window: str | None, alarm: str) -> str:
    """ "drift-<window>" for a metric of the drift check's window ("drift-<window>:segments" for
    the worst segment's); the alarm's name otherwise."""
    known = CATALOGUE.get(metric)
    if known is not None and known.is_drift_metric and window:
        suffix = SEGMENTS_INCIDENT if metric == WORST_SEGMENT_DRIFT_SHARE.name else ""
        return f"{DRIFT_INCIDENT}{window}{suffix}"
    return alarm


def drift_window_of(incident: str) -> str | None:
    """The drift check's window a drift incident is about; None for any other incident."""
    if not incident.startswith(DRIFT_INCIDENT):
        return None
    return incident.removeprefix(DRIFT_INCIDENT).removesuffix(SEGMENTS_INCIDENT)


def _folded(rule: AlertRule) -> AlertRule | None:
    """The rule as one alarm on the highest value over the features, when that is the same
    judgement: the rule's highest value above a threshold is the highest over every feature's."""
    folded = FOLDED_OVER_FEATURES.get(rule.metric)
    greater = rule.comparison in ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold")
    if folded is None or rule.statistic != "Maximum" or not greater:
        return None
    return rule.model_copy(update={"metric": folded.name})


def _dimension_values(spec: MonitoringSpec, rule: AlertRule) -> list[dict[str, str]]:
    """One alarm per value of the metric's dimension: features, KPIs; else one."""
    dimension = CATALOGUE[rule.metric].per
    if dimension == "feature" and rule.metric != FEATURE_VALUE.name:
        return [{"feature": name} for name in spec.features]
    if dimension == "kpi":
        return [{"kpi": kpi.name} for kpi in spec.kpis]
    if dimension == "method":
        return [{"method": method} for method in spec.multivariate_methods]
    return [{}]


def _dimensions(spec: MonitoringSpec, rule: AlertRule, extra: dict[str, str]) -> dict[str, str]:
    if CATALOGUE[rule.metric].math is not None:
        return {}
    dimensions = {"service": spec.metrics.service, **extra}
    if CATALOGUE[rule.metric].is_drift_metric:
        dimensions["window"] = rule.window or spec.drift.windows[0].name
    return dimensions


def retraining_rules(spec: MonitoringSpec) -> list[AlertRule]:
    """The [retraining] metric triggers, as alarm rules on the drift check's metrics."""
    performance, drift, rows = spec.retraining.performance, spec.retraining.drift, spec.retraining.new_labeled_rows
    # (name, metric, statistic, comparison, threshold, what it means), for the triggers the spec sets
    triggers: list[tuple[str, str, str, Comparison, float, str]] = []
    if performance is not None:
        metric = PERFORMANCE[performance.metric].name
        if performance.above is not None:  # an error (lower is better): retrain when it rises
            meaning = f"{performance.metric} above {performance.above:g}"
            triggers.append(
                ("RetrainOnPerformance", metric, "Maximum", "GreaterThanThreshold", performance.above, meaning)
            )
        else:
            meaning = f"{performance.metric} below {performance.threshold:g}"
            triggers.append(
                ("RetrainOnPerformance", metric, "Minimum", "LessThanThreshold", performance.threshold, meaning)
            )
    if drift is not None:
        metric, meaning = DRIFT_TRIGGERS[drift.metric].name, f"{drift.metric} above {drift.above:g}"
        triggers.append(("RetrainOnDrift", metric, "Maximum", "GreaterThanThreshold", drift.above, meaning))
    if rows is not None:
        meaning = f"{rows} new labelled rows"
        triggers.append(
            ("RetrainOnNewData", NEW_LABELED_ROWS.name, "Maximum", "GreaterThanOrEqualToThreshold", rows, meaning)
        )
    return [
        AlertRule(
            name=name,
            metric=metric,
            statistic=statistic,
            comparison=comparison,
            threshold=threshold,
            description=f"Retrain: {meaning}",
            period_seconds=DRIFT_CHECK_PERIOD_SECONDS,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
            window=spec.retraining_window,
            severity="info",
        )
        for name, metric, statistic, comparison, threshold, meaning in triggers
    ]


def _any_at_all(metric: Metric, statistic: str, period_seconds: int, description: str) -> AlertRule:
    """A critical alarm on any nonzero value of a failure count (none is normal: missing is fine)."""
    return AlertRule(
        name=metric.name,
        metric=metric.name,
        statistic=statistic,
        comparison="GreaterThanThreshold",
        threshold=0,
        period_seconds=period_seconds,
        evaluation_periods=1,
        treat_missing_data="notBreaching",
        severity="critical",
        description=description,
    )


def _heartbeat(metric: Metric, period_seconds: int, description: str) -> AlertRule:
    """A critical alarm on a metric that must keep arriving: a period without it breaches (missing
    data is the failure). One period judged, so the evaluation range's older periods stand in for
    the one in progress: it fires once no datapoint came for two whole periods, not on one run
    that is late or failed once."""
    return AlertRule(
        name=metric.name,
        metric=metric.name,
        statistic="SampleCount",
        comparison="LessThanThreshold",
        threshold=1,
        period_seconds=period_seconds,
        evaluation_periods=1,
        treat_missing_data="breaching",
        severity="critical",
        description=description,
    )


def platform_rules(spec: MonitoringSpec) -> list[AlertRule]:
    """Alarms every deployment has, whatever its spec: a model version that fails to load (missing
    or tampered artifact) while the fleet keeps serving the last good one; captures or feedback lost
    on the way to S3 (the drift run's accounting), and that accounting no longer running; records
    the capture path could not store or process (unless the spec alarms on CaptureFailed itself)."""
    return [
        _any_at_all(
            MODEL_LOAD_FAILED,
            "Sum",
            60,
            "A model version failed to load (missing, or its hash does not match); the last good version is "
            "still served",
        ),
        _any_at_all(
            CAPTURE_FAILED,
            "Sum",
            300,
            "Captured records could not be stored, or the capture delivery stream could not process log batches "
            "(they wait under deliveries-errors/); `modelwatch redrive-captures` delivers them again",
        ),
        _any_at_all(
            CAPTURES_MISSING,
            "Maximum",
            DRIFT_CHECK_PERIOD_SECONDS,
            "Predictions were logged for capture but are not in capture/ after every delivery retry (the drift "
            "run's reconciliation of each settled hour): monitoring data was lost",
        ),
        _any_at_all(
            FEEDBACK_MISSING,
            "Maximum",
            DRIFT_CHECK_PERIOD_SECONDS,
            "Feedback was accepted (200) but is not under labels/ after every delivery retry (the drift run's "
            "reconciliation of each settled hour): labels or outcomes were lost",
        ),
        _heartbeat(
            ACCOUNTING_HEARTBEAT,
            DRIFT_CHECK_PERIOD_SECONDS,
            "Capture and feedback accounting has not finished a run for two hours (the drift function fails or is "
            "not scheduled): lost captures or feedback would go unreported until it catches up",
        ),
    ]


def segment_rules(spec: MonitoringSpec) -> list[AlertRule]:
    """With [[segments]]: one alarm for all of them, on the worst segment value's drift share
    (not an alarm, nor a metric, per segment value). Any drifted feature in any segment value,
    after the correction across segments x features, raises it; its notice names the segment
    values and their features from the window's drift.json."""
    if not spec.segments:
        return []
    return [
        AlertRule(
            name="SegmentDrift",
            metric=WORST_SEGMENT_DRIFT_SHARE.name,
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=0,
            period_seconds=DRIFT_CHECK_PERIOD_SECONDS,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
            window=spec.segment_window,
            severity="warning",
            description="A segment of traffic drifted: a feature moved within one slice (see the notice for which)",
        )
    ]


def _alarms_of(spec: MonitoringSpec, rule: AlertRule, action: Action) -> list[PlannedAlarm]:
    """The alarms one rule makes: one on the folded metric, or one per feature, KPI or method."""
    retrains_on = (rule,) if action == "retrain" else ()
    folded = _folded(rule)
    if folded is not None:
        dimensions = _dimensions(spec, folded, {})
        return [PlannedAlarm(rule.name, folded, dimensions, action, folded_from=rule.metric, retrains_on=retrains_on)]
    return [
        PlannedAlarm(
            f"{rule.name}{''.join(f'-{v}' for v in extra.values())}",
            rule,
            _dimensions(spec, rule, extra),
            action,
            retrains_on=retrains_on,
        )
        for extra in _dimension_values(spec, rule)
    ]


def _judgement(alarm: PlannedAlarm) -> tuple[object, ...]:
    """Everything that decides when an alarm goes to ALARM: two alarms with the same judgement
    change state together, so one of them is enough."""
    rule = alarm.rule
    return (
        rule.metric,
        tuple(sorted(alarm.dimensions.items())),
        rule.statistic,
        rule.comparison,
        rule.threshold,
        rule.period_seconds,
        rule.evaluation_periods,
        rule.datapoints_to_alarm,
        rule.treat_missing_data,
        rule.evaluate_low_sample_count_percentile,
    )


def planned_alarms(spec: MonitoringSpec) -> list[PlannedAlarm]:
    """The [[alerts]] rules' and the platform's alarms, then the retraining triggers: a trigger
    whose judgement a notifying alarm already makes is folded into that alarm (`retrains_on`)."""
    # A platform alarm the spec already makes (a rule of its own on the same metric) is not made twice.
    alarmed = {rule.metric for rule in spec.alerts}
    platform = [rule for rule in [*platform_rules(spec), *segment_rules(spec)] if rule.metric not in alarmed]
    planned = [alarm for rule in [*spec.alerts, *platform] for alarm in _alarms_of(spec, rule, "notify")]
    for rule in retraining_rules(spec):
        for trigger in _alarms_of(spec, rule, "retrain"):
            covering = next((i for i, a in enumerate(planned) if _judgement(a) == _judgement(trigger)), None)
            if covering is None:
                planned.append(trigger)
            else:
                alarm = planned[covering]
                planned[covering] = replace(alarm, retrains_on=(*alarm.retrains_on, rule))
    return planned


def failures_covered(spec: MonitoringSpec, definition: FunctionDefinition) -> bool:
    """Whether another alarm already tells of a function's errors and throttles, so that alarms on
    its own Errors and Throttles would only repeat it:
    - on the request path, a failed or throttled invocation is a 5xx answer (API Gateway answers a
      Lambda throttle with a 500), which the plan's alarm on Api5xxRate judges, when the spec has one;
    - an asynchronous function's failed or throttled event is retried, then kept in its dead-letter
      queue, whose alarm fires on each dead letter arriving (and DeadLetterErrors alarms when it cannot);
    - a state machine's function fails the execution, which alarms on ExecutionsFailed (and the
      retraining run's own notice says why)."""
    if definition.on_request_path:
        return any(alarm.rule.metric == API_5XX_RATE.name for alarm in planned_alarms(spec))
    return definition.asynchronous or definition.invocation == "state-machine"


def function_alarms(spec: MonitoringSpec, each_function: bool = False) -> dict[str, tuple[str, ...]]:
    """Function name -> the Lambda metrics (Errors, Throttles) alarmed on it: on every function
    with context alarmEachFunction, else only where `failures_covered` finds no other alarm."""
    return {
        name: (LAMBDA_ERRORS, LAMBDA_THROTTLES)
        for name, definition in sorted(FUNCTIONS.items())
        if each_function or not failures_covered(spec, definition)
    }


# --- dead-letter queues -------------------------------------------------------------------------
# A dead-letter alarm judges messages *arriving* (SQS's NumberOfMessagesSent, summed per period),
# not queue depth: while a first dead letter waits, depth stays above zero and the alarm stays in
# ALARM, so a second failure would send nothing. Arrivals breach only the periods they arrive in,
# the alarm returns to OK after (missing data does not breach), and every later failure is heard.
# SQS counts what is sent with SendMessage, which is how Lambda (an asynchronous function's
# dead-letter queue), SNS (a subscription's) and EventBridge (a target's) put their dead letters;
# only an SQS redrive policy's moves are not counted, and the stack uses none.
SQS_NAMESPACE = "AWS/SQS"
QUEUE_NAME_DIMENSION = "QueueName"
DEAD_LETTERS_SENT = "NumberOfMessagesSent"
DEAD_LETTER_PERIOD_SECONDS = 300


def dead_letter_alarm(queue: str, queue_name: str) -> PlannedAlarm:
    """The alarm on one dead-letter queue (`queue`: its name in the stack, e.g. a function's;
    `queue_name`: SQS's QueueName), which both the stack and the local runtime deploy."""
    rule = AlertRule(
        name=f"{queue}-DeadLetters",
        metric=DEAD_LETTERS_SENT,
        statistic="Sum",
        comparison="GreaterThanThreshold",
        threshold=0,
        period_seconds=DEAD_LETTER_PERIOD_SECONDS,
        evaluation_periods=1,
        treat_missing_data="notBreaching",
        severity="critical",
        description=f"undelivered events arrived in the {queue} dead-letter queue",
    )
    return PlannedAlarm(rule.name, rule, {QUEUE_NAME_DIMENSION: queue_name}, "notify", namespace=SQS_NAMESPACE)
