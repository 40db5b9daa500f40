"""The spec's alarms evaluated locally, as CloudWatch evaluates them; a state change produces the
notification CloudWatch would send to SNS and the "CloudWatch Alarm State Change" event
EventBridge would match.

What is followed, from AWS's CloudWatch User Guide:

- "Alarm evaluation" (Evaluating an alarm): each period's statistic is one datapoint; the alarm
  looks at the most recent `evaluation_periods` datapoints and goes to ALARM when
  `datapoints_to_alarm` of them (default: all) breach the threshold.
- "Configuring how CloudWatch alarms treat missing data": CloudWatch retrieves more periods than
  `evaluation_periods` (the evaluation range). With at least `evaluation_periods` real datapoints
  in the range, the most recent real ones are evaluated and the missing-data setting is not used.
  With fewer, the missing ones are filled with the setting (as few as possible) and every real
  datapoint in the range counts. With none: `missing` gives INSUFFICIENT_DATA, `ignore` keeps
  the state, `breaching` ALARM, `notBreaching` OK. The page's table for partially missing data
  (3 of 3, five datapoints retrieved) is reproduced row by row in tests/unit/test_local_alarms.py.
  Its "avoiding premature transitions to alarm state" rule is followed for `missing`: the
  alarm goes to ALARM when the oldest breaching datapoint in the range is at least
  `datapoints_to_alarm` periods old and every more recent datapoint breaches or is missing.
  For `ignore` with partially missing data, the table's answer is kept: the state changes only
  when filling the gaps either way gives the same answer; otherwise the state is kept.
- "Percentile-based alarms and low data samples": with EvaluateLowSampleCountPercentile
  `ignore`, a percentile datapoint over fewer than 10/(1-p) samples (10/p below p50) leaves the
  alarm's state unchanged; with `evaluate` (or unset) it is judged like any other.
- "Create a CloudWatch alarm based on a metric math expression": the alarm judges the
  expression's value per period, computed from its inputs' statistics over that period; the
  expression is the catalogue's (modelwatch.catalog.metrics), the one the stack deploys.

The exact size of the evaluation range is not documented (it depends on the period); the
table's example retrieves five periods for three evaluation periods, so the range here is
`evaluation_periods` + 2 periods. The period in progress counts: CloudWatch evaluates its
datapoint as the data arrives, so an hourly metric published at 01:00:05 is seen minutes later,
not after 02:00."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from modelwatch.alerts.plan import PlannedAlarm, dead_letter_alarm, planned_alarms
from modelwatch.catalog.metrics import API_ID_DIMENSION, MetricMath
from modelwatch.spec.models import AlertRule, MonitoringSpec
from modelwatch_local.math_expression import evaluate_expression
from modelwatch_local.metrics import MetricStore, statistic

COMPARE: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
INSUFFICIENT = "INSUFFICIENT_DATA"
# Periods retrieved beyond evaluation_periods, so older real datapoints can stand in for
# missing recent ones (the documented example: 5 retrieved for 3 evaluation periods).
EVALUATION_RANGE_EXTRA_PERIODS = 2
# The local HTTP API's id: the ApiId dimension of API Gateway's metrics the local stack records.
LOCAL_API_ID = "modelwatch-local"
MATH_EXPRESSION_ID = "expr_1"
# Alarm names start with the stack's name, as deployed (ModelWatch is the default stack name).
ALARM_PREFIX = "ModelWatch"  # what the CDK names a MathExpression's query in the template


@dataclass(frozen=True)
class Datapoint:
    """One period's value; None when the period has no data (missing)."""

    start: datetime
    value: float | None
    # A percentile over fewer samples than CloudWatch calls statistically significant.
    low_sample: bool = False


def too_few_samples(percentile: str, samples: int) -> bool:
    """Fewer than 10/(1-p) samples for p >= 0.5, or 10/p below ("Percentile-based alarms and low
    data samples"): 200 for p95, 20 for p50. Decimal, as 10/(1-0.95) in floats exceeds 200."""
    p = Decimal(percentile[1:]) / 100
    return samples < (10 / (1 - p) if p >= Decimal("0.5") else 10 / p)


