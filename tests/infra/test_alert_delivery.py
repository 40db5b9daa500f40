"""Alerts that get through: every queue alarms, a model that fails to load alarms, and the
alerting path's own failures reach on-call by email, not through the Slack notifier."""

from __future__ import annotations

import pytest

from tests.infra.conftest import synthesize


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def test_every_queue_has_an_alarm_on_messages_arriving(template):
    """On each message sent to the queue (a Sum over the period), not on its depth: a second
    failure while the first dead letter waits is heard too."""
    queues = set(_resources(template, "AWS::SQS::Queue"))
    alarms = [
        alarm
        for alarm in _resources(template, "AWS::CloudWatch::Alarm").values()
        if any(dimension["Name"] == "QueueName" for dimension in alarm.get("Dimensions", []))
    ]
    watched = {d["Value"]["Fn::GetAtt"][0] for alarm in alarms for d in alarm["Dimensions"] if d["Name"] == "QueueName"}
    assert queues and queues == watched
    keys = ("Namespace", "MetricName", "Statistic", "ComparisonOperator", "Threshold", "TreatMissingData")
    judged = {tuple(alarm[key] for key in keys) for alarm in alarms}
    assert judged == {("AWS/SQS", "NumberOfMessagesSent", "Sum", "GreaterThanThreshold", 0, "notBreaching")}


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


def test_email_gets_the_notifiers_notices_and_the_alerts_topic_reaches_the_notifier_only(template):
    from modelwatch.catalog.functions import NOTICES_TOPIC
    from tests.infra.template_queries import function_resource

    topics = {p["DisplayName"]: k for k, p in _resources(template, "AWS::SNS::Topic").items()}
    by_topic: dict[str, set[str]] = {}
    for subscription in _resources(template, "AWS::SNS::Subscription").values():
        by_topic.setdefault(subscription["TopicArn"]["Ref"], set()).add(subscription["Protocol"])
    assert by_topic[topics["ModelWatch alerts"]] == {"lambda"}
    assert by_topic[topics["ModelWatch notices"]] == {"email"}
    # The notifier is told where to publish them, and the notices topic is encrypted like the others.
    _, notifier = function_resource(template, "notify")
    assert notifier["Environment"]["Variables"][NOTICES_TOPIC] == {"Ref": topics["ModelWatch notices"]}
    notices = _resources(template, "AWS::SNS::Topic")[topics["ModelWatch notices"]]
    alerts = _resources(template, "AWS::SNS::Topic")[topics["ModelWatch alerts"]]
    assert notices["KmsMasterKeyId"] == alerts["KmsMasterKeyId"]


def test_without_slack_the_notifier_still_runs_and_reads_no_secret():
    from modelwatch.catalog.functions import SLACK_SECRET
    from tests.infra.template_queries import function_resource, role_statements

    _, synthesized, _ = synthesize({"slackSecretName": ""}, nag=False)
    template = synthesized.to_json()
    logical, notifier = function_resource(template, "notify")
    assert notifier["Environment"]["Variables"][SLACK_SECRET] == ""
    actions = str([s["Action"] for s in role_statements(template, notifier["Role"]["Fn::GetAtt"][0])])
    assert "secretsmanager" not in actions and "sns:Publish" in actions
    subscribed = [
        s["Endpoint"] for s in _resources(template, "AWS::SNS::Subscription").values() if s["Protocol"] == "lambda"
    ]
    assert subscribed == [{"Fn::GetAtt": [logical, "Arn"]}]  # subscribed all the same


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


def test_the_capture_paths_first_hop_is_one_alarm_on_the_delivery_stream(template):
    """The subscription filters put every capture line on one delivery stream: one alarm on its
    oldest undelivered record's age covers that hop (modelwatch.cost counts it as one alarm, one
    metric); what the stream could not process is the plan's CaptureFailed alarm."""
    alarms = _resources(template, "AWS::CloudWatch::Alarm").values()
    (stream,) = _resources(template, "AWS::KinesisFirehose::DeliveryStream").values()
    (freshness,) = [a for a in alarms if a.get("Namespace") == "AWS/Firehose"]
    assert freshness["MetricName"] == "DeliveryToS3.DataFreshness" and "Metrics" not in freshness
    assert freshness["Dimensions"] == [{"Name": "DeliveryStreamName", "Value": stream["DeliveryStreamName"]}]
    assert freshness["AlarmActions"]
    assert not [a for a in alarms if a.get("Namespace") == "AWS/Logs"]  # no alarm per subscription filter
    assert _resources(template, "AWS::Logs::SubscriptionFilter")
