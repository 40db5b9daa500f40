"""`modelwatch smoke --stack NAME`: after `cdk deploy`, walk every delivery path of the deployed
stack once and say, hop by hop, whether it works.

- alarm -> topic: the live topic policy and key policy are judged as AWS judges them; then the
  smoke alarm's state is set and a queue of the smoke's own, subscribed to each topic for the
  occasion, must receive the notice (what CloudWatch, SNS and the key really did);
- topic -> subscribers: the notifier's permission for the alerts topic, and every email
  subscription confirmed, on the notices topic (the notifier's incident notices) and on the
  operations topic (an unconfirmed one delivers nothing);
- API -> capture and labels: a signed prediction (SigV4, or a JWT with --token) and its label,
  then each must appear under capture/ and labels/ within --within seconds;
- the drift check: the drift function invoked once, and its answer.

Each hop prints OK or FAILED with AWS's own error; the exit code is 1 when any hop failed."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from modelwatch.catalog import layout
from modelwatch.catalog.functions import FEEDBACK, PREDICT
from modelwatch.policy_evaluation import Principal, Request, alarm_publish_decision, evaluate, service_context
from modelwatch.registry import stack_outputs
from modelwatch.spec.models import MonitoringSpec

WANTED = (
    stack_outputs.ALERTS_TOPIC,
    stack_outputs.OPERATIONS_TOPIC,
    stack_outputs.NOTICES_TOPIC,
    stack_outputs.SMOKE_ALARM,
    stack_outputs.API_URL,
    stack_outputs.DATA_BUCKET,
    stack_outputs.DRIFT_FUNCTION,
    stack_outputs.NOTIFY_FUNCTION,
)
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class HopResult:
    hop: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'OK    ' if self.ok else 'FAILED'} {self.hop}: {self.detail}"


@dataclass
class Smoke:
    """One run against a deployed stack, with boto3 clients from `session`."""

    session: Any
    stack: str
    spec: MonitoringSpec
    within_seconds: float = 300.0
    token: str | None = None
    say: Callable[[str], None] = print
    results: list[HopResult] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def record(self, hop: str, ok: bool, detail: str) -> bool:
        result = HopResult(hop, ok, detail)
        self.results.append(result)
        self.say(result.line())
        return ok

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> int:
        from modelwatch.cli.deployed_registry import stack_output_values

        outputs = stack_output_values(self.client("cloudformation"), self.stack, WANTED)
        self.record("stack", True, f"{self.stack}: {len(outputs)} outputs read")
        alarm = self.client("cloudwatch").describe_alarms(AlarmNames=[outputs[stack_outputs.SMOKE_ALARM]])
        (smoke_alarm,) = alarm["MetricAlarms"]
        topics = list(smoke_alarm.get("AlarmActions", []))
        for topic in topics:
            self.check_publish_policy(smoke_alarm["AlarmArn"], topic)
        self.check_notifier(outputs[stack_outputs.ALERTS_TOPIC], outputs[stack_outputs.NOTIFY_FUNCTION])
        for topic in dict.fromkeys([outputs[stack_outputs.NOTICES_TOPIC], *topics]):
            self.check_emails(topic)
        self.check_alarm_delivery(smoke_alarm, topics)
        request_id, version, hours = self.check_api(outputs[stack_outputs.API_URL])
        if request_id is not None:
            bucket = outputs[stack_outputs.DATA_BUCKET]
            self.check_stored("capture", bucket, [layout.CAPTURE.hour_prefix(version, h) for h in hours], request_id)
            self.check_stored("labels", bucket, [layout.labels_hour_prefix(h) for h in hours], request_id)
        self.check_drift(outputs[stack_outputs.DRIFT_FUNCTION])
        failed = [r for r in self.results if not r.ok]
        self.say(f"smoke {self.run_id}: {len(self.results)} hops, {len(failed)} failed")
        return 1 if failed else 0

    # -- alarm -> topic ------------------------------------------------------------------------
    def check_publish_policy(self, alarm_arn: str, topic: str) -> None:
        sns, kms = self.client("sns"), self.client("kms")
        attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        policy = json.loads(attributes["Policy"]) if attributes.get("Policy") else None
        key = attributes.get("KmsMasterKeyId", "")
        key_policy = None
        if key and kms.describe_key(KeyId=key)["KeyMetadata"].get("KeyManager") != "AWS":
            key_policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
        decision = alarm_publish_decision(alarm_arn, topic, policy, key_policy, key)
        self.record(f"alarm -> {_name(topic)} (topic and key policies)", decision.allowed, decision.reason)

    def check_alarm_delivery(self, alarm: dict[str, Any], topics: list[str]) -> None:
        """Set the smoke alarm to ALARM and wait for its notice on each topic, through a queue
        subscribed for the occasion; then set it back to OK."""
        sqs, sns, cloudwatch = self.client("sqs"), self.client("sns"), self.client("cloudwatch")
        listeners = [
            _Listener.subscribe(sqs, sns, topic, f"modelwatch-smoke-{self.run_id}-{i}")
            for i, topic in enumerate(topics)
        ]
        try:
            reason = f"modelwatch smoke {self.run_id}: testing alert delivery, no action needed"
            cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue="ALARM", StateReason=reason)
            deadline = time.monotonic() + self.within_seconds
            waiting = {listener.topic: listener for listener in listeners}
            while waiting and time.monotonic() < deadline:
                for topic, listener in list(waiting.items()):
                    if listener.received(sqs, self.run_id):
                        self.record(f"alarm -> {_name(topic)} (notice delivered)", True, "the smoke notice arrived")
                        del waiting[topic]
                if waiting:
                    time.sleep(POLL_SECONDS)
            for topic in waiting:
                why = _history_error(cloudwatch, alarm["AlarmName"], topic)
                self.record(
                    f"alarm -> {_name(topic)} (notice delivered)",
                    False,
                    f"no notice within {self.within_seconds:g} s{why}",
                )
            ok = f"modelwatch smoke {self.run_id}: done"
            cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue="OK", StateReason=ok)
        finally:
            for listener in listeners:
                listener.remove(sqs, sns)

    # -- topic -> subscribers --------------------------------------------------------------------
    def check_notifier(self, topic: str, function: str) -> None:
        lambda_client = self.client("lambda")
        try:
            policy = json.loads(lambda_client.get_policy(FunctionName=function)["Policy"])
        except lambda_client.exceptions.ResourceNotFoundException:
            policy = {"Statement": []}
        arn = lambda_client.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
        request = Request(Principal.service("sns.amazonaws.com"), "lambda:InvokeFunction", arn, service_context(topic))
        decision = evaluate(request, resource_policy=policy, resource_name="the notifier")
        self.record(f"{_name(topic)} -> notifier (permission)", decision.allowed, decision.reason)

    def check_emails(self, topic: str) -> None:
        subscriptions = self.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        for subscription in subscriptions:
            if subscription["Protocol"] not in ("email", "email-json"):
                continue
            confirmed = subscription["SubscriptionArn"] not in ("PendingConfirmation", "Deleted")
            detail = "confirmed" if confirmed else "not confirmed: nothing reaches this address until it is"
            self.record(f"{_name(topic)} -> {subscription['Endpoint']}", confirmed, detail)

    # -- API -> capture and labels -----------------------------------------------------------------
    def check_api(self, url: str) -> tuple[str | None, str, list[str]]:
        from modelwatch.serving.capture_sampling import captured

        record = typical_record(self.spec)
        status, answer = self.post(url, PREDICT.route or "", {"features": record})
        if status != 200:
            self.record("API /predict", False, f"HTTP {status}: {json.dumps(answer)[:300]}")
            return None, "", []
        (prediction,) = answer["predictions"]
        request_id, version = prediction["request_id"], prediction["model_version"]
        self.record("API /predict", True, f"request {request_id}, model {version}")
        label = prediction["prediction"]
        status, feedback = self.post(url, FEEDBACK.route or "", {"request_id": request_id, "label": label})
        self.record("API /feedback", status == 200, f"HTTP {status}" + ("" if status == 200 else f": {feedback}"))
        if not captured(request_id, self.spec.capture.sample_rate):
            self.record("capture", True, "skipped: this request is outside [capture] sample_rate's sample")
            return None, version, []
        # The hour the prediction was logged in: this one, or the last if it just turned.
        now = datetime.now(UTC)
        return request_id, version, [layout.hour_of(now - timedelta(hours=1)), layout.hour_of(now)]

    def post(self, url: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        target = url.rstrip("/") + path
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            headers = signed_headers(self.session, target, data, headers)
        request = urllib.request.Request(target, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                return error.code, json.loads(text)
            except ValueError:
                return error.code, text.decode(errors="replace")

    def check_stored(self, what: str, bucket: str, prefixes: list[str], request_id: str) -> None:
        s3 = self.client("s3")
        deadline = time.monotonic() + self.within_seconds
        while True:
            for key in (k for prefix in prefixes for k in _keys(s3, bucket, prefix)):
                if request_id.encode() in s3.get_object(Bucket=bucket, Key=key)["Body"].read():
                    self.record(f"API -> {what}/", True, f"s3://{bucket}/{key}")
                    return
            if time.monotonic() >= deadline:
                where = " or ".join(f"s3://{bucket}/{p}" for p in prefixes)
                self.record(
                    f"API -> {what}/", False, f"request {request_id} not under {where} within {self.within_seconds:g} s"
                )
                return
            time.sleep(POLL_SECONDS)

    # -- the drift check -------------------------------------------------------------------------
    def check_drift(self, function: str) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "version": "0",
            "id": f"smoke-{self.run_id}",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "time": now,
            "detail": {},
        }
        answer = self.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event).encode())
        payload = answer["Payload"].read().decode(errors="replace")
        if answer.get("FunctionError"):
            self.record("drift check", False, f"{answer['FunctionError']}: {payload[:300]}")
        else:
            self.record("drift check", True, payload[:200] or "ran")


@dataclass(frozen=True)
class _Listener:
    """A queue of the smoke's own, subscribed to a topic, that receives the smoke notice."""

    topic: str
    queue_url: str
    subscription: str

    @classmethod
    def subscribe(cls, sqs: Any, sns: Any, topic: str, name: str) -> _Listener:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                }
            ]
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)
        return cls(topic, url, subscription["SubscriptionArn"])

    def received(self, sqs: Any, run_id: str) -> bool:
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return any(run_id in message["Body"] for message in messages)

    def remove(self, sqs: Any, sns: Any) -> None:
        sns.unsubscribe(SubscriptionArn=self.subscription)
        sqs.delete_queue(QueueUrl=self.queue_url)


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def _history_error(cloudwatch: Any, alarm: str, topic: str) -> str:
    """What the alarm's history says of the action on `topic` (AWS writes the refusal there)."""
    try:
        items = cloudwatch.describe_alarm_history(AlarmName=alarm, HistoryItemType="Action")["AlarmHistoryItems"]
    except Exception:  # an endpoint without alarm history: say nothing more
        return ""
    for item in items:
        if topic in item.get("HistorySummary", ""):
            return f"; the alarm's history: {item['HistorySummary']}"
    return ""


def _name(arn: str) -> str:
    return f"topic {arn.rsplit(':', 1)[-1]}"


def typical_record(spec: MonitoringSpec) -> dict[str, Any]:
    """A record the spec accepts: each numeric feature in the middle of its range (or at its one
    bound, or 0), each categorical feature at its first category."""
    record: dict[str, Any] = {}
    for name, feature in spec.features.items():
        if feature.type == "categorical":
            record[name] = feature.categories[0] if feature.categories else "smoke"
            continue
        bounds = [bound for bound in (feature.min, feature.max) if bound is not None]
        record[name] = sum(bounds) / len(bounds) if bounds else 0.0
    return record


def signed_headers(session: Any, url: str, data: bytes, headers: dict[str, str]) -> dict[str, str]:
    """SigV4 headers for an IAM-authorized HTTP API call (service execute-api), from the session's
    credentials, as botocore signs its own requests."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="POST", url=url, data=data, headers=headers)
    SigV4Auth(session.get_credentials(), "execute-api", session.region_name).add_auth(request)
    return dict(request.headers.items())
