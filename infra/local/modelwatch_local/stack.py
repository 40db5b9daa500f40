"""The embedded stack: moto's AWS APIs in this process, the project's buckets and pointer, the
functions invoked as Lambda invokes them, and capture and feedback lines delivered as deployed: the
log groups' subscription filters put them on the capture delivery stream (a local Firehose with the
spec's buffer), whose objects S3 notifies the capture function of."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from modelwatch.alerts.plan import DEAD_LETTERS_SENT, QUEUE_NAME_DIMENSION, SQS_NAMESPACE
from modelwatch.alerts.redrive import RedriveOutcome, redrive
from modelwatch.catalog import delivery, layout
from modelwatch.catalog import functions as catalog
from modelwatch.catalog.metrics import (
    API_CLIENT_ERRORS,
    API_GATEWAY_NAMESPACE,
    API_ID_DIMENSION,
    API_LATENCY,
    API_REQUESTS,
    API_SERVER_ERRORS,
    LAMBDA_DEAD_LETTER_ERRORS,
    LAMBDA_DURATION,
    LAMBDA_ERRORS,
    LAMBDA_FUNCTION_DIMENSION,
    LAMBDA_NAMESPACE,
    READ_BACK,
)
from modelwatch.data_access.approval_store import ApprovalStore
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.model_store import ModelRegistry, registry_of
from modelwatch.data_access.platform import install_platform
from modelwatch.demo.data import demo_frame
from modelwatch.jobs.approval_decision import approved_output, rejection
from modelwatch.jobs.asl import asl_text
from modelwatch.jobs.capture_redrive import CaptureRedrive, redrive_captures
from modelwatch.jobs.retraining_approval import approval_step
from modelwatch.jobs.retraining_machine import retraining_definition, run_limit
from modelwatch.policy_evaluation import ACCOUNT
from modelwatch.registry.folder import ModelFolder
from modelwatch.registry.manifest import ModelManifest
from modelwatch.serving.capture import MARKER
from modelwatch.serving.delivery_stream import delivered_object
from modelwatch.training.publish import build_model_folder
from modelwatch_local import alarm_actions
from modelwatch_local.access import DELIVERY_STREAM_ROLE, GuardedPlatform, LocalAccess, Refusal
from modelwatch_local.alarms import ALARM_PREFIX, LOCAL_API_ID, AlarmEvaluator, StateChange
from modelwatch_local.apigw import http_event, response_parts
from modelwatch_local.clock import MovableClock
from modelwatch_local.delivery_stream import LocalDeliveryStream
from modelwatch_local.lambda_runtime import Invocation, invoke, printed_by
from modelwatch_local.metrics import Datapoint, MetricStore
from modelwatch_local.state_machine import CALLBACK, Execution, LocalStateMachine, StateError
from modelwatch_local.subscription import object_created_event, subscription_batch

LOCAL_STACK_NAME = "modelwatch-local"  # what the approval notice's commands name as --stack
# moto answers every call in-process; these keep boto3 from looking for real credentials.
FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "false",
}


PSEUDONYM_SECRET_NAME = "modelwatch/pseudonym-key"
REQUEST_ID_SECRET_NAME = "modelwatch/request-id-key"
DELIVERY_STREAM_NAME = "modelwatch-capture"
NOTICES_TOPIC_NAME = "modelwatch-notices"


@dataclass
class ApiResult:
    status: int
    headers: dict[str, str]
    body: Any
    stdout: list[str]

    def emf(self) -> list[dict[str, Any]]:
        """The EMF documents the function printed."""
        documents = []
        for line in self.stdout:
            if '"_aws"' in line:
                documents.append(json.loads(line))
        return documents

    def metrics(self) -> dict[str, list[tuple[dict[str, Any], list[float]]]]:
        """metric name -> [(dimensions, values)] of every EMF document the function printed."""
        found: dict[str, list[tuple[dict[str, Any], list[float]]]] = {}
        for document in self.emf():
            for directive in document["_aws"]["CloudWatchMetrics"]:
                dimensions = {d: document[d] for d in directive["Dimensions"][0]}
                for metric in directive["Metrics"]:
                    values = document[metric["Name"]]
                    found.setdefault(metric["Name"], []).append(
                        (dimensions, values if isinstance(values, list) else [values])
                    )
        return found


@dataclass(frozen=True)
class AlarmRound:
    changes: list[StateChange]
    executions: list[Execution]
    refused: list[Refusal]  # notices CloudWatch could not publish


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def local_environment(spec_path: Path, monitoring: bool = True) -> dict[str, str]:
    """Every variable the function catalogue gives any function, with the local resources' names
    (the stack's own where deployed): one environment serves every function here."""
    return {
        catalog.SPEC_FILE: str(spec_path),
        catalog.DATA_BUCKET: "modelwatch-data",
        catalog.MODEL_BUCKET: "modelwatch-models",
        catalog.MODEL_PREFIX: layout.DEFAULT_MODEL_PREFIX,
        catalog.POINTER_PARAMETER: "/modelwatch/current-model",
        catalog.SLACK_SECRET: "",  # Slack is not configured until connect_slack; email always is
        catalog.DASHBOARD_NAME: "ModelWatch-dashboard",
        catalog.NOTICES_TOPIC: f"arn:aws:sns:{FAKE_AWS_ENVIRONMENT['AWS_REGION']}:{ACCOUNT}:{NOTICES_TOPIC_NAME}",
        catalog.PSEUDONYM_SECRET: PSEUDONYM_SECRET_NAME,
        catalog.REQUEST_ID_SECRET: REQUEST_ID_SECRET_NAME,
        "AWS_REGION": FAKE_AWS_ENVIRONMENT["AWS_REGION"],
        "MODELWATCH_MONITORING": "on" if monitoring else "off",
    }


class LocalStack:
    # The stacks started and not yet stopped, in this process (tests check none is left running).
    running: ClassVar[list[LocalStack]] = []
    # What stopped stacks refused, in this process (tests check nothing was refused unawares).
    refused_when_stopped: ClassVar[list[Refusal]] = []

    def __init__(self, spec_path: Path, clock: MovableClock | None = None, monitoring: bool = True):
        from moto import mock_aws

        os.environ.update(FAKE_AWS_ENVIRONMENT)
        self._mock = mock_aws()
        self._mock.start()
        try:
            self._set_up(spec_path, clock, monitoring)
        except BaseException:
            # moto resets its state only when the outermost mock starts: a mock left running
            # would hand every later stack in this process the objects of this one.
            self._mock.stop()
            raise
        LocalStack.running.append(self)

    def _set_up(self, spec_path: Path, clock: MovableClock | None, monitoring: bool) -> None:
        self.clock = clock or MovableClock()
        self.environment = local_environment(spec_path, monitoring)
        self.platform = GuardedPlatform(self.environment, self.clock)
        settings = self.platform.settings
        self._previous_platform = install_platform(self.platform)
        for bucket in (settings.data_bucket, settings.model_bucket):
            self.s3.create_bucket(Bucket=bucket)
        # The deployed stack generates these secrets at deploy time; here, fresh random ones, named
        # per stack (stacks in one process share moto's backend, and an id() can be reused once a
        # stopped stack is collected: a random suffix never is).
        suffix = secrets.token_hex(6)
        for variable, name in (
            (catalog.PSEUDONYM_SECRET, PSEUDONYM_SECRET_NAME),
            (catalog.REQUEST_ID_SECRET, REQUEST_ID_SECRET_NAME),
        ):
            self.platform.client("secretsmanager").create_secret(
                Name=f"{name}-{suffix}", SecretString=secrets.token_urlsafe(48)
            )
            self.environment[variable] = f"{name}-{suffix}"
        self._next_log_id = 1
        self._log_ids = threading.Lock()  # event ids are handed out to concurrent invocations
        self._timer_stopped: threading.Event | None = None
        self._set_up_alerting(settings.region)
        capture = self.platform.spec.capture
        self.delivery_stream = LocalDeliveryStream(
            DELIVERY_STREAM_NAME,
            self.clock,
            capture.buffer_seconds,
            capture.buffer_mib,
            self._write_delivery,
            self._notify_capture,
        )
        self.clock.listeners.append(self.delivery_stream.tick)
        # Called with each delivered object's key once the capture function has handled it (what
        # it filed is in S3 then): `modelwatch serve --capture-dir` copies the capture objects.
        self.delivery_listeners: list[Callable[[str], None]] = []
        # CloudWatch: metrics from the functions' EMF lines, and the spec's alarms over them.
        self.metrics = MetricStore(mirror=self._put_read_back)
        self.alarms = AlarmEvaluator(
            self.platform.spec, self.metrics, region=settings.region, dead_letter_queues=self._queue_names()
        )
        self.retraining = self._retraining_machine()

    def _queue_names(self) -> dict[str, str]:
        """Each dead-letter queue's SQS QueueName (its URL's last segment), by the stack's name of it."""
        return {name: url.rsplit("/", 1)[-1] for name, url in self.dead_letter_queues.items()}

    def _set_up_alerting(self, region: str) -> None:
        """The alerts topic and the notices topic (KMS-encrypted with the stack's one key, with the
        stack's topic policies and key policy, from modelwatch.catalog.delivery), a queue subscribed
        to the alerts topic that holds what it published, one subscribed to the notices topic
        standing in for the email subscriptions (SNS emails the subject and the message), and
        each asynchronous function's dead-letter queue (encrypted with the same key where its
        events carry inputs, as deployed). Every delivery among them is judged by LocalAccess."""
        sns, sqs, kms = (self.platform.client(s) for s in ("sns", "sqs", "kms"))
        root = delivery.account_key_statement(partition="aws", account=ACCOUNT)
        logs = delivery.logs_key_statement(partition="aws", region=region, account=ACCOUNT)
        topic_key = kms.create_key(
            Description="modelwatch: the alerting topics, and the queues that hold raw inputs",
            Policy=json.dumps({"Statement": [root, delivery.alarm_key_statement(), logs]}),
        )["KeyMetadata"]["Arn"]
        # The data bucket holds inputs: SSE-KMS with the same key, as deployed (modelwatch_infra.storage);
        # LocalAccess judges each object read and write against the key's policy and the role.
        default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": topic_key}
        self.s3.put_bucket_encryption(
            Bucket=self.platform.settings.data_bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}]
            },
        )
        self.alerts_topic = sns.create_topic(Name="modelwatch-alerts")["TopicArn"]
        self.set_topic_policy(
            [
                delivery.tls_only_statement(self.alerts_topic),
                delivery.alarm_publish_statement(
                    self.alerts_topic, partition="aws", region=region, account=ACCOUNT, stack_name=ALARM_PREFIX
                ),
            ]
        )
        sns.set_topic_attributes(TopicArn=self.alerts_topic, AttributeName="KmsMasterKeyId", AttributeValue=topic_key)
        # Named per stack: stacks in one process share moto's backend (and would share its emails).
        self.notices_topic = sns.create_topic(Name=f"{NOTICES_TOPIC_NAME}-{id(self)}")["TopicArn"]
        self.environment[catalog.NOTICES_TOPIC] = self.notices_topic
        policy = json.dumps(
            {"Version": "2012-10-17", "Statement": delivery.notices_topic_statements(self.notices_topic)}
        )
        sns.set_topic_attributes(TopicArn=self.notices_topic, AttributeName="Policy", AttributeValue=policy)
        sns.set_topic_attributes(TopicArn=self.notices_topic, AttributeName="KmsMasterKeyId", AttributeValue=topic_key)
        self._inbox = sqs.create_queue(QueueName="modelwatch-alerts-inbox")["QueueUrl"]
        self._mailbox = sqs.create_queue(QueueName=f"modelwatch-email-{id(self)}")["QueueUrl"]
        self.platform.access = self.access = LocalAccess(
            region, self.environment, self.alerts_topic, topic_key, self.notices_topic
        )
        alarm_actions.install()  # alarms moto holds execute their SNS actions, judged by the same policies
        self.dead_letter_queues: dict[str, str] = {}
        for name, definition in catalog.FUNCTIONS.items():
            if not definition.asynchronous:
                continue
            key = topic_key if definition.handles_inputs else None
            attributes = {"KmsMasterKeyId": key} if key else {}
            # Named per stack: stacks in one process share moto's backend, and each has its own key.
            queue_name = f"modelwatch-{name}-dead-letters-{id(self)}"
            url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
            self.dead_letter_queues[name] = url
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.access.dead_letter_queues[name] = (arn, key)
        # The notifier's dead-letter queue: where an alert goes when every attempt failed.
        self.notify_dead_letters = self.dead_letter_queues[catalog.NOTIFY.name]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=self._inbox, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=self.alerts_topic, Protocol="sqs", Endpoint=inbox_arn)
        mailbox_arn = sqs.get_queue_attributes(QueueUrl=self._mailbox, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._mail_subscription = sns.subscribe(TopicArn=self.notices_topic, Protocol="sqs", Endpoint=mailbox_arn)[
            "SubscriptionArn"
        ]

    def set_topic_policy(self, statements: list[dict[str, Any]]) -> None:
        """The alerts topic's policy (replacing SNS's default, as a deployed topic policy does)."""
        policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
        self.platform.client("sns").set_topic_attributes(
            TopicArn=self.alerts_topic, AttributeName="Policy", AttributeValue=policy
        )

    @property
    def refusals(self) -> list[Refusal]:
        """Every call and delivery refused so far, as AWS would have refused it."""
        return self.access.refusals

    @property
    def s3(self) -> Any:
        return self.platform.client("s3")

    @property
    def registry(self) -> ModelRegistry:
        return registry_of(self.platform)

    def publish_demo_model(self, version: str, rows: int = 6000, seed: int = 11, promote: bool = True) -> ModelManifest:

        folder = build_model_folder(
            self.platform.spec, version, demo_frame(rows, seed), demo_frame(rows // 3, seed + 1), self.clock()
        )
        return self._publish(folder, promote)

    def publish_model_dir(self, path: Path, promote: bool = True) -> ModelManifest:
        """Publish a folder written by `modelwatch train` (its SHA-256 is checked first)."""

        return self._publish(ModelFolder.read(path), promote)

    def _publish(self, folder, promote: bool) -> ModelManifest:
        manifest = self.registry.publish(folder)
        if promote:
            self.registry.promote(manifest.version)
        return manifest

    def invoke(self, function: str, event: Any) -> Invocation:
        """A function invoked as Lambda would; its EMF lines become metrics, as in CloudWatch,
        and Lambda's own metrics of the invocation are recorded (Duration, Errors)."""
        started = time.perf_counter()
        failed = True
        try:
            with self.access.acting_as(function):
                invocation = invoke(function, event)
            failed = False
        except Exception as error:
            self.metrics.ingest(printed_by(error), self.clock())  # a failed invocation's EMF counts too
            raise
        finally:
            self.record_lambda_invocation(function, (time.perf_counter() - started) * 1000, failed)
        self.metrics.ingest(invocation.stdout, self.clock())
        return invocation

    def _put_read_back(self, points: list[Datapoint], at: datetime) -> None:
        """The datapoints a function reads back with GetMetricData, put in moto's CloudWatch too
        (moto does not turn EMF into metrics), stamped like the local store's."""
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for (namespace, name, dimensions), value in points:
            read_back = READ_BACK.get(name.partition(".")[0])  # named per value: CaptureRecordsSent.<version>
            if read_back is not None:
                by_namespace.setdefault(namespace, []).append(
                    {
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dimensions)],
                        "Value": value,
                        "Timestamp": at,
                        "Unit": read_back.unit,
                    }
                )
        for namespace, data in by_namespace.items():
            self.platform.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=data)

    def record_lambda_invocation(self, function: str, duration_ms: float, failed: bool) -> None:
        """What Lambda itself publishes per invocation under the function's name: its duration and
        whether it failed (Errors 1 or 0). Locally no invocation is throttled."""
        dimensions = {LAMBDA_FUNCTION_DIMENSION: f"modelwatch-{function}"}
        now = self.clock()
        self.metrics.put(LAMBDA_NAMESPACE, LAMBDA_DURATION, dimensions, duration_ms, now)
        self.metrics.put(LAMBDA_NAMESPACE, LAMBDA_ERRORS, dimensions, 1.0 if failed else 0.0, now)

    def evaluate_alarms(self) -> AlarmRound:
        """CloudWatch evaluating every alarm now: a change to ALARM or OK of a notifying alarm is
        published on the alerts topic; a change to ALARM of an alarm that is a retraining trigger
        (a trigger's own, or a rule's that judges the same) starts the retraining state machine,
        as the stack's EventBridge rule does."""
        changes = self.alarms.evaluate(self.clock())
        executions = []
        refused: list[Refusal] = []
        for change in changes:
            if change.alarm.action == "notify" and change.new in ("ALARM", "OK"):
                # CloudWatch publishes as its service principal, for this alarm: the topic's
                # policy and key policy decide (a refusal shows only in the alarm's history).
                alarm_arn = f"arn:aws:cloudwatch:{self.platform.settings.region}:{ACCOUNT}:alarm:{change.alarm_name}"
                decision = self.access.alarm_publish(alarm_arn, self.alerts_topic)
                if not decision:
                    self.access.refuse(
                        self.clock(), f"alarm {change.alarm_name}", "the alerts topic", "sns:Publish", decision
                    )
                    refused.append(self.access.refusals[-1])
                    continue
                message = change.sns_message(self.platform.spec.metrics.namespace)
                self.publish_alert(f"{change.new}: {change.alarm_name}", json.dumps(message))
            if change.alarm.starts_retraining and change.new == "ALARM":
                executions.append(self.run_retraining(change.alarm_name))
        return AlarmRound(changes, executions, refused)

    def call(
        self,
        function: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        deliver_capture: bool = True,
    ) -> ApiResult:
        """An HTTP call through API Gateway to `function`; its capture lines go to S3 like in AWS."""
        raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
        event = http_event(method, path, {"content-type": "application/json", **(headers or {})}, raw)
        started = time.perf_counter()
        invocation = self.invoke(function, event)
        status, response_headers, data = response_parts(invocation.result)
        self.record_api_request(status, (time.perf_counter() - started) * 1000)
        if deliver_capture:
            self.deliver_capture(function, invocation.stdout)
        try:
            # Strict JSON, as clients parse it: NaN or Infinity in a response is an error.
            parsed = json.loads(data, parse_constant=_reject_constant) if data else None
        except ValueError:
            parsed = data.decode(errors="replace")
        return ApiResult(status, response_headers, parsed, invocation.stdout)

    def record_api_request(self, status: int, latency_ms: float) -> None:
        """API Gateway's own metrics of one request: Count 1, and 4xx and 5xx 1 or 0 (it reports
        zeros too), and its Latency, under the API's id. The Api5xxRate alarm's metric math reads
        the counts, as deployed; the dashboard's latency panel the Latency."""
        dimensions = {API_ID_DIMENSION: LOCAL_API_ID}
        counts = (
            (API_REQUESTS, 1.0),
            (API_CLIENT_ERRORS, 1.0 if 400 <= status < 500 else 0.0),
            (API_SERVER_ERRORS, 1.0 if status >= 500 else 0.0),
        )
        for counted, value in counts:
            self.metrics.put(counted.namespace, counted.name, dimensions, value, self.clock())
        self.metrics.put(API_GATEWAY_NAMESPACE, API_LATENCY, dimensions, latency_ms, self.clock())

    def deliver_capture(self, function: str, lines: list[str]) -> None:
        """What the function's log group subscription filter ({ $.modelwatch_capture = 1 }) puts
        on the capture delivery stream: one Logs batch of the matching lines. The stream writes
        them to S3 when its buffer is full or its interval has passed (flush_deliveries)."""
        matching = [line for line in lines if MARKER in line]
        if not matching:
            return
        allowed = self.access.log_delivery(function)
        if not allowed:  # Logs cannot put on the stream: the lines are not delivered (AWS/Logs DeliveryErrors)
            sink, action = "the capture delivery stream", "firehose:PutRecordBatch"
            self.access.refuse(self.clock(), f"log group of {function}", sink, action, allowed)
            return
        with self._log_ids:
            first, self._next_log_id = self._next_log_id, self._next_log_id + len(matching)
        batch = subscription_batch(f"/aws/lambda/modelwatch-{function}", "local/stream", matching, first, self.clock())
        self.delivery_stream.put_batch(batch)

    def run_delivery_timer(self, every_seconds: float = 0.5) -> None:
        """Tick the delivery stream on the wall clock until the stack stops (a real-time clock:
        `modelwatch serve`), so its buffer interval passes by itself, as Firehose's timer does."""
        stopped = self._timer_stopped = threading.Event()

        def run() -> None:
            while not stopped.wait(every_seconds):
                self.delivery_stream.tick()

        threading.Thread(target=run, name="delivery-stream-timer", daemon=True).start()

    def flush_deliveries(self) -> None:
        """The delivery stream's buffer interval elapsing: what it holds is written to S3 now, and
        S3 notifies the capture function of each object (invoked before this returns)."""
        self.delivery_stream.flush()

    def delivery_event(self, lines: list[str], name: str) -> dict[str, Any]:
        """An object of `lines` written under deliveries/ (this hour) as the delivery stream writes
        one, and S3's notification of it, not yet sent (for tests that invoke the capture function
        with it themselves)."""
        key = layout.delivery_key(layout.hour_of(self.clock()), name)
        body = delivered_object(lines)
        self._write_delivery(key, body)
        return object_created_event(self.platform.settings.data_bucket, key, len(body), self.clock())

    def _write_delivery(self, key: str, body: bytes) -> None:
        """The delivery stream writing an object, with its own role (the catalogue's statements)."""
        with self.access.acting_as(DELIVERY_STREAM_ROLE):
            self.s3.put_object(Bucket=self.platform.settings.data_bucket, Key=key, Body=body)

    def _notify_capture(self, key: str) -> None:
        """S3's event notification of a delivered object: the capture function invoked
        asynchronously (retries, then its dead-letter queue), if its resource policy lets S3."""
        bucket = self.platform.settings.data_bucket
        allowed = self.access.bucket_notification(catalog.CAPTURE_FUNCTION.name, bucket)
        if not allowed:
            sink, action = "the capture function", "lambda:InvokeFunction"
            self.access.refuse(self.clock(), "the data bucket", sink, action, allowed)
            return
        self.invoke_async("capture", object_created_event(bucket, key, 0, self.clock(), self.platform.settings.region))
        for listener in self.delivery_listeners:
            listener(key)

    def run_drift(self, end: datetime | None = None) -> Invocation:
        """The EventBridge schedule firing: a Scheduled Event at `end` (default: the clock's now).
        What the delivery stream's interval has released by then is in S3 first."""
        moment = end or self.clock()
        self.delivery_stream.tick(moment)
        event = {
            "version": "0",
            "id": f"local-{int(moment.timestamp())}",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.platform.settings.region,
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/modelwatch-drift"],
            "detail": {},
        }
        return self.invoke("drift", event)

    def _retraining_machine(self) -> LocalStateMachine:
        """The retraining state machine the stack deploys (with the spec's approval step), its
        Lambda tasks run here, its callback timeouts on the simulated clock."""

        arn = f"arn:aws:lambda:{self.platform.settings.region}:123456789012:function:modelwatch-"
        approval = approval_step(self.platform.spec, f"{arn}{catalog.APPROVAL.name}", LOCAL_STACK_NAME)
        definition = retraining_definition(
            f"{arn}{catalog.RETRAIN.name}",
            self.alerts_topic,
            approval,
            promote_arn=f"{arn}{catalog.PROMOTE.name}",
            timeout=run_limit(self.platform.spec),
        )
        # Run from its ASL text, as deployed (DefinitionString), not from the Python dict.
        return LocalStateMachine(json.loads(asl_text(definition)), self._run_task, self.clock)

    def run_retraining(self, trigger: str, name: str | None = None) -> Execution:
        """A retraining execution: it ends, or (manual approval) waits for approve/reject."""
        name = name or f"{trigger}-{self.clock().strftime('%Y%m%dT%H%M%S')}"
        return self.retraining.start({"trigger": trigger}, name)

    def approve(self, run_id: str, by: str = "local") -> Execution:
        """`modelwatch approve RUN` on this stack: the stored token back with SendTaskSuccess."""

        return self.retraining.send_task_success(self._token(run_id), approved_output(by, self.clock()))

    def reject(self, run_id: str, reason: str = "", by: str = "local") -> Execution:
        """`modelwatch reject RUN` on this stack: the stored token back with SendTaskFailure."""

        error, cause = rejection(by, reason)
        return self.retraining.send_task_failure(self._token(run_id), error, cause)

    def time_out_approvals(self) -> list[Execution]:
        """Step Functions' timer: every approval wait past its deadline on the clock is rejected."""
        return self.retraining.time_out_waiting_tasks()

    def _token(self, run_id: str) -> str:

        request = ApprovalStore(self.s3, self.platform.settings.data_bucket).get(run_id)
        if request is None:
            raise ValueError(f"retraining run {run_id} is not waiting for approval")
        return request.task_token

    def _run_task(self, resource: str, parameters: dict[str, Any]) -> Any:
        if resource in ("arn:aws:states:::lambda:invoke", f"arn:aws:states:::lambda:invoke{CALLBACK}"):
            function = parameters["FunctionName"].rsplit(":function:modelwatch-", 1)[1]
            try:
                return {"Payload": self.invoke(function, parameters["Payload"]).result, "StatusCode": 200}
            except Exception as error:  # a function error, as Step Functions reports it
                raise StateError(type(error).__name__, str(error)) from error
        if resource == "arn:aws:states:::sns:publish":
            return self.publish_alert(parameters["Subject"], parameters["Message"])
        raise ValueError(f"task resource {resource} is not supported locally")

    def connect_slack(self, webhook_url: str) -> None:
        """Configure Slack: the notifier posts to `webhook_url` (kept in Secrets Manager, as
        deployed) besides emailing. Without it the notifier still runs, and emails only."""
        name = f"modelwatch/slack-webhook-{id(self)}"  # the notifier caches secrets by name
        self.platform.client("secretsmanager").create_secret(Name=name, SecretString=webhook_url)
        self.environment[catalog.SLACK_SECRET] = name

    def publish_alert(self, subject: str, message: str) -> dict[str, Any]:
        """Publish on the alerts topic; SNS invokes the notifier with it (its subscription), which
        emails the notice through the notices topic, and posts it to Slack when connected."""
        published = self.platform.client("sns").publish(TopicArn=self.alerts_topic, Subject=subject, Message=message)
        delivered = self.access.topic_delivery(catalog.NOTIFY.name, self.alerts_topic)
        if not delivered:
            self.access.refuse(
                self.clock(), "the alerts topic", "the notify function", "lambda:InvokeFunction", delivered
            )
        else:
            record = {
                "EventSource": "aws:sns",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": published["MessageId"],
                    "TopicArn": self.alerts_topic,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": self.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                },
            }
            self.invoke_async("notify", {"Records": [record]}, self.notify_dead_letters)
        return published

    def invoke_async(self, function: str, event: Any, dead_letters: str | None = None) -> Invocation | None:
        """An asynchronous invocation as Lambda makes it: the first try and its retries, then the
        event to the function's dead-letter queue (None), sent with the function's role; if the
        role may not send there, the event is lost and Lambda counts a DeadLetterErrors."""
        for _ in range(1 + catalog.ASYNC_RETRY_ATTEMPTS):
            try:
                return self.invoke(function, event)
            except Exception:  # a function error: Lambda tries again, then gives up on the event
                continue
        decision = self.access.dead_letter(function)
        if not decision:
            self.access.refuse(
                self.clock(), f"function {function}", "its dead-letter queue", "sqs:SendMessage", decision
            )
            dimensions = {LAMBDA_FUNCTION_DIMENSION: f"modelwatch-{function}"}
            self.metrics.put(LAMBDA_NAMESPACE, LAMBDA_DEAD_LETTER_ERRORS, dimensions, 1.0, self.clock())
            return None
        queue = dead_letters or self.dead_letter_queues[function]
        self.platform.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(event))
        # SQS's own metric of the send, which the queue's dead-letter alarm judges.
        dimensions = {QUEUE_NAME_DIMENSION: queue.rsplit("/", 1)[-1]}
        self.metrics.put(SQS_NAMESPACE, DEAD_LETTERS_SENT, dimensions, 1.0, self.clock())
        return None

    def redrive_alerts(self) -> RedriveOutcome:
        """The notifier's dead letters handed to it again (modelwatch redrive-alerts, deployed)."""
        return redrive(
            self.platform.client("sqs"), self.notify_dead_letters, lambda event: self.invoke("notify", event)
        )

    def redrive_captures(self) -> CaptureRedrive:
        """`modelwatch redrive-captures` on this stack: the capture function's dead letters handed
        back to it, and the delivery stream's errors delivered again (S3 notifies the function)."""
        bucket = self.platform.settings.data_bucket

        def deliver(key: str, body: bytes) -> None:
            self.s3.put_object(Bucket=bucket, Key=key, Body=body)
            self._notify_capture(key)

        return redrive_captures(
            self.platform.client("sqs"),
            self.dead_letter_queues[catalog.CAPTURE_FUNCTION.name],
            DataBucket(self.s3, bucket),
            lambda event: self.invoke("capture", event),
            deliver,
        )

    def alerts(self) -> list[dict[str, Any]]:
        """What the alerts topic published since the last call (each message's JSON)."""
        sqs = self.platform.client("sqs")
        found = []
        while True:
            batch = sqs.receive_message(QueueUrl=self._inbox, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(json.loads(message["Body"])["Message"]))
                sqs.delete_message(QueueUrl=self._inbox, ReceiptHandle=message["ReceiptHandle"])

    def emails(self) -> list[dict[str, str]]:
        """What the email subscriptions received since the last call: each notice the notices
        topic carried, as SNS emails it ({"subject", "body"}), in the order published."""
        sqs = self.platform.client("sqs")
        found = []
        while True:
            batch = sqs.receive_message(QueueUrl=self._mailbox, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                envelope = json.loads(message["Body"])
                found.append({"subject": envelope.get("Subject") or "", "body": envelope["Message"]})
                sqs.delete_message(QueueUrl=self._mailbox, ReceiptHandle=message["ReceiptHandle"])

    def objects(self, prefix: str, bodies: bool = True) -> dict[str, bytes]:
        bucket = self.platform.settings.data_bucket
        keys = [
            o["Key"]
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])
        ]
        if not bodies:
            return dict.fromkeys(keys, b"")
        return {key: self.s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}

    def stop(self) -> None:
        if self._timer_stopped is not None:
            self._timer_stopped.set()
        if self.delivery_stream.tick in self.clock.listeners:
            self.clock.listeners.remove(self.delivery_stream.tick)
        LocalStack.refused_when_stopped.extend(self.refusals)
        install_platform(self._previous_platform)
        self._mock.stop()
        LocalStack.running.remove(self)
