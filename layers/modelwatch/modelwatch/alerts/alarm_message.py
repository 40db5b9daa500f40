"""A CloudWatch alarm's SNS notification, read into what a person needs, and rendered as a Slack
Block Kit message. Both forms CloudWatch sends are understood: a single metric (Trigger with
MetricName) and metric math (Trigger with Metrics and an Expression)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

STATE_ICONS = {"ALARM": ":red_circle:", "OK": ":large_green_circle:", "INSUFFICIENT_DATA": ":white_circle:"}
COMPARISONS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
_VALUE = re.compile(r"\[([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)")


@dataclass(frozen=True)
class AlarmNotice:
    name: str
    description: str
    state: str
    previous_state: str
    reason: str
    changed_at: str
    metric: str  # what the alarm watches, in words
    comparison: str
    threshold: float | None
    value: float | None  # the breaching value, when the reason names one
    region: str
    metric_name: str | None = None  # a single metric's name (None for metric math)

    @classmethod
    def from_sns_message(cls, message: str | dict[str, Any]) -> AlarmNotice:
        data = json.loads(message) if isinstance(message, str) else message
        trigger = data.get("Trigger") or {}
        reason = str(data.get("NewStateReason", ""))
        found = _VALUE.search(reason)
        return cls(
            name=str(data.get("AlarmName", "unnamed alarm")),
            description=str(data.get("AlarmDescription") or ""),
            state=str(data.get("NewStateValue", "UNKNOWN")),
            previous_state=str(data.get("OldStateValue", "UNKNOWN")),
            reason=reason,
            changed_at=str(data.get("StateChangeTime", "")),
            metric=_describe_metric(trigger),
            comparison=COMPARISONS.get(
                str(trigger.get("ComparisonOperator")), str(trigger.get("ComparisonOperator", ""))
            ),
            threshold=float(trigger["Threshold"]) if trigger.get("Threshold") is not None else None,
            value=float(found.group(1)) if found else None,
            region=str(data.get("Region", "")),
            metric_name=str(trigger["MetricName"]) if "MetricName" in trigger else None,
        )


def _describe_metric(trigger: dict[str, Any]) -> str:
    if "MetricName" in trigger:  # single metric
        statistic = trigger.get("ExtendedStatistic") or trigger.get("Statistic") or ""
        dimensions = ", ".join(f"{d.get('name')}={d.get('value')}" for d in trigger.get("Dimensions") or [])
        text = f"{trigger.get('Namespace', '')} {trigger['MetricName']} ({statistic})"
        return f"{text} [{dimensions}]" if dimensions else text
    for metric in trigger.get("Metrics") or []:  # metric math: show the expression that returns data
        if metric.get("Expression") and metric.get("ReturnData", True):
            label = metric.get("Label") or metric.get("Id", "")
            return f"{label}: {metric['Expression']}".strip(": ")
    return "metric math"


def slack_message(notice: AlarmNotice, dashboard_url: str, reports_url: str) -> dict[str, Any]:
    icon = STATE_ICONS.get(notice.state, ":grey_question:")
    value = "—" if notice.value is None else f"{notice.value:g}"
    threshold = "—" if notice.threshold is None else f"{notice.comparison} {notice.threshold:g}"
    fields = [
        ("State", f"{notice.previous_state} → *{notice.state}*"),
        ("Value", f"{value} (alarm when {threshold})"),
        ("Metric", notice.metric),
        ("Changed", notice.changed_at or "—"),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{notice.state}: {notice.name}"[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in fields]},
    ]
    if notice.description:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": notice.description[:3000]}})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": notice.reason[:3000] or "no reason given"}]}
    )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Dashboard"}, "url": dashboard_url},
                {"type": "button", "text": {"type": "plain_text", "text": "Drift reports"}, "url": reports_url},
            ],
        }
    )
    return {"text": f"{icon} {notice.state}: {notice.name} ({value})", "blocks": blocks}
