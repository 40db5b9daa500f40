"""Ten simulated minutes of Slack down: answering 500, 429 with Retry-After, or not answering at
all, with two minutes where it comes back briefly. One alarm notice a minute goes through the
alerts topic to the notifier (Lambda's asynchronous retries, then its dead-letter queue). Every
notice is delivered or dead-lettered, never both, never neither; a redrive while Slack is still
down keeps them queued; the redrive after the outage delivers each dead-lettered one, so every
notice reaches Slack exactly once."""

from __future__ import annotations

import json
from collections import Counter

from modelwatch.catalog.functions import ASYNC_RETRY_ATTEMPTS
from modelwatch_local.slack import SlackDown, SlackReceiver
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT
from tests.integration.test_notify import SINGLE_METRIC

OUTAGE_MINUTES = 10
POST_TIMEOUT_SECONDS = 0.1  # the notifier's wait for an answer, shortened
FLAKY_MINUTES = {4, 7}  # Slack refuses two posts, then answers: those notices get through


def _waiting(stack: LocalStack) -> int:
    attributes = stack.platform.client("sqs").get_queue_attributes(
        QueueUrl=stack.notify_dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


class Outage:
    """Slack's answer by simulated minute: 500, then 429 (Retry-After 60 s), then no answer, in turn."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack, self.start = stack, stack.clock()
        self.posts_in_minute: Counter = Counter()

    def minute(self) -> int:
        return int((self.stack.clock() - self.start).total_seconds() // 60)

    def __call__(self) -> SlackDown | None:
        minute = self.minute()
        if minute >= OUTAGE_MINUTES:
            return None
        self.posts_in_minute[minute] += 1
        if minute in FLAKY_MINUTES and self.posts_in_minute[minute] > 2:
            return None
        return (
            SlackDown(500),
            SlackDown(429, retry_after_seconds=60),
            SlackDown(None, hold_seconds=3 * POST_TIMEOUT_SECONDS),
        )[minute % 3]


def _alarm(text: str) -> str:
    return text.split("ModelWatch-")[1].split(" ")[0].rstrip(":")


def test_notices_survive_ten_minutes_of_slack_down_and_arrive_exactly_once():
    stack = LocalStack(ROOT / "monitoring.toml")
    outage = Outage(stack)
    slack = SlackReceiver(outage=outage)
    try:
        stack.connect_slack(slack.url)
        stack.environment["MODELWATCH_NOTIFY_BACKOFF_SECONDS"] = "0.001"
        stack.environment["MODELWATCH_NOTIFY_TIMEOUT_SECONDS"] = str(POST_TIMEOUT_SECONDS)
        names = [f"Alarm{minute}" for minute in range(OUTAGE_MINUTES)]
        for minute, name in enumerate(names):
            assert outage.minute() == minute
            notice = SINGLE_METRIC | {"AlarmName": f"ModelWatch-{name}"}
            stack.publish_alert(f"ALARM: ModelWatch-{name}", json.dumps(notice))
            if minute == OUTAGE_MINUTES // 2:
                still_down = stack.redrive_alerts()
                assert still_down.redriven == 0 and still_down.failed is not None
            stack.clock.advance(60)

        delivered = [_alarm(m["text"]) for m in slack.received]
        assert delivered == [f"Alarm{m}" for m in sorted(FLAKY_MINUTES)]
        assert _waiting(stack) == OUTAGE_MINUTES - len(FLAKY_MINUTES)  # the rest: dead-lettered, once each
        assert set(slack.refused) == {"500", "429", "timeout"}
        # A 429 asking for 60 s is not posted again within the invocation: Lambda retries later.
        assert outage.posts_in_minute[1] == 1 + ASYNC_RETRY_ATTEMPTS

        outage_over = stack.redrive_alerts()
        assert (outage_over.redriven, outage_over.failed) == (OUTAGE_MINUTES - len(FLAKY_MINUTES), None)
        assert _waiting(stack) == 0
        arrived = Counter(_alarm(m["text"]) for m in slack.received)
        assert arrived == Counter(names)  # every notice, exactly once
        dead_lettered = [_alarm(m["text"]) for m in slack.received[len(FLAKY_MINUTES) :]]
        assert dead_lettered == [n for m, n in enumerate(names) if m not in FLAKY_MINUTES]  # in order
    finally:
        slack.close()
        stack.stop()
