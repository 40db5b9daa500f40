"""Notify: one incident, one notice, by email and in Slack. Each alarm notification and
retraining notice on the alerts topic is folded into its incident (modelwatch.alerts.incident,
keyed by the alarm plan: the drift check's alarms on one window and the retraining they start are
one incident), kept in S3 between invocations; only what on-call must read is sent: an incident's
opening, an update a person must act on, and its recovery. A drift incident's notice is written
from the check's drift.json.

Each notice goes out twice, rendered once (modelwatch.alerts.incident_notice): as a plain-text
email, published on the notices topic that the email subscriptions receive (the alerts topic
itself reaches nobody but this function), and, when Slack is configured, to Slack through the
incoming-webhook URL kept in Secrets Manager (cached). Without Slack (an empty secret name)
notices go by email alone.

An incoming webhook cannot edit a message it posted, so an incident is one message per state
(opened, recovered, and an update only when retraining needs a person), not one edited message.

Email goes first, then Slack; each channel's delivery is recorded in the incident. A failed Slack
post is retried with backoff; if it still fails the invocation fails, and the notice, recorded as
unsent before it was sent, is posted by Lambda's retry (or the dead-letter redrive), to Slack only:
its email has gone."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.parameters import SecretsProvider

from functions.shared.emit import add_metric
from functions.shared.setup import instruments
from modelwatch.alerts import incident_notice as render
from modelwatch.alerts import retraining_message, slack_webhook
from modelwatch.alerts.alarm_message import AlarmNotice
from modelwatch.alerts.incident import Incident, Pending
from modelwatch.alerts.incident_notice import Outgoing
from modelwatch.alerts.plan import PlannedAlarm, drift_window_of, planned_alarms
from modelwatch.catalog import layout
from modelwatch.catalog import metrics as catalog
from modelwatch.catalog.functions import DRIFT_CHECK_PERIOD_SECONDS
from modelwatch.data_access.incident_store import IncidentStore, console_url
from modelwatch.data_access.platform import current_platform
from modelwatch.data_access.settings import NotifySettings

SPEC, logger, metrics = instruments()
SECRET_CACHE_SECONDS = 300
PLAN = planned_alarms(SPEC)
DRIFT_PERIOD = timedelta(seconds=DRIFT_CHECK_PERIOD_SECONDS)
# Outcomes of a routine retraining (new labelled rows) that change nothing: not an incident.
ROUTINE_QUIET = frozenset({"rejected", "not_enough_data"})
EMAIL, SLACK = "email", "slack"


def _links(settings: NotifySettings) -> tuple[str, str]:
    region, bucket = settings.region, settings.data_bucket
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#dashboards/dashboard/{settings.dashboard_name}",
        f"https://s3.console.aws.amazon.com/s3/buckets/{bucket}?region={region}&prefix={layout.REPORTS.prefix}",
    )


def _log_retry(attempt: int) -> None:
    logger.warning("Slack post failed, retrying", extra={"attempt": attempt})


def planned_of(alarm_name: str) -> tuple[PlannedAlarm | None, str]:
    """The plan's alarm a deployed alarm name stands for (the stack's name, "-", the plan's name),
    and that stack name."""
    for planned in sorted(PLAN, key=lambda p: -len(p.name)):
        if alarm_name.endswith(f"-{planned.name}"):
            return planned, alarm_name.removesuffix(f"-{planned.name}")
    return None, alarm_name.rsplit("-", 1)[0]


class Notifier:
    """`url`: the Slack webhook's, or None when Slack is not configured (email only)."""

    def __init__(self, platform: Any, settings: NotifySettings, url: str | None) -> None:
        self.platform, self.settings, self.url = platform, settings, url
        self.store = IncidentStore(platform.client("s3"), settings.data_bucket)
        self.dashboard_url, self.reports_url = _links(settings)
        self.channels = (EMAIL, SLACK) if url else (EMAIL,)
        self.sent = 0

    # --- what a record does ------------------------------------------------------------------
    def alarm(self, message: dict[str, Any]) -> None:
        notice = AlarmNotice.from_sns_message(message)
        planned, stack = planned_of(notice.name)
        key = planned.incident if planned is not None else notice.name
        facts = self._facts(notice, planned, stack)
        incident = self.store.update(
            key, lambda i: i.alarm_changed(notice.name, notice.previous_state, notice.state, notice.changed_at, facts)
        )
        window = drift_window_of(key)
        if window is not None and incident.open and incident.opened_on is None:
            check = self._check(window, notice.changed_at)
            incident = self.store.update(key, lambda i: i.with_check(check))
        self.deliver(incident, stack, planned)

    def retraining(self, message: dict[str, Any]) -> None:
        notice = message[retraining_message.MARKER]
        planned, stack = planned_of(str(notice.get("trigger", "")))
        if planned is None or not planned.incident.startswith("drift-"):
            self.send(render.retraining_standalone(message, self.dashboard_url))  # schedule, manual
            return
        routine = planned.rule.metric == catalog.NEW_LABELED_ROWS.name
        if routine and notice.get("outcome") in ROUTINE_QUIET and not self.store.get(planned.incident)[0].open:
            # Retraining on new labelled rows, outside any incident, that kept the served version:
            # nothing changed and nothing is wrong, so nobody is paged (the run's own log says it).
            logger.info("routine retraining kept the served version: not sent", extra={"retraining": notice})
            return
        incident = self.store.update(planned.incident, lambda i: i.retraining_finished(notice))
        if not incident.to_post():
            logger.info("retraining notice folded into its incident", extra={"incident": incident.number})
        self.deliver(incident, stack, planned, message)

    # --- facts of an alarm ------------------------------------------------------------------
    def _facts(self, notice: AlarmNotice, planned: PlannedAlarm | None, stack: str) -> dict[str, Any]:
        metric = planned.rule.metric if planned is not None else (notice.metric_name or "")
        facts: dict[str, Any] = {
            "rule": planned.name if planned is not None else notice.name,
            "metric_name": metric,
            "value": notice.value,
            "threshold": notice.threshold,
            "comparison": notice.comparison,
            "reason": notice.reason,
            "since": render.breaching_since(notice.reason),
            "description": notice.description,
            "severity": planned.rule.severity if planned is not None else None,
            "folded_from": planned.folded_from if planned is not None else None,
            "stack": stack,
            **render.metric_facts(metric),
        }
        if metric == catalog.MODEL_LOAD_FAILED.name and notice.state == "ALARM":
            facts |= self._versions()
        return facts

    def _versions(self) -> dict[str, str | None]:
        """The refused version (the pointer's) and the last good one (the pointer's value before
        it, which the fleet keeps serving), from the pointer's history."""
        ssm = self.platform.client("ssm")
        values: list[str] = []
        try:
            pages = ssm.get_paginator("get_parameter_history").paginate(Name=self.settings.pointer_parameter)
            for page in pages:
                values += [str(p["Value"]) for p in page.get("Parameters", [])]
        except Exception as error:  # the notice still goes out, with a placeholder
            logger.warning("pointer history not read", extra={"error": str(error)})
            return {"refused": None, "last_good": None}
        refused = values[-1] if values else None
        earlier = [v for v in values if v != refused]
        return {"refused": refused, "last_good": earlier[-1] if earlier else None}

    def _check(self, window: str, at: str) -> dict[str, Any] | None:
        moment = render.parse_time(at)
        key = None if moment is None else self.store.latest_report(window, moment, DRIFT_PERIOD)
        if key is None:
            return None
        return {"drift_json": key, "window": window, "end": layout.report_end(key)}

    # --- notices -----------------------------------------------------------------------------
    def deliver(
        self, incident: Incident, stack: str, planned: PlannedAlarm | None, message: dict[str, Any] | None = None
    ) -> None:
        for pending in incident.to_post():
            outgoing = self.render(incident, pending, stack, planned, message)
            for channel in self.channels:
                if incident.delivered_to(pending, channel):
                    continue  # sent there by an earlier try of this notification
                self.send_to(channel, outgoing)
                incident = self.store.update(incident.key, lambda i, p=pending, c=channel: i.delivered(p, c))
            incident = self.store.update(incident.key, lambda i, p=pending: i.posted(p))
            self.sent += 1
            logger.info("incident notice sent", extra={"incident": incident.number, "notice": pending.kind})

    def render(
        self,
        incident: Incident,
        pending: Pending,
        stack: str,
        planned: PlannedAlarm | None,
        message: dict[str, Any] | None,
    ) -> Outgoing:
        links = [("Dashboard", self.dashboard_url)]
        if pending.kind == "standalone" and message is not None:
            return render.retraining_standalone(message, self.dashboard_url)
        if drift_window_of(incident.key) is not None:
            return self._drift_notice(incident, pending, planned, links).outgoing()
        if pending.kind == "opened":
            entry = incident.history[0]
            step = render.next_step(str(entry.get("metric_name")), stack, entry.get("last_good"), entry.get("refused"))
            return render.alarm_opened(entry, str(entry.get("description", "")), step, links).outgoing()
        return render.alarm_recovered(incident, pending.detail, links).outgoing()

    def _drift_notice(
        self, incident: Incident, pending: Pending, planned: PlannedAlarm | None, links: list[tuple[str, str]]
    ) -> render.Notice:
        window = drift_window_of(incident.key) or ""
        if pending.kind == "opened":
            check = incident.opened_on
        else:
            check = self._check(window, incident.closed_at or incident.opened_at or "")
        document = self.store.report(check["drift_json"]) if check else None
        if check:
            region, bucket = self.settings.region, self.settings.data_bucket
            report = check["drift_json"].removesuffix("drift.json")
            links = [
                ("This check's report", console_url(bucket, report + "report.html", region)),
                ("drift.json", console_url(bucket, check["drift_json"], region)),
                *links,
            ]
        links.append(("Every report", self.reports_url))
        if pending.kind == "opened":
            return render.drift_opened(incident, document, links, self._drift_next_step(window))
        if pending.kind == "update":
            run = next(
                (r for r in incident.retraining if r.get("run_id") == pending.detail.get("run_id")),
                {"run_id": pending.detail.get("run_id"), "outcome": pending.detail.get("outcome")},
            )
            return render.retraining_update(incident, run, links)
        retraining = [render.retraining_line(r) for r in incident.retraining]
        opened = incident.opened_on
        opened_document = self.store.report(opened["drift_json"]) if opened else None
        return render.drift_recovered(incident, document, links, retraining, opened_document)

    def _drift_next_step(self, window: str) -> str:
        # Triggers on this window, whether alarms of their own or a rule's alarm that judges the same.
        triggers = [rule for p in PLAN if p.incident == f"drift-{window}" for rule in p.retrains_on]
        if triggers:
            said = ", ".join(rule.description.removeprefix("Retrain: ") for rule in triggers)
            return (
                f"*Next step*: open this check's report. Retraining starts by itself on {said}; its result comes "
                "with the recovery notice, or at once when a person must decide. A new audience or a changed "
                "relation between inputs and labels is mended by retraining; broken inputs by fixing their source."
            )
        return (
            "*Next step*: open this check's report: a new audience is mended by retraining on it; broken inputs "
            "by fixing their source."
        )

    def send(self, outgoing: Outgoing) -> None:
        """A notice outside any incident, to every channel (email first)."""
        for channel in self.channels:
            self.send_to(channel, outgoing)
        self.sent += 1

    def send_to(self, channel: str, outgoing: Outgoing) -> None:
        settings = self.settings
        if channel == EMAIL:
            self.platform.client("sns").publish(
                TopicArn=settings.notices_topic, Subject=outgoing.subject, Message=outgoing.body
            )
        else:
            url = self.url or ""
            slack_webhook.post(url, outgoing.slack, settings.backoff_seconds, _log_retry, settings.timeout_seconds)


@metrics.log_metrics
@logger.inject_lambda_context
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: Any) -> dict[str, int]:
    platform = current_platform()
    settings = platform.settings_of(NotifySettings)
    url = None
    if settings.slack_secret:  # Slack configured; without it, notices go by email only
        provider = SecretsProvider(boto3_client=platform.client("secretsmanager"))
        url = slack_webhook.webhook_url(str(provider.get(settings.slack_secret, max_age=SECRET_CACHE_SECONDS)))
    notifier = Notifier(platform, settings, url)
    for record in event.records:
        message = json.loads(record.sns.message)
        if retraining_message.is_retraining_notice(message):
            notifier.retraining(message)
        elif "AlarmName" in message:
            notifier.alarm(message)
        else:  # not CloudWatch's, not ours: pass it on as it came
            notifier.send(render.passed_on(message))
    add_metric(metrics, catalog.NOTIFICATIONS_SENT, notifier.sent)
    return {"sent": notifier.sent}
