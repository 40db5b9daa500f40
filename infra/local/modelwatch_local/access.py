"""What AWS would refuse, refused locally too: each function's calls are judged against its role
(the statements modelwatch.catalog.permissions gives the stack's roles), an alarm's publish
against the topic's policy and key policy as moto holds them, a dead-letter send against the
sender's role and the queue's key, and SNS's delivery to the notifier against the function's
permission. moto itself allows every call; without this, a permission the code needs and the
stack lacks would fail only in AWS.

A refused call answers AccessDenied, as AWS does; a refused delivery is recorded (`refusals`)
for the story, the tests and the demo to show, and the event is not delivered."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import unquote

from modelwatch.catalog import functions as catalog
from modelwatch.catalog import permissions
from modelwatch.data_access.platform import Platform
from modelwatch.policy_evaluation import (
    ACCOUNT,
    Decision,
    Principal,
    Request,
    alarm_publish_decision,
    encrypted_delivery,
    evaluate,
    evaluate_key,
    service_context,
)
from modelwatch_local.held_policies import bucket_key, key_policy, topic_policies

# The function whose code is running (None: the local runtime or a test, acting as the account's
# administrator).
acting_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("acting_function", default=None)
# The capture delivery stream's own role (Firehose writing to S3), judged like a function's.
DELIVERY_STREAM_ROLE = "delivery-stream"
DELIVERY_STREAM_ARN = f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/modelwatch-capture"


@dataclass(frozen=True)
class Refusal:
    """A hop AWS would refuse: who asked what of which resource, and why not."""

    at: datetime
    source: str
    sink: str
    action: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source} -> {self.sink}: {self.action} refused ({self.reason})"


def role_arn(function: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/modelwatch-{function}"


def _s3_requests(operation: str, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    bucket = params.get("Bucket", "")
    objects = f"arn:aws:s3:::{bucket}/{params.get('Key', '')}"
    if operation in ("GetObject", "HeadObject"):
        return [("s3:GetObject", objects, {})]
    if operation == "PutObject":
        return [("s3:PutObject", objects, {})]
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, dict):
            source_arn = f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"
        else:  # botocore has already written it as "bucket/key" (URL-encoded)
            source_arn = f"arn:aws:s3:::{unquote(source.lstrip('/'))}"
        return [("s3:GetObject", source_arn, {}), ("s3:PutObject", objects, {})]
    if operation in ("ListObjectsV2", "ListObjects"):
        context = {"s3:prefix": params["Prefix"]} if "Prefix" in params else {}
        return [("s3:ListBucket", f"arn:aws:s3:::{bucket}", context)]
    if operation in ("DeleteObject",):
        return [("s3:DeleteObject", objects, {})]
    return [(f"s3:{operation}", f"arn:aws:s3:::{bucket}", {})]


def _s3_key_actions(operation: str, params: dict[str, Any], bucket: str) -> list[str]:
    """What S3 asks of an SSE-KMS bucket's key for the caller: decrypting an object read from
    `bucket`, a data key for an object written to it (HeadObject and listings use no key)."""
    actions = []
    if operation == "GetObject" and params.get("Bucket") == bucket:
        actions.append("kms:Decrypt")
    if operation == "CopyObject":
        source = params["CopySource"]
        source_bucket = source["Bucket"] if isinstance(source, dict) else unquote(source.lstrip("/")).split("/", 1)[0]
        if source_bucket == bucket:
            actions.append("kms:Decrypt")
    if operation in ("PutObject", "CopyObject") and params.get("Bucket") == bucket:
        actions.append("kms:GenerateDataKey")
    return actions


class LocalAccess:
    """The account's authorization as AWS evaluates it, for the local stack's resources."""

    def __init__(
        self,
        region: str,
        environment: dict[str, str],
        alerts_topic_arn: str,
        alerts_key_arn: str,
        notices_topic_arn: str = "",
    ) -> None:
        self.region, self.environment = region, environment
        self.alerts_topic_arn, self.alerts_key_arn = alerts_topic_arn, alerts_key_arn
        self.notices_topic_arn = notices_topic_arn
        self.refusals: list[Refusal] = []
        # Resource-based policies of functions: what the stack's subscriptions and rules add
        # (SNS may invoke the notifier, for the alerts topic only).
        self.function_policies: dict[str, dict[str, Any]] = {
            catalog.NOTIFY.name: {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "lambda:InvokeFunction",
                        "Resource": self.function_arn(catalog.NOTIFY.name),
                        "Condition": {"ArnLike": {"aws:SourceArn": alerts_topic_arn}},
                    }
                ]
            }
        }
        # S3 may invoke the capture function, for the data bucket's delivered objects.
        self.function_policies[catalog.CAPTURE_FUNCTION.name] = {
            "Statement": [
                permissions.notification_invoke_statement(
                    self.function_arn(catalog.CAPTURE_FUNCTION.name), self.data_bucket_arn, ACCOUNT
                )
            ]
        }
        # The subscription filters' role (CloudWatch Logs putting batches on the delivery stream).
        self.log_delivery_policy = {"Statement": permissions.log_delivery_statements(DELIVERY_STREAM_ARN)}
        self.dead_letter_queues: dict[str, tuple[str, str | None]] = {}  # function -> (queue ARN, key ARN)

    # -- who holds what --------------------------------------------------------------------------
    def function_arn(self, function: str) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:modelwatch-{function}"

    def _resources(self) -> permissions.Resources:
        environment = self.environment
        pointer = environment[catalog.POINTER_PARAMETER].lstrip("/")
        secrets = {
            name: f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:{environment[name]}-??????"
            for name in (catalog.SLACK_SECRET, catalog.PSEUDONYM_SECRET, catalog.REQUEST_ID_SECRET)
            if environment.get(name)
        }
        return permissions.Resources(
            data_bucket_arn=f"arn:aws:s3:::{environment[catalog.DATA_BUCKET]}",
            model_bucket_arn=f"arn:aws:s3:::{environment[catalog.MODEL_BUCKET]}",
            model_prefix=environment[catalog.MODEL_PREFIX],
            pointer_arn=f"arn:aws:ssm:{self.region}:{ACCOUNT}:parameter/{pointer}",
            secrets=secrets,
            alerts_topic_arn=self.alerts_topic_arn,
            alerts_key_arn=self.alerts_key_arn,
            notices_topic_arn=self.notices_topic_arn,
            data_key_arn=self.data_key_arn or "",
            s3_endpoint=self.s3_endpoint,
        )

    @property
    def data_bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.environment[catalog.DATA_BUCKET]}"

    @property
    def data_key_arn(self) -> str | None:
        """The data bucket's key, as moto holds the bucket's default encryption (the stack
        encrypts the bucket with it and grants the roles that same key)."""
        return bucket_key(self.environment[catalog.DATA_BUCKET], ACCOUNT)

    @property
    def s3_endpoint(self) -> str:
        return f"s3.{self.region}.amazonaws.com"

    def role_policies(self, function: str) -> list[dict[str, Any]]:
        """The function's role as the stack deploys it: the catalogue's statements, and what
        Lambda needs to dead-letter a failed event (the queue, and its key when encrypted).
        The delivery stream's role: what the catalogue gives Firehose on the data bucket."""
        if function == DELIVERY_STREAM_ROLE:
            key = self.data_key_arn or ""
            return [{"Statement": permissions.delivery_stream_statements(self.data_bucket_arn, key, self.s3_endpoint)}]
        definition = catalog.FUNCTIONS[function]
        policies = [permissions.role_policy(definition, self._resources())]
        if function in self.dead_letter_queues:
            queue, key = self.dead_letter_queues[function]
            policies.append({"Statement": permissions.dead_letter_statements(queue, key)})
        return policies

    # -- judging -----------------------------------------------------------------------------------
    def refuse(self, at: datetime, source: str, sink: str, action: str, decision: Decision) -> None:
        self.refusals.append(Refusal(at, source, sink, action, decision.reason))

    def call(self, function: str, service: str, operation: str, params: dict[str, Any]) -> Decision:
        """A call the function's code makes, judged against its role."""
        principal = Principal.role(role_arn(function))
        identity = self.role_policies(function)
        secure = {"aws:SecureTransport": "true"}
        if service == "sns" and operation == "Publish":  # the topic's policy and key policy decide too
            topic = str(params.get("TopicArn", ""))
            held = topic_policies(topic)
            if held is None:
                return Decision(False, f"topic {topic} does not exist")
            policy, key, held_key = held
            request = Request(principal, "sns:Publish", topic, secure)
            return encrypted_delivery(request, policy, identity, key, held_key, f"topic {topic.rsplit(':', 1)[-1]}")
        for action, resource, context in self._requests(service, operation, params):
            decision = evaluate(Request(principal, action, resource, {**secure, **context}), identity=identity)
            if not decision:
                return decision
        if service == "s3":
            return self._data_key_use(principal, identity, operation, params)
        return Decision(True, "the role allows every action the call needs")

    def _data_key_use(
        self, principal: Principal, identity: list[dict[str, Any]], operation: str, params: dict[str, Any]
    ) -> Decision:
        """An object read from or written to the SSE-KMS data bucket: S3 uses its key for the
        caller, which the key policy and the role must both allow (through S3 only)."""
        key = self.data_key_arn
        actions = _s3_key_actions(operation, params, self.environment[catalog.DATA_BUCKET]) if key else []
        held = key_policy(ACCOUNT, self.region, key) if key and actions else None
        if key is None or held is None:
            return Decision(True, "the role allows every action the call needs")
        context = {"aws:SecureTransport": "true", "kms:ViaService": self.s3_endpoint}
        for action in actions:
            request = Request(principal, action, key, context)
            decision = evaluate_key(request, key_policy=held, identity=identity, key_name="the data bucket's key")
            if not decision:
                return decision
        return Decision(True, "the role and the data bucket's key allow every action the call needs")

    def _requests(self, service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str, dict]]:
        if service == "s3":
            return _s3_requests(operation, params)
        if service == "ssm":
            name = str(params.get("Name", "")).lstrip("/")
            return [(f"ssm:{operation}", f"arn:aws:ssm:{self.region}:{ACCOUNT}:parameter/{name}", {})]
        if service == "secretsmanager":
            secret = str(params.get("SecretId", ""))
            arn = (
                secret
                if secret.startswith("arn:")
                else f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:{secret}-abcdef"
            )
            return [(f"secretsmanager:{operation}", arn, {})]
        return [(f"{service}:{operation}", "*", {})]

    def alarm_publish(self, alarm_arn: str, topic_arn: str) -> Decision:
        """CloudWatch publishing an alarm's notice: the topic's policy, then the topic's key, as
        moto holds them."""
        held = topic_policies(topic_arn)
        if held is None:
            return Decision(False, f"topic {topic_arn} does not exist")
        policy, key, key_policy = held
        return alarm_publish_decision(alarm_arn, topic_arn, policy, key_policy, key)

    def log_group_arn(self, function: str) -> str:
        return f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:/aws/lambda/modelwatch-{function}:*"

    def log_delivery(self, source_function: str) -> Decision:
        """A function's log group subscription filter putting a batch on the capture delivery
        stream, with the subscription's role."""
        request = Request(
            Principal.role(role_arn("capture-subscription")),
            "firehose:PutRecordBatch",
            DELIVERY_STREAM_ARN,
            {"aws:SecureTransport": "true"},
        )
        return evaluate(request, identity=[self.log_delivery_policy])

    def bucket_notification(self, function: str, bucket: str) -> Decision:
        """S3 notifying `function` of an object created in `bucket`."""
        return self._service_invokes("s3.amazonaws.com", function, f"arn:aws:s3:::{bucket}")

    def topic_delivery(self, function: str, topic_arn: str) -> Decision:
        """SNS invoking a subscribed function."""
        return self._service_invokes("sns.amazonaws.com", function, topic_arn)

    def _service_invokes(self, service: str, function: str, source_arn: str) -> Decision:
        """A service invoking `function` for `source_arn`: the function's resource-based policy."""
        request = Request(
            Principal.service(service),
            "lambda:InvokeFunction",
            self.function_arn(function),
            service_context(source_arn),
        )
        policy = self.function_policies.get(function, {"Statement": []})
        return evaluate(request, resource_policy=policy, resource_name=f"the {function} function")

    def dead_letter(self, function: str) -> Decision:
        """Lambda sending a function's failed event to its dead-letter queue, with its role."""
        queue, key = self.dead_letter_queues[function]
        request = Request(Principal.role(role_arn(function)), "sqs:SendMessage", queue, {"aws:SecureTransport": "true"})
        held_key = key_policy(ACCOUNT, self.region, key) if key else None
        name = f"the {function} dead-letter queue"
        return encrypted_delivery(request, None, self.role_policies(function), key or "", held_key, name)

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        token = acting_function.set(function)
        try:
            yield
        finally:
            acting_function.reset(token)


