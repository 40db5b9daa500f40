"""The retraining state machine's notice on the alerts topic, rendered as a Slack Block Kit
message and as a plain-text email: what started the run, what it decided and why; when a person must approve the
challenger, the exact commands that approve or reject it (in the notice itself too, so the
email subscription's copy says the same)."""

from __future__ import annotations

from typing import Any

MARKER = "modelwatch_retraining"
ICONS = {
    "promoted": ":white_check_mark:",
    "rejected": ":no_entry_sign:",
    "not_enough_data": ":hourglass:",
    "awaiting_approval": ":raising_hand:",
    "busy": ":hourglass_flowing_sand:",
    "stale": ":twisted_rightwards_arrows:",
}
REJECTED_ERROR = "ModelWatch.Rejected"  # modelwatch.jobs.retraining_approval's (`modelwatch reject`)


def approval_commands(run_id: str, stack_name: str) -> dict[str, str]:
    """The commands that decide a run waiting for approval."""
    return {
        "approve": f"modelwatch approve {run_id} --stack {stack_name}",
        "reject": f'modelwatch reject {run_id} --stack {stack_name} --reason "..."',
    }


def approval_subject(run_id: str) -> str:
    return f"ModelWatch retraining: approval needed for {run_id}"[:100]  # SNS subjects: 100 characters


def is_retraining_notice(message: dict[str, Any]) -> bool:
    return isinstance(message.get(MARKER), dict)


def summary(notice: dict[str, Any]) -> str:
    outcome = notice.get("outcome")
    decision = notice.get("decision") or {}
    if outcome == "promoted":
        return f"Promoted {decision.get('challenger_version')}: {decision.get('reason', '')}"
    if outcome == "awaiting_approval":
        return (
            f"{decision.get('challenger_version')} is better: {decision.get('reason', '')}. It is promoted only "
            f"when someone approves it within {notice.get('timeout_hours', '?')} h; no decision rejects it.\n"
            f"Approve: `{notice.get('approve', '')}`\nReject: `{notice.get('reject', '')}`"
        )
    if outcome == "rejected":
        kept = decision.get("champion_version") or "the current version"
        approval = notice.get("approval") or {}
        if approval.get("Error") == REJECTED_ERROR:
            return f"Kept {kept}; {decision.get('challenger_version')} was rejected: {approval.get('Cause', '')}"
        if approval:  # States.Timeout: nobody decided in time
            return f"Kept {kept}; nobody approved {decision.get('challenger_version')} in time, so it was rejected"
        return f"Kept {kept}; {decision.get('challenger_version')} was not better: {decision.get('reason', '')}"
    if outcome == "not_enough_data" and decision:
        return f"Kept the current version; the holdout could not decide: {decision.get('reason', '')}"
    if outcome == "not_enough_data":
        prepared = notice.get("prepared") or {}
        if prepared.get("reason"):
            return f"Nothing trained: {prepared['reason']}"
        return (
            f"Nothing trained: {prepared.get('rows', 0):,} labelled rows in the lookback window, "
            f"{prepared.get('min_rows', '?'):,} needed"
        )
    if outcome == "busy":
        return f"Not run: {(notice.get('prepared') or {}).get('reason', 'another retraining run is in progress')}"
    if outcome == "stale":
        promotion = notice.get("promotion") or {}
        return f"Not promoted: {promotion.get('reason', 'the current version changed since the comparison')}"
    error = notice.get("error") or {}
    return f"Failed: {error.get('Error', 'error')}: {error.get('Cause', '')}"


def fields_of(notice: dict[str, Any], outcome: str) -> list[tuple[str, str]]:
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
    return fields


def slack_message(message: dict[str, Any], dashboard_url: str) -> dict[str, Any]:
    notice = message[MARKER]
    outcome = str(notice.get("outcome", "failed"))
    icon = ICONS.get(outcome, ":red_circle:")
    told = summary(notice)
    fields = fields_of(notice, outcome)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Retraining: {outcome.replace('_', ' ')}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": told[:3000]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in fields]},
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Dashboard"}, "url": dashboard_url}],
        },
    ]
    return {"text": f"{icon} Retraining {outcome.replace('_', ' ')}: {told}"[:3000], "blocks": blocks}


def _number(value: Any) -> str:
    return "—" if value is None else f"{float(value):.4f}"
