"""Alerts that get through: every queue alarms, a model that fails to load alarms, and the
alerting path's own failures reach on-call by email, not through the Slack notifier."""

from __future__ import annotations

import pytest

from tests.infra.conftest import synthesize


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def test_every_queue_has_an_alarm_on_waiting_messages(template):
    queues = set(_resources(template, "AWS::SQS::Queue"))
    watched = {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in _resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Dimensions"]
        if dimension["Name"] == "QueueName"
    }
    assert queues and queues == watched


def test_a_model_version_that_fails_to_load_alarms(template):
    (alarm,) = [
        a
        for a in _resources(template, "AWS::CloudWatch::Alarm").values()
        if a["AlarmName"] == "ModelWatch-ModelLoadFailed"
    ]
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == ("ModelLoadFailed", "Sum", 0)


def test_the_operations_topic_has_email_only(template):
    topics = {p["DisplayName"]: k for k, p in _resources(template, "AWS::SNS::Topic").items()}
    subscriptions = [
        s
        for s in _resources(template, "AWS::SNS::Subscription").values()
        if s["TopicArn"] == {"Ref": topics["ModelWatch alerting failures"]}
    ]
    assert subscriptions and {s["Protocol"] for s in subscriptions} == {"email"}


def test_synth_without_an_on_call_email_fails_naming_the_key():
    with pytest.raises(Exception, match="alertEmails is required"):
        synthesize({"alertEmails": ""}, nag=False)


def test_the_stack_says_where_the_notifiers_dead_letters_are(template):
    """What `modelwatch redrive-alerts --stack NAME` reads: the notifier and both of its queues."""
    from modelwatch.registry import stack_outputs

    outputs = template["Outputs"]
    assert {stack_outputs.NOTIFY_FUNCTION, stack_outputs.NOTIFY_DEAD_LETTER_QUEUES} <= set(outputs)
    queues = outputs[stack_outputs.NOTIFY_DEAD_LETTER_QUEUES]["Value"]["Fn::Join"][1]
    assert len(queues) == 2
