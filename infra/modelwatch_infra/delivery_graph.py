"""Every delivery path of a synthesized template, walked from source to sink, each hop judged
by the policies AWS would evaluate (modelwatch.policy_evaluation): the resource's policy, the
sender's role and the KMS key policy of an encrypted destination.

The hops: alarm -> topic (and its key); topic -> subscription (a function's permission, a
queue's policy and key) and the subscription's dead-letter queue; a function -> each topic its
environment names, published with its role (the notifier's notices topic); a function invoked
asynchronously -> its dead-letter queue or failure destination; a Logs subscription -> its
destination; an EventBridge rule -> each target (and the target's dead-letter queue); a state
machine -> the functions, topics and buckets its tasks reach; S3 notifications and Firehose ->
their consumers; API Gateway -> its integrations. Each failure-path also needs someone told:
a function's dead letters, a state machine's failures and a rule's undelivered events alarm.

Intrinsic functions are resolved to names an account would hold (account 123456789012,
us-east-1), so ARNs compare as they would deployed. `python -m modelwatch_infra.delivery_graph
TEMPLATE.json` prints every hop; `make synth` runs it and fails on any refused hop.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelwatch.alerts.plan import DEAD_LETTERS_SENT, QUEUE_NAME_DIMENSION, SQS_NAMESPACE
from modelwatch.jobs.backfill_machine import WIDEST_INPUT
from modelwatch.policy_evaluation import (
    ACCOUNT,
    ENCRYPT_WITH_KEY,
    REGION,
    Decision,
    Principal,
    Request,
    default_topic_policy,
    evaluate,
    evaluate_key,
    service_context,
)

PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "ModelWatch",
    "AWS::NoValue": None,
}
LAMBDA_INVOKE_TASKS = ("arn:aws:states:::lambda:invoke", "arn:aws:states:::lambda:invoke.waitForTaskToken")
SNS_PUBLISH_TASKS = ("arn:aws:states:::sns:publish", "arn:aws:states:::sns:publish.waitForTaskToken")


@dataclass(frozen=True)
class Hop:
    source: str  # e.g. "alarm ModelWatch-Api5xxRate"
    sink: str  # e.g. "topic AlertingAlerts"
    step: str  # what is asked: "sns:Publish", "kms:GenerateDataKey", "alarm on DeadLetterErrors"
    decision: Decision

    def __str__(self) -> str:
        verdict = "OK     " if self.decision.allowed else "REFUSED"
        return f"{verdict} {self.source} -> {self.sink}: {self.step} ({self.decision.reason})"


class Template:
    """A synthesized template with its intrinsic functions resolved."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.resources: dict[str, dict[str, Any]] = dict(template["Resources"])

    def of_type(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical, resource in self.resources.items():
            if resource["Type"] == kind:
                yield logical, resource.get("Properties", {})

    def props(self, logical: str) -> dict[str, Any]:
        return self.resources[logical].get("Properties", {})

    def kind(self, logical: str) -> str:
        return self.resources[logical]["Type"]

    # -- names ------------------------------------------------------------------------------
    def _name(self, logical: str, key: str) -> str:
        value = self.props(logical).get(key)
        return logical if value is None else str(self.resolve(value))

    def ref(self, logical: str) -> Any:
        if logical in PSEUDO:
            return PSEUDO[logical]
        kind = self.kind(logical)
        simple = {
            "AWS::SNS::Topic": lambda: self.arn(logical),
            "AWS::SQS::Queue": lambda: (
                f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self._name(logical, 'QueueName')}"
            ),
            "AWS::Lambda::Function": lambda: self._name(logical, "FunctionName"),
            "AWS::Lambda::Alias": lambda: (
                f"{self._function_arn(self.props(logical)['FunctionName'])}:{self.resolve(self.props(logical)['Name'])}"
            ),
            "AWS::Lambda::Version": lambda: f"{self._function_arn(self.props(logical)['FunctionName'])}:1",
            "AWS::StepFunctions::StateMachine": lambda: self.arn(logical),
            "AWS::CloudWatch::Alarm": lambda: self._name(logical, "AlarmName"),
            "AWS::Events::Rule": lambda: self._name(logical, "Name"),
            "AWS::Logs::LogGroup": lambda: self._name(logical, "LogGroupName"),
            "AWS::S3::Bucket": lambda: self._name(logical, "BucketName").lower(),
            "AWS::SSM::Parameter": lambda: self._name(logical, "Name"),
            "AWS::KinesisFirehose::DeliveryStream": lambda: self._name(logical, "DeliveryStreamName"),
            "AWS::SecretsManager::Secret": lambda: self.arn(logical),
        }.get(kind)
        return simple() if simple else logical

    def arn(self, logical: str) -> str:
        kind = self.kind(logical)
        head = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:"
        arns = {
            "AWS::SNS::Topic": lambda: head.format("sns") + self._name(logical, "TopicName"),
            "AWS::SQS::Queue": lambda: head.format("sqs") + self._name(logical, "QueueName"),
            "AWS::Lambda::Function": lambda: head.format("lambda") + f"function:{self.ref(logical)}",
            "AWS::KMS::Key": lambda: head.format("kms") + f"key/{logical}",
            "AWS::CloudWatch::Alarm": lambda: head.format("cloudwatch") + f"alarm:{self.ref(logical)}",
            "AWS::Events::Rule": lambda: head.format("events") + f"rule/{self.ref(logical)}",
            "AWS::StepFunctions::StateMachine": lambda: (
                head.format("states") + f"stateMachine:{self._name(logical, 'StateMachineName')}"
            ),
            "AWS::IAM::Role": lambda: f"arn:aws:iam::{ACCOUNT}:role/{self._name(logical, 'RoleName')}",
            "AWS::Logs::LogGroup": lambda: head.format("logs") + f"log-group:{self.ref(logical)}:*",
            "AWS::S3::Bucket": lambda: f"arn:aws:s3:::{self.ref(logical)}",
            "AWS::KinesisFirehose::DeliveryStream": lambda: (
                head.format("firehose") + f"deliverystream/{self.ref(logical)}"
            ),
            # As CloudFormation names a generated secret (<logical id>-<random>) and Secrets Manager
            # suffixes its ARN (-<6 characters>): CDK reads the name back as the first two parts.
            "AWS::SecretsManager::Secret": lambda: head.format("secretsmanager") + f"secret:{logical}-Generated-AbCdEf",
            "AWS::Lambda::LayerVersion": lambda: head.format("lambda") + f"layer:{logical}:1",
        }
        if kind not in arns:
            raise ValueError(f"no ARN known for {logical} ({kind})")
        return arns[kind]()

    def _function_arn(self, value: Any) -> str:
        resolved = str(self.resolve(value))
        return resolved if resolved.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{resolved}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, Mapping):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        (function, argument), *_ = value.items()
        if function == "Ref":
            return self.ref(argument)
        if function == "Fn::GetAtt":
            logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            if attribute in ("Arn", "TopicArn"):
                return self.arn(logical)
            if attribute in ("Name", "QueueName", "TopicName"):
                return str(self.ref(logical)).rsplit("/", 1)[-1].rsplit(":", 1)[-1]
            if attribute == "QueueUrl":
                return self.ref(logical)
            return f"{logical}.{attribute}"
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(self.resolve(p)) for p in self.resolve(parts))
        if function == "Fn::Split":  # a secret's name, say, is a part of its ARN
            separator, source = argument
            return str(self.resolve(source)).split(separator)
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            variables = {k: self.resolve(v) for k, v in variables.items()}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in variables:
                    return str(variables[name])
                if "." in name:
                    return str(self.resolve({"Fn::GetAtt": name.split(".", 1)}))
                return str(self.ref(name))

            return re.sub(r"\$\{([^}!]+)\}", substitute, text)
        return {k: self.resolve(v) for k, v in value.items()}

    # -- policies -----------------------------------------------------------------------------
    def logical_of_arn(self, arn: str) -> str | None:
        for logical, resource in self.resources.items():
            try:
                if self.arn(logical) == arn:
                    return logical
            except ValueError:
                continue
            if resource["Type"] == "AWS::SNS::Topic" and self.ref(logical) == arn:
                return logical
        return None

    def role_policies(self, role: str) -> list[dict[str, Any]]:
        """Every identity policy of the role with logical id `role` (inline and attached)."""
        found = [self.resolve(p["PolicyDocument"]) for p in self.props(role).get("Policies", [])]
        for _, policy in self.of_type("AWS::IAM::Policy"):
            if {"Ref": role} in policy.get("Roles", []):
                found.append(self.resolve(policy["PolicyDocument"]))
        return found

    def role_of(self, arn_value: Any) -> str | None:
        """The logical id of a role given by `{"Fn::GetAtt": [role, "Arn"]}`."""
        if isinstance(arn_value, Mapping) and "Fn::GetAtt" in arn_value:
            return arn_value["Fn::GetAtt"][0]
        return None

    def topic_policy(self, topic: str) -> dict[str, Any]:
        statements = [
            s
            for _, policy in self.of_type("AWS::SNS::TopicPolicy")
            if {"Ref": topic} in policy["Topics"]
            for s in self.resolve(policy["PolicyDocument"])["Statement"]
        ]
        return {"Statement": statements} if statements else default_topic_policy(self.arn(topic))

    def queue_policy(self, queue: str) -> dict[str, Any]:
        return {
            "Statement": [
                s
                for _, policy in self.of_type("AWS::SQS::QueuePolicy")
                if {"Ref": queue} in policy["Queues"]
                for s in self.resolve(policy["PolicyDocument"])["Statement"]
            ]
        }

    def function_policy(self, function_arn: str) -> dict[str, Any]:
        """A function's resource-based policy, from its AWS::Lambda::Permission resources (for
        the function, an alias or a version of it)."""
        statements = []
        for _, permission in self.of_type("AWS::Lambda::Permission"):
            target = self._function_arn(permission["FunctionName"])
            if target != function_arn:
                continue
            principal = str(self.resolve(permission["Principal"]))
            condition: dict[str, Any] = {}
            if "SourceArn" in permission:
                condition["ArnLike"] = {"aws:SourceArn": self.resolve(permission["SourceArn"])}
            if "SourceAccount" in permission:
                condition["StringEquals"] = {"aws:SourceAccount": self.resolve(permission["SourceAccount"])}
            statements.append(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": principal} if principal.endswith(".amazonaws.com") else {"AWS": principal},
                    "Action": self.resolve(permission["Action"]),
                    "Resource": target,
                    "Condition": condition,
                }
            )
        return {"Statement": statements}

    def bucket_policy(self, bucket: str) -> dict[str, Any]:
        return {
            "Statement": [
                s
                for _, policy in self.of_type("AWS::S3::BucketPolicy")
                if policy["Bucket"] == {"Ref": bucket}
                for s in self.resolve(policy["PolicyDocument"])["Statement"]
            ]
        }

    def key_policy(self, key_arn: str) -> tuple[str, dict[str, Any]] | None:
        logical = self.logical_of_arn(key_arn)
        if logical is None or self.kind(logical) != "AWS::KMS::Key":
            return None
        return logical, self.resolve(self.props(logical)["KeyPolicy"])


