"""The local policy evaluation against the rules of AWS's "Policy evaluation logic" page and the
KMS key-policy rules, one rule per case."""

from __future__ import annotations

import pytest

from modelwatch.policy_evaluation import (
    Principal,
    Request,
    default_topic_policy,
    evaluate,
    evaluate_key,
    service_context,
)

TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ModelWatch-Latency"
ROLE = "arn:aws:iam::123456789012:role/capture"
CLOUDWATCH = Principal.service("cloudwatch.amazonaws.com")


def _publish(principal: Principal = CLOUDWATCH, context: dict | None = None) -> Request:
    return Request(principal, "sns:Publish", TOPIC, service_context(ALARM) if context is None else context)


ALLOW_ALARMS = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ModelWatch-*"},
    },
}
TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_a_service_needs_the_resource_policy_to_name_it():
    assert not evaluate(_publish(), resource_policy={"Statement": [TLS_ONLY]})
    assert evaluate(_publish(), resource_policy={"Statement": [TLS_ONLY, ALLOW_ALARMS]})


def test_the_default_topic_policy_lets_the_account_publish():
    assert evaluate(_publish(), resource_policy=default_topic_policy(TOPIC))
    other = service_context(ALARM, account="999999999999")
    assert not evaluate(_publish(context=other), resource_policy=default_topic_policy(TOPIC))


def test_conditions_limit_the_allow_to_the_stacks_alarms():
    other_alarm = service_context("arn:aws:cloudwatch:us-east-1:123456789012:alarm:Other-Latency")
    assert not evaluate(_publish(context=other_alarm), resource_policy={"Statement": [ALLOW_ALARMS]})


def test_an_explicit_deny_wins_over_an_allow():
    plain_http = {**service_context(ALARM), "aws:SecureTransport": "false"}
    decision = evaluate(_publish(context=plain_http), resource_policy={"Statement": [TLS_ONLY, ALLOW_ALARMS]})
    assert not decision and "explicit Deny" in decision.reason


def test_a_role_is_allowed_by_its_own_policy_within_the_account():
    send = Request(Principal.role(ROLE), "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:dl")
    identity = [{"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": send.resource}]}]
    assert evaluate(send, identity=identity, resource_policy={"Statement": []})
    assert not evaluate(send, identity=[], resource_policy={"Statement": []})


KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
ROOT = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}


def test_a_key_policy_that_names_the_account_delegates_to_the_roles_policy():
    use = Request(Principal.role(ROLE), "kms:GenerateDataKey", KEY)
    granted = [{"Statement": [{"Effect": "Allow", "Action": ["kms:GenerateDataKey"], "Resource": KEY}]}]
    assert evaluate_key(use, key_policy={"Statement": [ROOT]}, identity=granted)
    assert not evaluate_key(use, key_policy={"Statement": [ROOT]}, identity=[])
    # Without the account in the key policy, no IAM policy reaches the key.
    assert not evaluate_key(use, key_policy={"Statement": []}, identity=granted)


def test_a_service_uses_a_key_only_where_the_key_policy_names_it():
    use = Request(CLOUDWATCH, "kms:GenerateDataKey", KEY)
    named = {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "kms:GenerateDataKey*"}
    assert evaluate_key(use, key_policy={"Statement": [ROOT, {**named, "Resource": "*"}]})
    assert not evaluate_key(use, key_policy={"Statement": [ROOT]})


def test_an_operator_it_does_not_know_is_refused_not_guessed():
    odd = {**ALLOW_ALARMS, "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": "x"}}}
    with pytest.raises(ValueError, match="not evaluated"):
        evaluate(_publish(), resource_policy={"Statement": [odd]})
