"""Every hop of the synthesized template is allowed by the policies AWS would evaluate (the
topic's, the queue's, the function's, the role's and the key's), and each failure path alarms.
The self-check mutates the template the way a regression would and expects the walk to say so."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from modelwatch.jobs.backfill_machine import WIDEST_INPUT
from modelwatch_infra.delivery_graph import DeliveryGraph, Hop

INPUTS = {"ModelWatch-backfill": WIDEST_INPUT}


def _refused(template: dict) -> list[Hop]:
    return DeliveryGraph(template, INPUTS).refused()


def _of_type(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _logical(template: dict, kind: str, starts: str) -> str:
    (found,) = [k for k in _of_type(template, kind) if k.startswith(starts)]
    return found


def test_every_hop_of_the_template_is_allowed(template):
    hops = DeliveryGraph(template, INPUTS).hops()
    kinds = {h.source.split()[0] for h in hops}
    # The walk reached every kind of source the stack has.
    assert {"alarm", "topic", "function", "log", "rule", "state", "route"} <= kinds
    assert [str(h) for h in hops if not h.decision.allowed] == []


def test_every_alarm_may_publish_to_both_topics(template):
    hops = DeliveryGraph(template, INPUTS).hops()
    publishes = {h.sink for h in hops if h.source.startswith("alarm ") and h.step == "sns:Publish"}
    assert publishes == {"topic AlertingAlerts", "topic AlertingOperations"}


def test_only_the_notifier_publishes_notices_and_no_alarm_may(template):
    hops = DeliveryGraph(template, INPUTS).hops()
    to_notices = [h for h in hops if h.sink.startswith("topic AlertingNotices") and h.step == "sns:Publish"]
    assert [h.source for h in to_notices] == ["function NotifyFunction"]
    assert all(h.decision.allowed for h in hops if h.source == "function NotifyFunction")
    # An alarm pointed at the notices topic (its raw message would reach email) is refused.
    broken = copy.deepcopy(template)
    alarm = next(a for a in _of_type(broken, "AWS::CloudWatch::Alarm").values() if a["Properties"].get("AlarmActions"))
    notices = _logical(broken, "AWS::SNS::Topic", "AlertingNotices")
    alarm["Properties"]["AlarmActions"].append({"Ref": notices})
    refused = [str(h) for h in _refused(broken)]
    assert any("topic AlertingNotices" in line and "cloudwatch.amazonaws.com" in line for line in refused), refused


def _drop_the_notifiers_publish_grant(template: dict) -> None:
    role = _logical(template, "AWS::IAM::Role", "NotifyRole")
    for policy in _of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements = policy["Properties"]["PolicyDocument"]["Statement"]
            statements[:] = [s for s in statements if s["Action"] != "sns:Publish"]


def _drop_alarm_publishing(template: dict) -> None:
    for policy in _of_type(template, "AWS::SNS::TopicPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        statements[:] = [s for s in statements if s.get("Effect") == "Deny"]


def _drop_the_capture_key_grant(template: dict) -> None:
    role = _logical(template, "AWS::IAM::Role", "CaptureRole")
    for policy in _of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements = policy["Properties"]["PolicyDocument"]["Statement"]
            statements[:] = [s for s in statements if not str(s["Action"]).startswith("['kms:")]
            statements[:] = [s for s in statements if not str(s["Action"]).startswith("kms:")]


def _drop_cloudwatch_from_the_topic_key(template: dict) -> None:
    key = _of_type(template, "AWS::KMS::Key")[_logical(template, "AWS::KMS::Key", "AlertingTopicKey")]
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    statements[:] = [s for s in statements if "Service" not in s["Principal"]]


def _drop_the_notifiers_permission(template: dict) -> None:
    for logical in list(_of_type(template, "AWS::Lambda::Permission")):
        if logical.startswith("NotifyFunctionAllowInvoke"):
            del template["Resources"][logical]


def _drop_a_rules_dead_letters(template: dict) -> None:
    rule = _of_type(template, "AWS::Events::Rule")[_logical(template, "AWS::Events::Rule", "RetrainingSchedule")]
    for target in rule["Properties"]["Targets"]:
        target.pop("DeadLetterConfig", None)


def _drop_the_execution_failure_alarms(template: dict) -> None:
    for logical, alarm in list(_of_type(template, "AWS::CloudWatch::Alarm").items()):
        if alarm["Properties"].get("MetricName") == "ExecutionsFailed":
            del template["Resources"][logical]


def _deny_the_schedule_queue(template: dict) -> None:
    queue = _logical(template, "AWS::SQS::Queue", "PipelineScheduleDeadLetters")
    for policy in _of_type(template, "AWS::SQS::QueuePolicy").values():
        if {"Ref": queue} in policy["Properties"]["Queues"]:
            policy["Properties"]["PolicyDocument"]["Statement"].append(
                {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
            )


def _narrow_the_alarm_condition_to_another_stack(template: dict) -> None:
    for policy in _of_type(template, "AWS::SNS::TopicPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                statement["Condition"]["ArnLike"]["aws:SourceArn"] = "arn:aws:cloudwatch:*:*:alarm:OtherStack-*"


MUTATIONS: dict[str, tuple[Callable[[dict], None], str]] = {
    "main's topic policy (TLS Deny only)": (_drop_alarm_publishing, "topic AlertingOperations"),
    "the capture role without its key grant": (_drop_the_capture_key_grant, "queue CaptureDeadLetters"),
    "the topic key without CloudWatch": (_drop_cloudwatch_from_the_topic_key, "key AlertingTopicKey"),
    "the notifier without SNS's permission": (_drop_the_notifiers_permission, "function NotifyFunction"),
    "a rule target without a dead-letter queue": (_drop_a_rules_dead_letters, "dead-letter queue"),
    "no alarm on failed executions": (_drop_the_execution_failure_alarms, "alarm on ExecutionsFailed"),
    "a Deny on a dead-letter queue": (_deny_the_schedule_queue, "queue PipelineScheduleDeadLetters"),
    "alarms of another stack only": (_narrow_the_alarm_condition_to_another_stack, "topic AlertingAlerts"),
    "the notifier without its publish grant": (_drop_the_notifiers_publish_grant, "topic AlertingNotices"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_mutation_of_the_template_is_refused(template, mutation):
    mutate, named = MUTATIONS[mutation]
    broken = copy.deepcopy(template)
    mutate(broken)
    refused = [str(h) for h in _refused(broken)]
    assert refused, f"{mutation}: the walk found nothing refused"
    assert any(named in line for line in refused), refused


def test_mains_topic_policy_refuses_both_topics(template):
    broken = copy.deepcopy(template)
    _drop_alarm_publishing(broken)
    refused = {h.sink for h in _refused(broken) if h.step == "sns:Publish"}
    assert refused == {"topic AlertingAlerts", "topic AlertingOperations"}


def test_a_log_level_that_drops_metric_and_capture_lines_is_refused(template):
    from modelwatch_infra.log_guard import dropped_log_lines

    assert dropped_log_lines(template) == []
    broken = copy.deepcopy(template)
    predict = _logical(broken, "AWS::Lambda::Function", "PredictFunction")
    config = broken["Resources"][predict]["Properties"].setdefault("LoggingConfig", {})
    config |= {"LogFormat": "JSON", "ApplicationLogLevel": "WARN"}
    (problem,) = dropped_log_lines(broken)
    assert problem.startswith(predict) and "WARN" in problem
