"""Notify: each SNS alarm notification, and each retraining notice, becomes a Slack message
through the incoming-webhook URL kept in Secrets Manager (cached). A failed post is retried with
backoff; if it still fails the invocation fails, so Lambda's own retries and the dead-letter
queue keep the notification."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.parameters import SecretsProvider

from functions.shared.emit import add_metric
from functions.shared.setup import instruments
from modelwatch.alerts import retraining_message, slack_webhook
from modelwatch.alerts.alarm_message import AlarmNotice, slack_message
from modelwatch.catalog import layout
from modelwatch.catalog import metrics as catalog
from modelwatch.data_access.platform import current_platform
from modelwatch.data_access.settings import NotifySettings

SPEC, logger, metrics = instruments()
SECRET_CACHE_SECONDS = 300


def _links(settings: NotifySettings) -> tuple[str, str]:
    region, bucket = settings.region, settings.data_bucket
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#dashboards/dashboard/{settings.dashboard_name}",
        f"https://s3.console.aws.amazon.com/s3/buckets/{bucket}?region={region}&prefix={layout.REPORTS.prefix}",
    )


def _log_retry(attempt: int) -> None:
    logger.warning("Slack post failed, retrying", extra={"attempt": attempt})


@metrics.log_metrics
@logger.inject_lambda_context
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: Any) -> dict[str, int]:
    platform = current_platform()
    settings = platform.settings_of(NotifySettings)
    provider = SecretsProvider(boto3_client=platform.client("secretsmanager"))
    url = slack_webhook.webhook_url(str(provider.get(settings.slack_secret, max_age=SECRET_CACHE_SECONDS)))
    dashboard_url, reports_url = _links(settings)

    def post(message: dict[str, Any]) -> None:
        slack_webhook.post(url, message, settings.backoff_seconds, _log_retry, settings.timeout_seconds)

    sent = 0
    for record in event.records:
        message = json.loads(record.sns.message)
        if retraining_message.is_retraining_notice(message):
            post(retraining_message.slack_message(message, dashboard_url))
            logger.info("retraining notice sent to Slack", extra=message[retraining_message.MARKER])
        else:
            notice = AlarmNotice.from_sns_message(message)
            if (notice.previous_state, notice.state) == ("INSUFFICIENT_DATA", "OK"):
                # An alarm's first evaluation (after a deploy, or once data flows): nothing to tell.
                logger.info("first OK of an alarm not sent", extra={"alarm": notice.name})
                continue
            post(slack_message(notice, dashboard_url, reports_url))
            logger.info("alarm sent to Slack", extra={"alarm": notice.name, "state": notice.state})
        sent += 1
    add_metric(metrics, catalog.NOTIFICATIONS_SENT, sent)
    return {"sent": sent}