class AccessDeniedAnswer:
    """What botocore's before-call handler returns to answer a call with AccessDenied."""

    def __init__(self) -> None:
        self.status_code = 403
        self.headers: dict[str, str] = {}
        self.content = b""
        self.text = ""


class GuardedPlatform(Platform):
    """The functions' platform: every client it makes judges each call of a running function
    against that function's role (LocalAccess.call) and answers AccessDenied when AWS would."""

    access: LocalAccess | None = None
    # Concurrent invocations share this platform (in Lambda each environment has its own): one
    # botocore session may not create clients from several threads at once, and a client must not
    # be handed out before its judging handlers are registered.
    _creating: ClassVar[threading.Lock] = threading.Lock()

    def client(self, service: str, request_path: bool = False) -> Any:
        key = f"{service}:request" if request_path else service
        with self._creating:
            fresh = key not in self._clients
            client = super().client(service, request_path)
            if fresh:
                service_id = client.meta.service_model.service_id.hyphenize()
                # The call's parameters are seen before they are serialized; the answer is given
                # where botocore lets a handler answer instead of the service.
                client.meta.events.register(f"before-parameter-build.{service_id}", self._judge)
                client.meta.events.register(f"before-call.{service_id}", self._answer)
        return client

    def _judge(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        function = acting_function.get()
        if function is None or self.access is None:
            return
        service = model.service_model.service_name
        decision = self.access.call(function, IAM_PREFIXES.get(service, service), model.name, params)
        if not decision:
            context[_DENIED] = f"User: {decision.reason}"

    def _answer(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        if _DENIED not in context:
            return None
        error = {"Code": "AccessDenied", "Message": context[_DENIED]}
        return AccessDeniedAnswer(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}


_DENIED = "modelwatch_access_denied"
# botocore's service names whose IAM action prefix differs.
IAM_PREFIXES = {"stepfunctions": "states"}
