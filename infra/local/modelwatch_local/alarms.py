"""The spec's alarms evaluated locally, as CloudWatch evaluates them: the last
`evaluation_periods` periods (the one in progress included), `datapoints_to_alarm` of them
breaching, missing data treated as the rule says; a state change produces the notification
CloudWatch would send to SNS and the "CloudWatch Alarm State Change" event EventBridge would
match."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from modelwatch.alerts.plan import PlannedAlarm, planned_alarms
from modelwatch.spec.models import AlertRule, MonitoringSpec
from modelwatch_local.metrics import MetricStore, statistic

COMPARE = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
INSUFFICIENT = "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class StateChange:
    alarm: PlannedAlarm
    alarm_name: str  # as deployed: the stack's name first
    old: str
    new: str
    reason: str
    at: datetime
    region: str

    def sns_message(self, namespace: str) -> dict[str, Any]:
        """The JSON CloudWatch publishes to the alarm's SNS actions."""
        rule = self.alarm.rule
        # CloudWatch writes a percentile as given (p95), any other statistic in capitals (MAXIMUM).
        percentile = rule.statistic.startswith("p")
        statistic_type = "ExtendedStatistic" if percentile else "Statistic"
        return {
            "AlarmName": self.alarm_name,
            "AlarmDescription": f"[{rule.severity}] {rule.description}".strip(),
            "AWSAccountId": "123456789012",
            "NewStateValue": self.new,
            "NewStateReason": self.reason,
            "StateChangeTime": self.at.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "Region": self.region,
            "OldStateValue": self.old,
            "Trigger": {
                "MetricName": rule.metric,
                "Namespace": namespace,
                "StatisticType": statistic_type,
                statistic_type: rule.statistic if percentile else rule.statistic.upper(),
                "Dimensions": [{"value": v, "name": k} for k, v in self.alarm.dimensions.items()],
                "Period": rule.period_seconds,
                "EvaluationPeriods": rule.evaluation_periods,
                "ComparisonOperator": rule.comparison,
                "Threshold": rule.threshold,
                "TreatMissingData": rule.treat_missing_data,
            },
        }


def _period_end(now: datetime, seconds: int) -> datetime:
    """The end of the period `now` falls in (periods are aligned to the epoch, as in CloudWatch).
    The period in progress counts: CloudWatch evaluates its datapoint as the data arrives, so an
    hourly metric published at 01:00:05 is seen minutes later, not after 02:00."""
    stamp = (int(now.timestamp()) // seconds + 1) * seconds
    return datetime.fromtimestamp(stamp, UTC)


class AlarmEvaluator:
    def __init__(self, spec: MonitoringSpec, store: MetricStore, prefix: str = "ModelWatch", region: str = "us-east-1"):
        self.spec, self.store, self.prefix, self.region = spec, store, prefix, region
        self.planned = planned_alarms(spec)
        self.states = {alarm.name: INSUFFICIENT for alarm in self.planned}

    def datapoints(self, alarm: PlannedAlarm, now: datetime) -> list[tuple[datetime, float | None]]:
        rule = alarm.rule
        period = timedelta(seconds=rule.period_seconds)
        end = _period_end(now, rule.period_seconds)
        points = []
        for k in range(rule.evaluation_periods, 0, -1):
            start = end - k * period
            samples = self.store.values(
                self.spec.metrics.namespace, rule.metric, alarm.dimensions, start, start + period
            )
            too_few = (
                rule.min_samples is not None and rule.statistic.startswith("p") and len(samples) < rule.min_samples
            )
            points.append((start, None if too_few else statistic(samples, rule.statistic)))
        return points

    def evaluate(self, now: datetime) -> list[StateChange]:
        changes = []
        for alarm in self.planned:
            points = self.datapoints(alarm, now)
            old = self.states[alarm.name]
            new, reason = _decide(alarm.rule, points, old)
            if new != old:
                self.states[alarm.name] = new
                changes.append(StateChange(alarm, f"{self.prefix}-{alarm.name}", old, new, reason, now, self.region))
        return changes


def _decide(rule: AlertRule, points: list[tuple[datetime, float | None]], current: str) -> tuple[str, str]:
    compare, words = COMPARE[rule.comparison]
    present = [(moment, value) for moment, value in points if value is not None]
    missing = len(points) - len(present)
    needed = rule.datapoints_to_alarm or rule.evaluation_periods
    if not present and rule.treat_missing_data in ("missing", "ignore"):
        state = INSUFFICIENT if rule.treat_missing_data == "missing" else current
        return state, f"Insufficient Data: {len(points)} datapoints were unknown."
    breaching = sum(1 for _, value in present if compare(value, rule.threshold))
    if rule.treat_missing_data == "breaching":
        breaching += missing
    shown = ", ".join(f"{value:g} ({moment:%d/%m/%y %H:%M:%S})" for moment, value in present) or "no data"
    state = "ALARM" if breaching >= needed else "OK"
    verb = "was" if state == "ALARM" else "was not"
    reason = (
        f"Threshold Crossed: {breaching} out of the last {len(points)} datapoints [{shown}] {verb} {words} "
        f"the threshold ({rule.threshold:g}) (minimum {needed} datapoint(s) for OK -> ALARM transition)."
    )
    return state, reason
