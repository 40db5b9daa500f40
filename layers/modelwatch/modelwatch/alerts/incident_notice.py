"""An incident's notice, as on-call reads it in Slack (Block Kit) and by email (plain text): what
happened, by how much, since when, where the report is, and what to do next.

A drift incident's notice is written from the drift check's own drift.json: the model version, the
window and its rows, the drift share, the drifted features ranked by effect (method, score,
threshold), the drifted segment values and their features (with [[segments]]), performance on
labelled rows and as estimated without labels, concept drift, and a link to this check's report.
Any other alarm's says since when it breaches, its value against the
threshold, and the next step for its metric."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from modelwatch.alerts import retraining_message
from modelwatch.alerts.plan import SEGMENTS_INCIDENT, drift_window_of
from modelwatch.alerts.segment_verdict import SegmentVerdict
from modelwatch.catalog.metrics import (
    ACCOUNTING_HEARTBEAT,
    API_5XX_RATE,
    CAPTURE_FAILED,
    CAPTURES_MISSING,
    CATALOGUE,
    CONFIDENCE,
    FEEDBACK_MISSING,
    MODEL_LATENCY,
    MODEL_LOAD_FAILED,
    PREDICTION_LATENCY,
    UNIT_SUFFIXES,
    WORST_SEGMENT_DRIFT_SHARE,
)
from modelwatch.spec.models import DriftMethod

ICONS = {"ALARM": ":red_circle:", "OK": ":large_green_circle:", "UPDATE": ":arrows_counterclockwise:"}
UNITS = UNIT_SUFFIXES
_DATAPOINT = re.compile(r"\((\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\)")
# Performance figures a notice shows first (when the task has them), in this order.
HEADLINE_METRICS = ("accuracy", "roc_auc", "f1", "f1_macro", "mae", "rmse", "r2")
MAX_FEATURES_LISTED = 10


@dataclass(frozen=True)
class Notice:
    state: str  # ALARM, OK or UPDATE
    title: str  # one line: Slack's notification text and the email subject
    summary: str  # the first paragraph
    fields: list[tuple[str, str]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # further paragraphs (lists, next step)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, URL)

    def slack(self) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": self.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": self.summary[:3000]}},
        ]
        if self.fields:
            blocks.append(
                {
                    "type": "section",
                    "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in self.fields[:10]],
                }
            )
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": d[:3000]}} for d in self.details if d]
        if self.links:
            buttons = [
                {"type": "button", "text": {"type": "plain_text", "text": label[:75]}, "url": url[:3000]}
                for label, url in self.links[:5]
            ]
            blocks.append({"type": "actions", "elements": buttons})
        icon = ICONS.get(self.state, ":grey_question:")
        return {"text": f"{icon} {self.title}"[:3000], "blocks": blocks}

    def email(self) -> tuple[str, str]:
        """(subject, body): the title as the subject, the notice as plain text with its links."""
        lines = [self.title, "", _plain(self.summary), ""]
        lines += [f"{k}: {_plain(v)}" for k, v in self.fields]
        for detail in self.details:
            if detail:
                lines += ["", _plain(detail)]
        if self.links:
            lines += ["", *(f"{label}: {url}" for label, url in self.links)]
        return email_subject(self.title), "\n".join(lines) + "\n"

    def outgoing(self) -> Outgoing:
        subject, body = self.email()
        return Outgoing(self.slack(), subject, body)


@dataclass(frozen=True)
class Outgoing:
    """One notice in each channel's form: Slack's Block Kit message, and the email's subject and
    plain-text body (published on the notices topic, which the email subscriptions receive)."""

    slack: dict[str, Any]
    subject: str
    body: str


# What a title's typography reads as in ASCII (SNS subjects are ASCII).
_ASCII = {"—": "-", "–": "-", "→": "->", "…": "...", "•": "-", "≥": ">=", "≤": "<=", "×": "x"}
SUBJECT_MAX = 100  # SNS: at most 100 characters


def email_subject(title: str) -> str:
    """An SNS subject from a title: ASCII, printable, one line, at most 100 characters (a cut
    one ends in "...")."""
    text = "".join(_ASCII.get(c, c) for c in " ".join(title.split()))
    text = "".join(c if " " <= c <= "~" else "?" for c in text).strip() or "ModelWatch notice"
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 3].rstrip() + "..."


def _plain(text: str) -> str:
    """Slack's mrkdwn (bold, code, italic) as plain text."""
    text = text.replace("*", "").replace("`", "")
    return re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"\1", text, flags=re.S)