@dataclass(frozen=True)
class StateChange:
    alarm: PlannedAlarm
    alarm_name: str  # as deployed: the stack's name first
    old: str
    new: str
    reason: str
    at: datetime
    region: str
    api_id: str = LOCAL_API_ID

    def sns_message(self, namespace: str) -> dict[str, Any]:
        """The JSON CloudWatch publishes to the alarm's SNS actions."""
        rule = self.alarm.rule
        trigger: dict[str, Any] = {
            "Period": rule.period_seconds,
            "EvaluationPeriods": rule.evaluation_periods,
            "ComparisonOperator": rule.comparison,
            "Threshold": rule.threshold,
            "TreatMissingData": rule.treat_missing_data,
        }
        if self.alarm.math is not None:
            trigger["Metrics"] = _math_queries(self.alarm.math, rule.period_seconds, {API_ID_DIMENSION: self.api_id})
        else:
            # CloudWatch writes a percentile as given (p95), any other statistic in capitals (MAXIMUM).
            statistic_type = "ExtendedStatistic" if rule.is_percentile else "Statistic"
            trigger |= {
                "MetricName": rule.metric,
                "Namespace": self.alarm.namespace or namespace,
                "StatisticType": statistic_type,
                statistic_type: rule.statistic if rule.is_percentile else rule.statistic.upper(),
                "Dimensions": [{"value": v, "name": k} for k, v in self.alarm.dimensions.items()],
            }
        if rule.evaluate_low_sample_count_percentile is not None:
            trigger["EvaluateLowSampleCountPercentile"] = rule.evaluate_low_sample_count_percentile
        return {
            "AlarmName": self.alarm_name,
            "AlarmDescription": f"[{rule.severity}] {rule.description}".strip(),
            "AWSAccountId": "123456789012",
            "NewStateValue": self.new,
            "NewStateReason": self.reason,
            "StateChangeTime": self.at.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "Region": self.region,
            "OldStateValue": self.old,
            "Trigger": trigger,
        }


def _math_queries(math: MetricMath, period: int, dimension_values: Mapping[str, str]) -> list[dict[str, Any]]:
    """A metric math alarm's queries, as CloudWatch lists them in the notification's Trigger."""
    inputs = [
        {
            "Id": item.id,
            "MetricStat": {
                "Metric": {
                    "Dimensions": [{"value": dimension_values[d], "name": d} for d in item.dimensions],
                    "MetricName": item.name,
                    "Namespace": item.namespace,
                },
                "Period": period,
                "Stat": item.statistic,
            },
            "ReturnData": False,
        }
        for item in math.inputs
    ]
    expression = {"Expression": math.expression, "Id": MATH_EXPRESSION_ID, "Label": math.label, "ReturnData": True}
    return [expression, *inputs]


