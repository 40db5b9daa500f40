"""Notify: each SNS alarm notification, and each retraining notice, becomes a Slack message
through the incoming-webhook URL kept in Secrets Manager (cached). A failed post is retried with
backoff; if it still fails the invocation fails, so Lambda's own retries and the dead-letter
queue keep the notification."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import SecretsProvider

from modelwatch.alerts import retraining_message
from modelwatch.alerts.alarm_message import AlarmNotice, slack_message
from modelwatch.aws.platform import current_platform

SPEC = current_platform().spec
logger = Logger(service=SPEC.metrics.service)
metrics = Metrics(namespace=SPEC.metrics.namespace, service=SPEC.metrics.service)
ATTEMPTS = 3
SECRET_CACHE_SECONDS = 300


class WebhookError(Exception):
    """Slack did not accept the message."""


def _webhook_url() -> str:
    platform = current_platform()
    provider = SecretsProvider(boto3_client=platform.client("secretsmanager"))
    secret = str(provider.get(os.environ["MODELWATCH_SLACK_SECRET"], max_age=SECRET_CACHE_SECONDS))
    if secret.lstrip().startswith("{"):
        return str(json.loads(secret)["webhook_url"])
    return secret.strip()


def _post(url: str, message: dict[str, Any]) -> None:
    backoff = float(os.environ.get("MODELWATCH_NOTIFY_BACKOFF_SECONDS", "0.5"))
    body = json.dumps(message).encode()
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if 200 <= response.status < 300:
                    return
                raise WebhookError(f"status {response.status}")
        except urllib.error.HTTPError as error:
            retryable = error.code == 429 or error.code >= 500
            if not retryable or attempt == ATTEMPTS:
                raise WebhookError(f"Slack answered {error.code}") from error
        except (urllib.error.URLError, TimeoutError, WebhookError) as error:
            if attempt == ATTEMPTS:
                raise WebhookError(str(error)) from error
        logger.warning("Slack post failed, retrying", extra={"attempt": attempt})
        time.sleep(backoff * 2 ** (attempt - 1))


def _links() -> tuple[str, str]:
    region = current_platform().settings.region
    dashboard = os.environ.get("MODELWATCH_DASHBOARD_NAME", "ModelWatch")
    bucket = current_platform().settings.data_bucket
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{dashboard}",
        f"https://s3.console.aws.amazon.com/s3/buckets/{bucket}?region={region}&prefix=reports/",
    )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    url = _webhook_url()
    dashboard_url, reports_url = _links()
    sent = 0
    for record in event.get("Records", []):
        message = json.loads(record["Sns"]["Message"])
        if retraining_message.is_retraining_notice(message):
            _post(url, retraining_message.slack_message(message, dashboard_url))
            logger.info("retraining notice sent to Slack", extra=message[retraining_message.MARKER])
        else:
            notice = AlarmNotice.from_sns_message(message)
            if (notice.previous_state, notice.state) == ("INSUFFICIENT_DATA", "OK"):
                # An alarm's first evaluation (after a deploy, or once data flows): nothing to tell.
                logger.info("first OK of an alarm not sent", extra={"alarm": notice.name})
                continue
            _post(url, slack_message(notice, dashboard_url, reports_url))
            logger.info("alarm sent to Slack", extra={"alarm": notice.name, "state": notice.state})
        sent += 1
    metrics.add_metric("NotificationsSent", MetricUnit.Count, sent)
    return {"sent": sent}
