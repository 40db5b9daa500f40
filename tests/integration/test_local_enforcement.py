"""The local stack refuses what AWS would refuse: an alarm's publish that the topic policy does
not allow (main's policy, the TLS Deny alone), a function's call outside its role, a dead-letter
send without the queue key's grant, SNS's delivery to a function that does not permit it. Each
refusal is recorded (and, where AWS counts it, counted), and nothing is delivered."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from modelwatch.catalog import delivery
from modelwatch.catalog.metrics import LAMBDA_DEAD_LETTER_ERRORS, LAMBDA_FUNCTION_DIMENSION, LAMBDA_NAMESPACE
from modelwatch_local.slack import SlackReceiver
from tests.integration.conftest import GOOD

REFUSALS_EXPECTED = True  # this module breaks policies on purpose (tests/conftest.py)


def _five_hundreds(stack) -> None:
    """No model published: every prediction answers 503, and the 5xx rate alarm trips."""
    for minute in range(2):
        stack.clock.advance(60 if minute else 10)
        for _ in range(5):
            assert stack.call("predict", "POST", "/predict", {"instances": [GOOD]}).status == 503


def test_mains_topic_policy_refuses_the_alarms_publish_and_the_fix_delivers(stack_factory):
    stack = stack_factory()
    slack = SlackReceiver()
    stack.connect_slack(slack.url)
    stack.set_topic_policy([delivery.tls_only_statement(stack.alerts_topic)])  # main's topic policy
    _five_hundreds(stack)
    round_ = stack.evaluate_alarms()
    # Every change CloudWatch would publish (the 5xx alarm, and each alarm's first OK) is refused.
    published = [c.alarm_name for c in round_.changes if c.alarm.action == "notify"]
    assert "ModelWatch-HighServerErrorRate" in published
    assert [r.source for r in round_.refused] == [f"alarm {name}" for name in published]
    assert all("cloudwatch.amazonaws.com is not authorized to perform sns:Publish" in r.reason for r in round_.refused)
    assert stack.refusals == round_.refused
    assert stack.alerts() == [] and slack.received == []
    # The stack's policy (the catalogue's statements): the next change is published and reaches Slack.
    stack.set_topic_policy(
        [
            delivery.tls_only_statement(stack.alerts_topic),
            delivery.alarm_publish_statement(
                stack.alerts_topic, partition="aws", region="us-east-1", account="123456789012", stack_name="ModelWatch"
            ),
        ]
    )
    stack.alarms.states["HighServerErrorRate"] = "OK"  # as if it had recovered meanwhile
    round_ = stack.evaluate_alarms()
    slack.close()
    assert round_.refused == []
    assert [m["AlarmName"] for m in stack.alerts()] == ["ModelWatch-HighServerErrorRate"]
    assert any(m["text"].startswith(":red_circle: HighServerErrorRate: Api5xxRate") for m in slack.received)


def test_a_topic_key_without_cloudwatch_refuses_the_publish(stack_factory):
    stack = stack_factory()
    kms = stack.platform.client("kms")
    key = stack.platform.client("sns").get_topic_attributes(TopicArn=stack.alerts_topic)["Attributes"]["KmsMasterKeyId"]
    root = delivery.account_key_statement(partition="aws", account="123456789012")
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps({"Statement": [root]}))
    _five_hundreds(stack)
    refused = stack.evaluate_alarms().refused
    assert refused and all("key policy does not allow" in r.reason for r in refused)
    assert "alarm ModelWatch-HighServerErrorRate" in [r.source for r in refused]


def test_a_functions_call_outside_its_role_is_access_denied(stack_factory):
    stack = stack_factory()
    bucket = stack.platform.settings.data_bucket
    with stack.access.acting_as("predict"), pytest.raises(ClientError) as refused:
        stack.s3.put_object(Bucket=bucket, Key="reports/forged/drift.json", Body=b"{}")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "modelwatch-predict is not authorized to perform s3:PutObject" in str(refused.value)
    with stack.access.acting_as("drift"):  # the drift function writes reports
        stack.s3.put_object(Bucket=bucket, Key="reports/v1/1d/x/drift.json", Body=b"{}")
    with stack.access.acting_as("feedback"), pytest.raises(ClientError):
        stack.platform.client("ssm").put_parameter(
            Name=stack.platform.settings.pointer_parameter, Value="v9", Type="String", Overwrite=True
        )


def _without_key_grants(policies: list[dict]) -> list[dict]:
    return [
        {"Statement": [s for s in p["Statement"] if not str(s["Action"]).startswith(("kms:", "['kms:"))]}
        for p in policies
    ]


def test_a_dead_letter_send_without_the_key_grant_is_lost_and_counted(stack_factory, monkeypatch):
    stack = stack_factory()
    broken = {"awslogs": {"data": "not base64 gzip"}}  # the capture function fails on it every time
    assert stack.invoke_async("capture", broken) is None
    sqs = stack.platform.client("sqs")
    queue = stack.dead_letter_queues["capture"]
    assert int(sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"
    ]) == 1  # fmt: skip
    # Main's template: the role may send to the queue but not use its key.
    original = stack.access.role_policies
    monkeypatch.setattr(stack.access, "role_policies", lambda function: _without_key_grants(original(function)))
    assert stack.invoke_async("capture", broken) is None
    (refused,) = stack.refusals
    assert refused.source == "function capture" and "kms:GenerateDataKey" in refused.reason
    counted = stack.metrics.values(
        LAMBDA_NAMESPACE,
        LAMBDA_DEAD_LETTER_ERRORS,
        {LAMBDA_FUNCTION_DIMENSION: "modelwatch-capture"},
        stack.clock().replace(year=2000),
        stack.clock().replace(year=2100),
    )
    assert counted == [1.0]


def test_sns_cannot_deliver_to_a_notifier_that_does_not_permit_it(stack_factory):
    stack = stack_factory()
    slack = SlackReceiver()
    stack.connect_slack(slack.url)
    stack.access.function_policies.clear()
    stack.publish_alert("test", json.dumps({"text": "hello"}))
    slack.close()
    (refused,) = stack.refusals
    assert refused.action == "lambda:InvokeFunction" and slack.received == []


def test_a_bucket_notification_the_capture_function_does_not_permit_delivers_nothing(stack_factory):
    """The delivery stream writes its object; S3 may not invoke the capture function (no
    statement for s3.amazonaws.com), so nothing is filed, and the refusal names the hop."""
    stack = stack_factory()
    stack.publish_demo_model("v1", rows=1000)
    stack.access.function_policies.pop("capture")
    assert stack.call("predict", "POST", "/predict", {"features": GOOD}).status == 200
    stack.flush_deliveries()
    (refused,) = stack.refusals
    assert refused.source == "the data bucket" and refused.action == "lambda:InvokeFunction"
    assert stack.objects("capture/", bodies=False) == {}
    assert len(stack.objects("deliveries/", bodies=False)) == 1  # kept, for a redrive once it is fixed


def test_the_delivery_stream_writes_only_under_its_own_prefixes(stack_factory):
    """Firehose's role (the catalogue's statements) writes deliveries/ and deliveries-errors/,
    nothing else: a write elsewhere with that role is refused, as IAM would refuse it."""
    from modelwatch_local.access import DELIVERY_STREAM_ROLE

    stack = stack_factory()
    bucket = stack.platform.settings.data_bucket
    with stack.access.acting_as(DELIVERY_STREAM_ROLE):
        stack.s3.put_object(Bucket=bucket, Key="deliveries/dt=2026-12-01-00/x", Body=b"{}\n")
        with pytest.raises(ClientError, match="AccessDenied"):
            stack.s3.put_object(Bucket=bucket, Key="capture/model_version=v1/dt=2026-12-01-00/x.jsonl", Body=b"")


def test_a_functions_publish_needs_the_topic_key_as_well_as_its_role(stack_factory):
    """The approval function may publish its notice (its role, the topic's policy, the key that
    delegates to IAM); once the key policy stops delegating, the same publish is refused."""
    stack = stack_factory()
    sns, kms = stack.platform.client("sns"), stack.platform.client("kms")
    with stack.access.acting_as("approval"):
        sns.publish(TopicArn=stack.alerts_topic, Message="approval needed")
    with stack.access.acting_as("notify"), pytest.raises(ClientError):  # no publish in its role
        sns.publish(TopicArn=stack.alerts_topic, Message="not mine to send")
    key = sns.get_topic_attributes(TopicArn=stack.alerts_topic)["Attributes"]["KmsMasterKeyId"]
    kms.put_key_policy(
        KeyId=key, PolicyName="default", Policy=json.dumps({"Statement": [delivery.alarm_key_statement()]})
    )
    with stack.access.acting_as("approval"), pytest.raises(ClientError) as refused:
        sns.publish(TopicArn=stack.alerts_topic, Message="approval needed")
    assert "key policy does not allow" in str(refused.value)