def _period_end(now: datetime, seconds: int) -> datetime:
    """The end of the period `now` falls in (periods are aligned to the epoch, as in CloudWatch)."""
    stamp = (int(now.timestamp()) // seconds + 1) * seconds
    return datetime.fromtimestamp(stamp, UTC)


class AlarmEvaluator:
    def __init__(
        self,
        spec: MonitoringSpec,
        store: MetricStore,
        prefix: str = ALARM_PREFIX,
        region: str = "us-east-1",
        api_id: str = LOCAL_API_ID,
        dead_letter_queues: Mapping[str, str] | None = None,
    ):
        """`dead_letter_queues`: the stack's name of each dead-letter queue -> its SQS QueueName,
        each alarmed as the deployed stack alarms it (the plan's dead_letter_alarm)."""
        self.spec, self.store, self.prefix, self.region, self.api_id = spec, store, prefix, region, api_id
        queues = sorted((dead_letter_queues or {}).items())
        self.planned = planned_alarms(spec) + [dead_letter_alarm(name, queue) for name, queue in queues]
        self.states = {alarm.name: INSUFFICIENT for alarm in self.planned}

    def datapoints(self, alarm: PlannedAlarm, now: datetime) -> list[Datapoint]:
        """The evaluation range's datapoints, oldest first, the period in progress last."""
        rule = alarm.rule
        period = timedelta(seconds=rule.period_seconds)
        end = _period_end(now, rule.period_seconds)
        points = []
        for k in range(rule.evaluation_periods + EVALUATION_RANGE_EXTRA_PERIODS, 0, -1):
            start = end - k * period
            if alarm.math is not None:
                points.append(Datapoint(start, self._math_value(alarm.math, start, start + period)))
                continue
            namespace = alarm.namespace or self.spec.metrics.namespace
            samples = self.store.values(namespace, rule.metric, alarm.dimensions, start, start + period)
            low = bool(samples) and rule.is_percentile and too_few_samples(rule.statistic, len(samples))
            points.append(Datapoint(start, statistic(samples, rule.statistic), low))
        return points

    def _math_value(self, math: MetricMath, start: datetime, end: datetime) -> float | None:
        """The expression over its inputs' statistics in [start, end). A period where an input
        has no datapoint has none either (API Gateway records both of its counts per request)."""
        dimension_values = {API_ID_DIMENSION: self.api_id}
        values: dict[str, float] = {}
        for item in math.inputs:
            dimensions = {d: dimension_values[d] for d in item.dimensions}
            value = statistic(self.store.values(item.namespace, item.name, dimensions, start, end), item.statistic)
            if value is None:
                return None
            values[item.id] = value
        return evaluate_expression(math.expression, values)

    def evaluate(self, now: datetime) -> list[StateChange]:
        changes = []
        for alarm in self.planned:
            old = self.states[alarm.name]
            new, reason = decide(alarm.rule, self.datapoints(alarm, now), old)
            if new != old:
                self.states[alarm.name] = new
                name = f"{self.prefix}-{alarm.name}"
                changes.append(StateChange(alarm, name, old, new, reason, now, self.region, self.api_id))
        return changes


def decide(rule: AlertRule, points: list[Datapoint], current: str) -> tuple[str, str]:
    """The alarm's next state and CloudWatch's reason for it, from the evaluation range's
    datapoints (oldest first); see the module's docstring for the documents followed."""
    compare, words = COMPARE[rule.comparison]
    needed = rule.datapoints_to_alarm or rule.evaluation_periods
    real = [p for p in points if p.value is not None]
    # Enough real datapoints: the most recent of them. Too few: all of them, plus fills.
    evaluated = real[-rule.evaluation_periods :]
    filled = rule.evaluation_periods - len(evaluated)
    if rule.evaluate_low_sample_count_percentile == "ignore" and any(p.low_sample for p in evaluated):
        return current, "Low sample count: the percentile is not evaluated."
    if not real and rule.treat_missing_data == "missing":
        return INSUFFICIENT, f"Insufficient Data: {len(points)} datapoints were unknown."
    breaching = sum(1 for p in evaluated if compare(p.value, rule.threshold))  # type: ignore[arg-type]
    if filled and rule.treat_missing_data == "breaching":
        breaching += filled
    alarm = breaching >= needed
    if filled and rule.treat_missing_data == "missing":
        alarm = alarm or _breach_held_since(points, compare, rule.threshold) >= needed
    if filled and rule.treat_missing_data == "ignore" and (breaching + filled >= needed) != alarm:
        # The gaps decide the answer (filled as breaching it differs from filled as not): keep the state.
        return current, f"Missing data: {filled} datapoint(s) unknown; the state is kept."
    state = "ALARM" if alarm else "OK"
    shown = ", ".join(f"{p.value:g} ({p.start:%d/%m/%y %H:%M:%S})" for p in reversed(evaluated)) or "no data"
    verb = "was" if alarm else "was not"
    reason = (
        f"Threshold Crossed: {breaching} out of the last {rule.evaluation_periods} datapoints [{shown}] {verb} "
        f"{words} the threshold ({rule.threshold:g}) (minimum {needed} datapoint(s) for OK -> ALARM transition)."
    )
    return state, reason


def _breach_held_since(points: list[Datapoint], compare: Callable[[float, float], bool], threshold: float) -> int:
    """How many periods ago (the newest is 1) the oldest breaching datapoint is that has only
    breaching or missing datapoints after it; 0 when the newest real datapoint does not breach."""
    age_held = 0
    for age, point in enumerate(reversed(points), start=1):
        if point.value is None:
            continue
        if not compare(point.value, threshold):
            break
        age_held = age
    return age_held
