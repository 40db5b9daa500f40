"""Alerts survive a Slack outage: while Slack answers 500, each notice is tried as Lambda tries an
asynchronous invocation and then kept in the notifier's dead-letter queue; once Slack answers,
the redrive hands every kept notice to the notifier again, in order, and the queue is empty.
Email does not wait for Slack: each notice is emailed at once, and never again by the retries or
the redrive."""

from __future__ import annotations

import json

from modelwatch.catalog.functions import ASYNC_RETRY_ATTEMPTS
from modelwatch_local.slack import SlackReceiver
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT
from tests.integration.test_notify import SINGLE_METRIC


def _waiting(stack: LocalStack) -> int:
    attributes = stack.platform.client("sqs").get_queue_attributes(
        QueueUrl=stack.notify_dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_notices_are_dead_lettered_while_slack_fails_and_redriven_after():
    stack = LocalStack(ROOT / "monitoring.toml")
    slack = SlackReceiver(failures=10**6)
    try:
        stack.connect_slack(slack.url)
        stack.environment["MODELWATCH_NOTIFY_BACKOFF_SECONDS"] = "0.001"
        notices = [SINGLE_METRIC | {"AlarmName": f"ModelWatch-Alarm{i}"} for i in range(3)]
        for notice in notices:
            stack.publish_alert(f"ALARM: {notice['AlarmName']}", json.dumps(notice))
        assert slack.received == [] and _waiting(stack) == 3
        emailed = [e["subject"].split(":")[0] for e in stack.emails()]
        assert emailed == [f"ModelWatch-Alarm{i}" for i in range(3)]  # once each, though each ran 3 times
        assert slack.attempts == 3 * (1 + ASYNC_RETRY_ATTEMPTS) * 3  # 3 posts per invocation, 3 invocations each

        still_down = stack.redrive_alerts()
        assert still_down.redriven == 0 and still_down.failed is not None and _waiting(stack) == 3

        slack.failures = 0
        outcome = stack.redrive_alerts()
        assert (outcome.redriven, outcome.failed) == (3, None) and _waiting(stack) == 0
        assert [m["text"].split("ModelWatch-")[1].split(" ")[0].rstrip(":") for m in slack.received] == [
            "Alarm0",
            "Alarm1",
            "Alarm2",
        ]
        assert stack.emails() == []  # the redrive posted to Slack only
    finally:
        slack.close()
        stack.stop()