def _short(logical: str) -> str:
    """A logical id without CDK's hash suffix, as people read it."""
    return re.sub(r"[0-9A-F]{8}$", "", logical)


class DeliveryGraph:
    """`machine_inputs`: a state machine's documented input by its name, where its tasks take a
    resource from the input (the backfill's prefix)."""

    def __init__(
        self, template: Mapping[str, Any], machine_inputs: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self.t = Template(template)
        self.machine_inputs = dict(machine_inputs or {})

    def hops(self) -> list[Hop]:
        return [
            *self._alarms(),
            *self._subscriptions(),
            *self._function_publishes(),
            *self._asynchronous_functions(),
            *self._log_subscriptions(),
            *self._rules(),
            *self._state_machines(),
            *self._bucket_notifications(),
            *self._firehoses(),
            *self._api_integrations(),
        ]

    def refused(self) -> list[Hop]:
        return [h for h in self.hops() if not h.decision.allowed]

    # -- building blocks ------------------------------------------------------------------------
    def _send_to_queue(
        self, source: str, principal: Principal, queue_arn: str, context: dict, identity: list
    ) -> Iterator[Hop]:
        queue = self.t.logical_of_arn(queue_arn)
        name = f"queue {_short(queue) if queue else queue_arn}"
        if queue is None:
            yield Hop(source, name, "sqs:SendMessage", Decision(False, f"{queue_arn} is not in the template"))
            return
        request = Request(principal, "sqs:SendMessage", queue_arn, context)
        yield Hop(
            source,
            name,
            "sqs:SendMessage",
            evaluate(request, identity=identity, resource_policy=self.t.queue_policy(queue), resource_name=name),
        )
        key = self.t.props(queue).get("KmsMasterKeyId")
        if key is not None:
            yield from self._use_key(source, name, principal, self.t.resolve(key), context, identity, ENCRYPT_WITH_KEY)

    def _use_key(
        self, source: str, sink: str, principal: Principal, key_arn: str, context: dict, identity: list, actions: tuple
    ) -> Iterator[Hop]:
        if not str(key_arn).startswith("arn:aws:kms:"):
            return  # an AWS managed key (alias/aws/...): its service may always use it
        found = self.t.key_policy(key_arn)
        if found is None:
            yield Hop(source, sink, "kms", Decision(False, f"key {key_arn} is not in the template"))
            return
        logical, policy = found
        for action in actions:
            request = Request(principal, action, key_arn, context)
            decision = evaluate_key(request, key_policy=policy, identity=identity, key_name=f"key {_short(logical)}")
            yield Hop(source, f"{sink} (key {_short(logical)})", action, decision)

    def _invoke_function(
        self, source: str, principal: Principal, function_arn: str, context: dict, identity: list
    ) -> Hop:
        request = Request(principal, "lambda:InvokeFunction", function_arn, context)
        name = f"function {function_arn.split(':function:')[-1]}"
        if principal.kind == "service":
            policy = self.t.function_policy(function_arn)
            return Hop(
                source, name, "lambda:InvokeFunction", evaluate(request, resource_policy=policy, resource_name=name)
            )
        return Hop(source, name, "lambda:InvokeFunction", evaluate(request, identity=identity, resource_name=name))

    def _publish(
        self, source: str, principal: Principal, topic_arn: str, context: dict, identity: list
    ) -> Iterator[Hop]:
        topic = self.t.logical_of_arn(topic_arn)
        if topic is None:
            yield Hop(source, topic_arn, "sns:Publish", Decision(False, "the topic is not in the template"))
            return
        name = f"topic {_short(topic)}"
        request = Request(principal, "sns:Publish", topic_arn, context)
        decision = evaluate(request, identity=identity, resource_policy=self.t.topic_policy(topic), resource_name=name)
        yield Hop(source, name, "sns:Publish", decision)
        key = self.t.props(topic).get("KmsMasterKeyId")
        if key is not None:
            yield from self._use_key(source, name, principal, self.t.resolve(key), context, identity, ENCRYPT_WITH_KEY)

    def _watched(self, source: str, what: str, namespace: str, metric: str, dimension: str, value: str) -> Hop:
        for _, alarm in self.t.of_type("AWS::CloudWatch::Alarm"):
            dimensions = {d["Name"]: self.t.resolve(d["Value"]) for d in alarm.get("Dimensions", [])}
            if (alarm.get("Namespace"), alarm.get("MetricName")) == (namespace, metric) and dimensions.get(
                dimension
            ) == value:
                if alarm.get("AlarmActions"):
                    return Hop(source, what, f"alarm on {metric}", Decision(True, f"{alarm['AlarmName']} notifies"))
                return Hop(source, what, f"alarm on {metric}", Decision(False, f"{alarm['AlarmName']} notifies nobody"))
        return Hop(source, what, f"alarm on {metric}", Decision(False, f"no alarm on {namespace} {metric}"))

    # -- sources -------------------------------------------------------------------------------
    def _alarms(self) -> Iterator[Hop]:
        cloudwatch = Principal.service("cloudwatch.amazonaws.com")
        for logical, alarm in self.t.of_type("AWS::CloudWatch::Alarm"):
            arn = self.t.arn(logical)
            actions = {
                str(self.t.resolve(a))
                for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
                for a in alarm.get(key, [])
            }
            for action in sorted(actions):
                if action.startswith("arn:aws:sns:"):
                    yield from self._publish(
                        f"alarm {alarm['AlarmName']}", cloudwatch, action, service_context(arn), []
                    )

    def _subscriptions(self) -> Iterator[Hop]:
        sns = Principal.service("sns.amazonaws.com")
        for _, subscription in self.t.of_type("AWS::SNS::Subscription"):
            topic_arn = str(self.t.resolve(subscription["TopicArn"]))
            topic = self.t.logical_of_arn(topic_arn)
            source = f"topic {_short(topic) if topic else topic_arn}"
            context = service_context(topic_arn)
            protocol = subscription["Protocol"]
            endpoint = str(self.t.resolve(subscription["Endpoint"]))
            if protocol == "lambda":
                yield self._invoke_function(source, sns, self.t._function_arn(subscription["Endpoint"]), context, [])
            elif protocol == "sqs":
                yield from self._send_to_queue(source, sns, endpoint, context, [])
            elif protocol in ("email", "email-json", "https", "http", "sms"):
                yield Hop(source, f"{protocol} {endpoint}", "deliver", Decision(True, "no policy applies"))
            else:
                yield Hop(source, endpoint, protocol, Decision(False, f"protocol {protocol} is not checked"))
            redrive = subscription.get("RedrivePolicy", {}).get("deadLetterTargetArn")
            if redrive is not None:
                yield from self._send_to_queue(f"{source} dead letters", sns, str(self.t.resolve(redrive)), context, [])

    def _function_publishes(self) -> Iterator[Hop]:
        """A function whose environment names a topic publishes there with its role (and the
        topic's key): the notifier's notices, which the email subscriptions receive."""
        for logical, function in self.t.of_type("AWS::Lambda::Function"):
            variables = function.get("Environment", {}).get("Variables", {})
            topics = sorted({str(self.t.resolve(v)) for v in variables.values()} - {"None"})
            topics = [t for t in topics if t.startswith("arn:aws:sns:")]
            if not topics:
                continue
            role = self.t.role_of(function["Role"])
            identity = self.t.role_policies(role) if role else []
            principal = Principal.role(self.t.arn(role)) if role else Principal.service("lambda.amazonaws.com")
            source = f"function {_short(str(self.t.ref(logical)))}"
            for topic in topics:
                yield from self._publish(source, principal, topic, {"aws:SecureTransport": "true"}, identity)

    def _asynchronous_functions(self) -> Iterator[Hop]:
        for logical, function in self.t.of_type("AWS::Lambda::Function"):
            role = self.t.role_of(function["Role"])
            identity = self.t.role_policies(role) if role else []
            principal = Principal.role(self.t.arn(role)) if role else Principal.service("lambda.amazonaws.com")
            name = str(self.t.ref(logical))
            source = f"function {_short(name)} (async failure)"
            dead_letters = function.get("DeadLetterConfig", {}).get("TargetArn")
            targets = [self.t.resolve(dead_letters)] if dead_letters else []
            for _, config in self.t.of_type("AWS::Lambda::EventInvokeConfig"):
                if self.t.resolve(config["FunctionName"]) == name:
                    destinations = config.get("DestinationConfig", {})
                    targets += [self.t.resolve(d["Destination"]) for d in destinations.values()]
            for target in targets:
                if target.startswith("arn:aws:sqs:"):
                    yield from self._send_to_queue(source, principal, target, {"aws:SecureTransport": "true"}, identity)
                elif target.startswith("arn:aws:sns:"):
                    yield from self._publish(source, principal, target, {"aws:SecureTransport": "true"}, identity)
                elif target.startswith("arn:aws:lambda:"):
                    yield self._invoke_function(source, principal, target, {}, identity)
            if dead_letters:
                yield self._watched(
                    source, f"function {_short(name)}", "AWS/Lambda", "DeadLetterErrors", "FunctionName", name
                )

    def _log_subscriptions(self) -> Iterator[Hop]:
        for _, subscription in self.t.of_type("AWS::Logs::SubscriptionFilter"):
            group = str(self.t.resolve(subscription["LogGroupName"]))
            group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"
            source = f"log group {_short(group)} ({subscription.get('FilterName', '')})"
            destination = str(self.t.resolve(subscription["DestinationArn"]))
            context = service_context(group_arn)
            if destination.startswith("arn:aws:lambda:"):
                principal = Principal.service("logs.amazonaws.com")
                yield self._invoke_function(source, principal, destination, context, [])
                continue
            yield from self._assumed(
                source,
                subscription.get("RoleArn"),
                f"logs.{REGION}.amazonaws.com",
                destination,
                ("firehose:PutRecord", "firehose:PutRecordBatch", "kinesis:PutRecord", "kinesis:PutRecords"),
                context,
            )

    def _assumed(
        self, source: str, role_value: Any, service: str, target: str, actions: tuple, context: dict
    ) -> Iterator[Hop]:
        """A service that acts through a role: the role trusts the service, and allows the action."""
        role = self.t.role_of(role_value)
        if role is None:
            yield Hop(source, target, "sts:AssumeRole", Decision(False, "no role to act with"))
            return
        trust = self.t.resolve(self.t.props(role).get("AssumeRolePolicyDocument", {}))
        # Trust policies name the principal; the resource is the role.
        request = Request(Principal.service(service), "sts:AssumeRole", self.t.arn(role), context)
        yield Hop(
            source,
            f"role {_short(role)}",
            "sts:AssumeRole",
            evaluate(request, resource_policy=trust, resource_name=f"role {_short(role)}"),
        )
        principal = Principal.role(self.t.arn(role))
        identity = self.t.role_policies(role)
        name = target.split(":")[-1]
        # The actions of the target's own service (a Logs destination is Firehose or Kinesis).
        wanted = [a for a in actions if a.split(":")[0] == target.split(":")[2]]
        if not wanted:
            yield Hop(source, name, "deliver", Decision(False, "no known action delivers to this target"))
        for action in wanted:
            request = Request(principal, action, target, {"aws:SecureTransport": "true"})
            yield Hop(source, name, action, evaluate(request, identity=identity, resource_name=name))

    def _rules(self) -> Iterator[Hop]:
        events = Principal.service("events.amazonaws.com")
        for logical, rule in self.t.of_type("AWS::Events::Rule"):
            arn = self.t.arn(logical)
            context = service_context(arn)
            for target in rule.get("Targets", []):
                source = f"rule {_short(logical)}"
                destination = str(self.t.resolve(target["Arn"]))
                if destination.startswith("arn:aws:lambda:") and "RoleArn" not in target:
                    yield self._invoke_function(source, events, destination, context, [])
                elif destination.startswith("arn:aws:states:"):
                    yield from self._assumed(
                        source,
                        target.get("RoleArn"),
                        "events.amazonaws.com",
                        destination,
                        ("states:StartExecution",),
                        context,
                    )
                elif destination.startswith("arn:aws:sns:"):
                    yield from self._publish(source, events, destination, context, [])
                elif destination.startswith("arn:aws:sqs:"):
                    yield from self._send_to_queue(source, events, destination, context, [])
                else:
                    yield Hop(source, destination, "deliver", Decision(False, "target kind is not checked"))
                dead_letters = target.get("DeadLetterConfig", {}).get("Arn")
                if dead_letters is None:
                    yield Hop(
                        source,
                        destination.split(":")[-1],
                        "dead-letter queue",
                        Decision(False, "the target has no dead-letter queue: an event it cannot take is dropped"),
                    )
                    continue
                queue_arn = str(self.t.resolve(dead_letters))
                yield from self._send_to_queue(f"{source} dead letters", events, queue_arn, context, [])
                queue = self.t.logical_of_arn(queue_arn)
                if queue is not None:
                    name = str(self.t.resolve({"Fn::GetAtt": [queue, "QueueName"]}))
                    yield self._watched(
                        source,
                        f"queue {_short(queue)}",
                        SQS_NAMESPACE,
                        DEAD_LETTERS_SENT,  # each arrival, as the alarm plan's dead-letter alarm judges
                        QUEUE_NAME_DIMENSION,
                        name,
                    )

    def _state_machines(self) -> Iterator[Hop]:
        for logical, machine in self.t.of_type("AWS::StepFunctions::StateMachine"):
            arn = self.t.arn(logical)
            role = self.t.role_of(machine["RoleArn"])
            identity = self.t.role_policies(role) if role else []
            principal = Principal.role(self.t.arn(role)) if role else Principal.service("states.amazonaws.com")
            source = f"state machine {_short(logical)}"
            definition = json.loads(self.t.resolve(machine["DefinitionString"]))
            execution_input = self.machine_inputs.get(arn.rsplit(":", 1)[-1], {})
            for state in _states(definition):
                yield from self._task(source, principal, state, identity, execution_input)
            yield self._watched(source, source, "AWS/States", "ExecutionsFailed", "StateMachineArn", arn)

    def _task(
        self, source: str, principal: Principal, state: Mapping[str, Any], identity: list, execution_input: Mapping
    ) -> Iterator[Hop]:
        context = {"aws:SecureTransport": "true"}
        resource = state.get("Resource", "")
        parameters = state.get("Parameters", {}) or state.get("Arguments", {})
        if resource in LAMBDA_INVOKE_TASKS:
            function = parameters.get("FunctionName")
            if function is None or str(function).startswith("$"):
                yield Hop(source, "function", "lambda:InvokeFunction", Decision(False, "the function is not fixed"))
                return
            yield self._invoke_function(source, principal, str(function), context, identity)
        elif resource.startswith("arn:aws:lambda:"):
            yield self._invoke_function(source, principal, resource, context, identity)
        elif resource in SNS_PUBLISH_TASKS:
            yield from self._publish(source, principal, str(parameters.get("TopicArn")), context, identity)
        if "ItemReader" in state:
            parameters = state["ItemReader"].get("Parameters", {})
            bucket = parameters.get("Bucket", "")
            prefix = parameters.get(
                "Prefix", execution_input.get(str(parameters.get("Prefix.$", "")).removeprefix("$."))
            )
            listing = {**context, **({} if prefix is None else {"s3:prefix": prefix})}
            request = Request(principal, "s3:ListBucket", f"arn:aws:s3:::{bucket}", listing)
            yield Hop(source, f"bucket {bucket}", "s3:ListBucket", evaluate(request, identity=identity))
        if "ResultWriter" in state:
            bucket = state["ResultWriter"].get("Parameters", {}).get("Bucket", "")
            prefix = state["ResultWriter"].get("Parameters", {}).get("Prefix", "")
            # Step Functions writes <Prefix>/<map run id>/manifest.json and the result files.
            written = f"arn:aws:s3:::{bucket}/{prefix.rstrip('/')}/map-run/manifest.json"
            request = Request(principal, "s3:PutObject", written, context)
            yield Hop(source, f"bucket {bucket}/{prefix}", "s3:PutObject", evaluate(request, identity=identity))

    def _bucket_notifications(self) -> Iterator[Hop]:
        for logical, bucket in self.t.of_type("AWS::S3::Bucket"):
            configuration = bucket.get("NotificationConfiguration", {})
            context = service_context(self.t.arn(logical))
            source = f"bucket {_short(logical)}"
            s3 = Principal.service("s3.amazonaws.com")
            for item in configuration.get("LambdaConfigurations", []):
                yield self._invoke_function(source, s3, str(self.t.resolve(item["Function"])), context, [])
            for item in configuration.get("QueueConfigurations", []):
                yield from self._send_to_queue(source, s3, str(self.t.resolve(item["Queue"])), context, [])
            for item in configuration.get("TopicConfigurations", []):
                yield from self._publish(source, s3, str(self.t.resolve(item["Topic"])), context, [])

    def _firehoses(self) -> Iterator[Hop]:
        for logical, stream in self.t.of_type("AWS::KinesisFirehose::DeliveryStream"):
            source = f"firehose {_short(logical)}"
            for key in ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration"):
                destination = stream.get(key)
                if destination is None:
                    continue
                bucket_arn = str(self.t.resolve(destination["BucketARN"]))
                prefixes = [
                    str(self.t.resolve(destination.get("Prefix", ""))),
                    str(self.t.resolve(destination.get("ErrorOutputPrefix", ""))),
                ]
                for prefix in prefixes:
                    target = f"{bucket_arn}/{_literal_prefix(prefix)}object"
                    # Firehose assumes its role with the account's id as the external id (which
                    # AWS advises the trust policy to require).
                    yield from self._assumed(
                        source,
                        destination.get("RoleARN"),
                        "firehose.amazonaws.com",
                        target,
                        ("s3:PutObject",),
                        {"sts:ExternalId": ACCOUNT},
                    )
                encryption = destination.get("EncryptionConfiguration", {}).get("KMSEncryptionConfig")
                role = self.t.role_of(destination.get("RoleARN"))
                if encryption and role:
                    principal = Principal.role(self.t.arn(role))
                    key = str(self.t.resolve(encryption["AWSKMSKeyARN"]))
                    yield from self._use_key(
                        source, "bucket", principal, key, {}, self.t.role_policies(role), ("kms:GenerateDataKey",)
                    )

    def _api_integrations(self) -> Iterator[Hop]:
        apigateway = Principal.service("apigateway.amazonaws.com")
        for _, route in self.t.of_type("AWS::ApiGatewayV2::Route"):
            target = str(self.t.resolve(route.get("Target", "")))
            integration_id = target.removeprefix("integrations/")
            integration = self.t.resources.get(integration_id, {}).get("Properties")
            if integration is None:
                continue
            method, path = str(route["RouteKey"]).split(" ", 1)
            api = str(self.t.resolve(route["ApiId"]))
            source_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/$default/{method}{path}"
            function = self.t._function_arn(integration["IntegrationUri"])
            yield self._invoke_function(
                f"route {route['RouteKey']}", apigateway, function, service_context(source_arn), []
            )


def _literal_prefix(prefix: str) -> str:
    """A Firehose prefix up to its first expression (!{...}), where a real key starts."""
    return prefix.split("!{", 1)[0]


def _states(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for state in definition.get("States", {}).values():
        yield state
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                yield from _states(state[nested])
        for branch in state.get("Branches", []):
            yield from _states(branch)


def refused_in_assembly(assembly: Any, stack_name: str) -> list[Hop]:
    """The refused hops of a synthesized stack, with its state machines' documented inputs."""

    template = assembly.get_stack_by_name(stack_name).template
    return DeliveryGraph(template, {f"{stack_name}-backfill": WIDEST_INPUT}).refused()


def main(argv: list[str] | None = None) -> int:
    """`python -m modelwatch_infra.delivery_graph TEMPLATE.json [STACK]`: every hop, then a count."""

    path, *rest = argv if argv is not None else sys.argv[1:]
    stack = rest[0] if rest else Path(path).name.split(".")[0]
    hops = DeliveryGraph(json.loads(Path(path).read_text()), {f"{stack}-backfill": WIDEST_INPUT}).hops()
    for hop in hops:
        print(hop)
    refused = [h for h in hops if not h.decision.allowed]
    print(f"{path}: {len(hops)} hops, {len(refused)} refused")
    return 1 if refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