def _number(value: Any, digits: int = 3) -> str:
    if not isinstance(value, int | float):
        return "—"
    return f"{value:.{digits}g}" if 0 < abs(value) < 10**-digits else f"{value:,.{digits}f}"


def _when(stamp: str | None) -> str:
    """A CloudWatch or ISO time as `2026-11-23 09:00 UTC`."""
    moment = parse_time(stamp)
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    text = stamp.replace("Z", "+00:00")
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)  # CloudWatch's +0000
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _duration(start: str | None, end: str | None) -> str:
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None:
        return ""
    minutes = round((last - first).total_seconds() / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def breaching_since(reason: str) -> str | None:
    """The oldest datapoint CloudWatch's reason lists (`[612.3 (26/11/26 10:04:00), …]`): since when
    the metric breaches, as ISO."""
    stamps = [
        datetime(2000 + int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC)
        for d, mo, y, h, mi, s in _DATAPOINT.findall(reason)
    ]
    return min(stamps).isoformat() if stamps else None


# --- the drift check -----------------------------------------------------------------------------
def ranked_features(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The drifted features, largest effect first: the report's `effect` when it has one, else the
    statistic (a distance, or a test's statistic), so a p-value never ranks."""

    def effect(feature: dict[str, Any]) -> float:
        for key in ("effect", "statistic"):
            value = feature.get(key)
            if isinstance(value, int | float):
                return float(value)
        return 0.0

    drifted = [f for f in document.get("features") or [] if f.get("drifted")]
    return sorted(drifted, key=lambda f: (-effect(f), str(f.get("name"))))


def _feature_line(feature: dict[str, Any]) -> str:
    method = feature.get("method") or "?"
    effect, min_effect = feature.get("effect"), feature.get("min_effect")
    if isinstance(effect, int | float) and isinstance(min_effect, int | float):
        # The size-aware rule: an effect big enough, and a (corrected) p-value small enough.
        return (
            f"• *{feature.get('name')}*: {method} {_number(effect)} (drift from {_number(min_effect)}), "
            f"p {_number(feature.get('score'))} < {_number(feature.get('threshold'))}"
        )
    uses_p = feature.get("compared") == "p_value"
    return (
        f"• *{feature.get('name')}*: {method} {'p' if uses_p else 'score'} {_number(feature.get('score'))} "
        f"{'<' if uses_p else '>'} {_number(feature.get('threshold'))}"
    )


def features_over(document: dict[str, Any], threshold: float) -> list[str]:
    """Features whose bounded drift score (the DriftScore metric) is above `threshold`, highest first."""
    found = []
    for feature in document.get("features") or []:
        try:
            bounded = DriftMethod(feature.get("method")).bounded_score
        except ValueError:
            bounded = False
        value = feature.get("statistic")
        if bounded and isinstance(value, int | float) and value > threshold:
            found.append((float(value), str(feature["name"])))
    return [f"{name} {value:.3f}" for value, name in sorted(found, reverse=True)]


def _performance(document: dict[str, Any]) -> str:
    labelled = document.get("performance") or {}
    estimated = document.get("estimated_performance") or {}
    rows = document.get("labeled_rows")
    parts = []
    for key in HEADLINE_METRICS:
        measured, guessed = labelled.get(key), estimated.get(key)
        if measured is None and guessed is None:
            continue
        label = f"{_number(measured)} labelled" if measured is not None else "no labels yet"
        guess = f", {_number(guessed)} estimated" if guessed is not None else ""
        parts.append(f"{key} {label}{guess}")
        if len(parts) == 2:
            break
    text = "; ".join(parts) or "—"
    if isinstance(rows, int) and labelled:
        text += f" ({rows:,} labelled rows)"
    return text


def check_fields(document: dict[str, Any]) -> list[tuple[str, str]]:
    drifted, evaluated = document.get("drifted_features"), document.get("evaluated_features")
    share = document.get("drift_share")
    fields = [
        ("Model", f"{document.get('model', '')} {document.get('model_version', '?')}".strip()),
        (
            "Window",
            f"{document.get('window', '?')}: {_when(document.get('window_start'))} → "
            f"{_when(document.get('window_end'))}",
        ),
        ("Rows", f"{_int(document.get('current_rows'))} (baseline {_int(document.get('reference_rows'))})"),
        (
            "Drift share",
            f"{_number(share, 2)} ({drifted} of {evaluated} features; dataset drift at "
            f"{_number(document.get('share_threshold'), 2)})",
        ),
        ("Performance", _performance(document)),
    ]
    concept = document.get("concept_drift") or {}
    if concept.get("drifted"):
        fields.append(
            (
                "Concept drift",
                f"{concept.get('metric')} {_number(concept.get('current'))} vs {_number(concept.get('reference'))} "
                f"at validation (tolerance {_number(concept.get('tolerance'), 2)}) while the inputs held",
            )
        )
    return fields


def _int(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "—"


def drifted_list(document: dict[str, Any]) -> str:
    features = ranked_features(document)
    if not features:
        return "No feature drifted in this check."
    lines = [_feature_line(f) for f in features[:MAX_FEATURES_LISTED]]
    if len(features) > MAX_FEATURES_LISTED:
        lines.append(f"… and {len(features) - MAX_FEATURES_LISTED} more in the report")
    return "*Drifted features, largest effect first*\n" + "\n".join(lines)


def drifted_segments(document: dict[str, Any]) -> list[SegmentVerdict]:
    """The check's segment values with a drifted feature, the most drifted first."""
    entries = document.get("segments") or []
    return sorted(
        (s for s in map(SegmentVerdict.from_document, entries) if s.judged and s.drifted_features),
        key=lambda s: (-(s.drift_share or 0.0), s.label()),
    )


def _segment_line(segment: SegmentVerdict) -> str:
    return (
        f"• *{segment.label()}*: {', '.join(segment.drifted_features)} "
        f"(drift share {_number(segment.drift_share, 2)} on {_int(segment.current_rows)} rows)"
    )


def segment_list(document: dict[str, Any]) -> str | None:
    """The drifted segment values and their features; None when the check has no segments."""
    if document.get("segments") is None:
        return None
    segments = drifted_segments(document)
    if not segments:
        return f"No segment drifted ({len(document['segments'])} segment values checked)."
    lines = [_segment_line(s) for s in segments[:MAX_FEATURES_LISTED]]
    if len(segments) > MAX_FEATURES_LISTED:
        lines.append(f"… and {len(segments) - MAX_FEATURES_LISTED} more in the report")
    return "*Drifted segments, most drifted first*\n" + "\n".join(lines)


def _alarm_line(entry: dict[str, Any], document: dict[str, Any] | None) -> str:
    name = str(entry.get("alarm", "?"))
    line = (
        f"• *{entry.get('rule', name)}*: {entry.get('metric_name', '')} {_value(entry)} "
        f"(alarm when {entry.get('comparison', '')} {_number(entry.get('threshold'))})"
    )
    if entry.get("folded_from") and document is not None and isinstance(entry.get("threshold"), int | float):
        over = features_over(document, float(entry["threshold"]))
        if over:
            line += f": {entry['folded_from']} of {', '.join(over)}"
    if entry.get("metric_name") == WORST_SEGMENT_DRIFT_SHARE.name and document is not None:
        worst = drifted_segments(document)
        if worst:
            line += f": {worst[0].label()} ({', '.join(worst[0].drifted_features)})"
    return line


def _value(entry: dict[str, Any]) -> str:
    unit = UNITS.get(str(entry.get("unit")), "")
    value = entry.get("value")
    return f"{_number(value)}{unit}" if isinstance(value, int | float) else "—"


def drift_opened(
    incident: Any, document: dict[str, Any] | None, links: list[tuple[str, str]], next_step: str
) -> Notice:
    alarms = "\n".join(_alarm_line(e, document) for e in incident.history)
    window = (document or {}).get("window") or drift_window_of(incident.key)
    if document is None:
        return Notice(
            "ALARM",
            f"Drift ({window} window): {', '.join(e['rule'] for e in incident.history)}",
            f"The drift check raised {len(incident.history)} alarm(s); its report could not be found.",
            details=[alarms, next_step],
            links=links,
        )
    drifted = [f["name"] for f in ranked_features(document)]
    segments = drifted_segments(document)
    rules = ", ".join(dict.fromkeys(str(e.get("rule")) for e in incident.history))
    if drifted:
        what = f"{', '.join(drifted[:5])}{' …' if len(drifted) > 5 else ''}"
        headline = f"drift share {_number(document.get('drift_share'), 2)} ({what})"
    elif segments:
        # The whole window is within limits: the shift is confined to a slice of the traffic.
        more = f" and {len(segments) - 1} more segment(s)" if len(segments) > 1 else ""
        headline = f"segment {segments[0].label()} drifted ({', '.join(segments[0].drifted_features)}){more}"
    else:
        headline = _performance(document).split(";")[0]
    title = f"{rules}: {document.get('model_version')}, {window} window: {headline}"
    summary = (
        f"The drift check at {_when(document.get('window_end'))} found *{len(drifted)} of "
        f"{document.get('evaluated_features')} features* drifted on {_int(document.get('current_rows'))} rows "
        f"of the {window} window. Alarms raised:\n{alarms}"
    )
    segment_details = segment_list(document)
    details = [drifted_list(document), *([segment_details] if segment_details else []), next_step]
    return Notice("ALARM", title, summary, check_fields(document), details, links)


def drift_recovered(
    incident: Any,
    document: dict[str, Any] | None,
    links: list[tuple[str, str]],
    retraining: list[str],
    opened_document: dict[str, Any] | None = None,
) -> Notice:
    """`document`: the latest check (within limits again); `opened_document`: the check it opened on."""
    window = drift_window_of(incident.key)
    took = _duration(incident.opened_at, incident.closed_at)
    alarms = "\n".join(_alarm_line(e, opened_document) for e in incident.history) or "—"
    concern = "segment drift" if incident.key.endswith(SEGMENTS_INCIDENT) else "drift"
    title = f"Recovered: {concern} ({window} window) since {_when(incident.opened_at)}"
    summary = (
        f"Every alarm of the incident is OK again at {_when(incident.closed_at)}"
        f"{f' after {took}' if took else ''}. Raised in it:\n{alarms}"
    )
    details = []
    if retraining:
        details.append("*Meanwhile*\n" + "\n".join(f"• {line}" for line in retraining))
    if document is not None:
        details.append(
            f"*Latest check*: {document.get('model_version')}, drift share "
            f"{_number(document.get('drift_share'), 2)} on {_int(document.get('current_rows'))} rows"
        )
    fields = check_fields(document) if document is not None else []
    return Notice("OK", title, summary, fields, details, links)


def retraining_line(notice: dict[str, Any]) -> str:
    """One line of a retraining run for an incident's notice."""
    return f"Retraining ({notice.get('trigger', '?')}): {retraining_message.summary(notice)}"


def retraining_standalone(message: dict[str, Any], dashboard_url: str) -> Outgoing:
    """A retraining run outside any incident (schedule, manual, or after its incident closed), as
    it is: Slack's message and the email's."""
    notice = message[retraining_message.MARKER]
    outcome = str(notice.get("outcome", "failed"))
    told = _plain(retraining_message.summary(notice))
    if outcome == "awaiting_approval":
        subject = retraining_message.approval_subject(str(notice.get("run_id", "")))
    else:
        subject = email_subject(f"Retraining {outcome.replace('_', ' ')}: {told}")
    lines = [f"Retraining {outcome.replace('_', ' ')}", "", told, ""]
    lines += [f"{k}: {v}" for k, v in retraining_message.fields_of(notice, outcome)]
    lines += ["", f"Dashboard: {dashboard_url}"]
    return Outgoing(retraining_message.slack_message(message, dashboard_url), subject, "\n".join(lines) + "\n")


def passed_on(message: Any) -> Outgoing:
    """A message on the alerts topic that is neither CloudWatch's nor ModelWatch's: as it came."""
    text = json.dumps(message, indent=1)
    return Outgoing({"text": json.dumps(message)[:3000]}, "ModelWatch: a message on the alerts topic", text + "\n")


def retraining_update(incident: Any, notice: dict[str, Any], links: list[tuple[str, str]]) -> Notice:
    outcome = str(notice.get("outcome", "failed")).replace("_", " ")
    title = f"Update: {incident.key} incident since {_when(incident.opened_at)}: retraining {outcome}"
    summary = retraining_message.summary(notice)
    fields = [("Run", str(notice.get("run_id", "—"))), ("Trigger", str(notice.get("trigger", "—")))]
    still = ", ".join(sorted(incident.raised)) or "—"
    return Notice("UPDATE", title, summary, fields, [f"Still raised: {still}"], links)


# --- any other alarm ---------------------------------------------------------------------------
def next_step(metric: str, stack: str, last_good: str | None, refused: str | None) -> str:
    """What to do next, for an alarm on `metric`."""
    promote = f"`modelwatch promote {last_good or '<last good version>'} --stack {stack}`"
    steps = {
        MODEL_LOAD_FAILED.name: f"The fleet keeps serving the last good version. Point the registry back at it: "
        f"{promote}; then publish {refused or 'the refused version'} again (its artifact does not match its "
        "manifest, or is missing).",
        PREDICTION_LATENCY.name: "Compare ModelLatency with PredictionLatency on the dashboard (the model, or the "
        f"function around it), and cold starts; if a new model version is slower, roll back with {promote}.",
        MODEL_LATENCY.name: f"The model itself is slower: if a new version is, roll back with {promote}.",
        API_5XX_RATE.name: "Read the predict function's errors in its log group (Logs Insights: "
        f'`filter level = "ERROR"`); if they started with a new model version, roll back with {promote}.',
        CONFIDENCE.name: "Low confidence often precedes drift: open the latest drift report.",
        CAPTURES_MISSING.name: "Look in the capture function's dead-letter queue and its errors for the hour the "
        "drift run reconciled: the records sent and not in capture/ are lost to monitoring.",
        CAPTURE_FAILED.name: "Read the capture function's errors; the records it could not store are in its "
        "dead-letter queue.",
        FEEDBACK_MISSING.name: "Look in the capture function's dead-letter queue and errors, and under "
        "deliveries-errors/ (`modelwatch redrive-captures`), for the hours the drift run reconciled: feedback "
        "accepted with a 200 is not under labels/.",
        ACCOUNTING_HEARTBEAT.name: "Read the drift function's errors (its log group and dead-letter queue) and "
        "check that its schedule is enabled: once its accounting runs again it catches up every hour missed.",
    }
    return "*Next step*: " + steps.get(metric, "open the dashboard and the alarm's history.")


def alarm_opened(entry: dict[str, Any], description: str, step: str, links: list[tuple[str, str]]) -> Notice:
    since = entry.get("since") or entry.get("at")
    title = f"{entry.get('rule')}: {entry.get('metric_name')} {_value(entry)} since {_when(since)}"
    summary = (
        f"*{entry.get('metric_description') or entry.get('metric_name')}* is {_value(entry)}, the alarm's "
        f"threshold is {entry.get('comparison', '')} {_number(entry.get('threshold'))}"
        f"{UNITS.get(str(entry.get('unit')), '')}: breaching since {_when(since)}, alarm at {_when(entry.get('at'))}."
    )
    fields = [("Alarm", str(entry.get("alarm"))), ("Severity", str(entry.get("severity", "—")))]
    if entry.get("refused"):
        fields.append(("Refused version", str(entry["refused"])))
    if entry.get("last_good"):
        fields.append(("Still served", str(entry["last_good"])))
    details = [description, step, f"_{entry.get('reason', '')}_" if entry.get("reason") else ""]
    return Notice("ALARM", title, summary, fields, details, links)


def alarm_recovered(incident: Any, entry: dict[str, Any], links: list[tuple[str, str]]) -> Notice:
    first = incident.history[0] if incident.history else entry
    took = _duration(first.get("since") or first.get("at"), entry.get("at"))
    title = f"Recovered: {first.get('rule', entry.get('alarm'))} at {_when(entry.get('at'))}"
    now = (
        f"now {_value(entry)}"
        if isinstance(entry.get("value"), int | float)
        else "no datapoint in its latest period, which this alarm counts as not breaching"
    )
    summary = (
        f"{first.get('metric_name', '')} is back within its threshold ({entry.get('comparison', '')} "
        f"{_number(entry.get('threshold'))} alarms): {now}"
        f"{f', after {took}' if took else ''} (raised at {_when(first.get('at'))}, peak notified "
        f"{_value(first)})."
    )
    return Notice("OK", title, summary, [("Alarm", str(entry.get("alarm")))], [], links)


def metric_facts(metric: str) -> dict[str, Any]:
    known = CATALOGUE.get(metric)
    return {} if known is None else {"unit": known.unit, "metric_description": known.description}
