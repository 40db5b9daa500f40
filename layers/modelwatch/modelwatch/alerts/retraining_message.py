"""The retraining state machine's notice on the alerts topic, rendered as a Slack Block Kit
message: what started the run, what it decided and why."""

from __future__ import annotations

from typing import Any

MARKER = "modelwatch_retraining"
ICONS = {"promoted": ":white_check_mark:", "rejected": ":no_entry_sign:", "not_enough_data": ":hourglass:"}


def is_retraining_notice(message: dict[str, Any]) -> bool:
    return isinstance(message.get(MARKER), dict)


def _summary(notice: dict[str, Any]) -> str:
    outcome = notice.get("outcome")
    decision = notice.get("decision") or {}
    if outcome == "promoted":
        return f"Promoted {decision.get('challenger_version')}: {decision.get('reason', '')}"
    if outcome == "rejected":
        kept = decision.get("champion_version") or "the current version"
        return f"Kept {kept}; {decision.get('challenger_version')} was not better: {decision.get('reason', '')}"
    if outcome == "not_enough_data":
        prepared = notice.get("prepared") or {}
        if prepared.get("reason"):
            return f"Nothing trained: {prepared['reason']}"
        return (
            f"Nothing trained: {prepared.get('rows', 0):,} labelled rows in the lookback window, "
            f"{prepared.get('min_rows', '?'):,} needed"
        )
    error = notice.get("error") or {}
    return f"Failed: {error.get('Error', 'error')}: {error.get('Cause', '')}"


def slack_message(message: dict[str, Any], dashboard_url: str) -> dict[str, Any]:
    notice = message[MARKER]
    outcome = str(notice.get("outcome", "failed"))
    icon = ICONS.get(outcome, ":red_circle:")
    summary = _summary(notice)
    fields = [
        ("Outcome", outcome.replace("_", " ")),
        ("Trigger", str(notice.get("trigger", "—"))),
        ("Run", str(notice.get("run_id", "—"))),
    ]
    decision = notice.get("decision") or {}
    if decision:
        fields.append(
            (
                f"{decision.get('metric', 'metric')}",
                f"challenger {_number(decision.get('challenger'))}, "
                f"champion {_number(decision.get('champion'))} on {decision.get('holdout_rows', 0):,} rows",
            )
        )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Retraining: {outcome.replace('_', ' ')}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary[:3000]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in fields]},
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Dashboard"}, "url": dashboard_url}],
        },
    ]
    return {"text": f"{icon} Retraining {outcome.replace('_', ' ')}: {summary}"[:3000], "blocks": blocks}


def _number(value: Any) -> str:
    return "—" if value is None else f"{float(value):.4f}"
