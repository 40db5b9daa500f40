"""`modelwatch smoke --stack ModelWatch` against moto's server: a deployment made on the local
stack (its topics, policies, functions and API), with the stack outputs a deployed stack has.
Every hop is printed; it exits 0. With main's topic policy (the TLS Deny alone) it exits 1 and
names the hop."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading

import pytest

from modelwatch.catalog import delivery
from modelwatch.registry import stack_outputs
from tests.conftest import ROOT

REFUSALS_EXPECTED = True  # the broken-policy case is refused on purpose (tests/conftest.py)
ACCOUNT, REGION = "123456789012", "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """The local stack as a deployment: moto's server shares its state; the stack's outputs,
    its operations topic and its smoke alarm as the CDK stack makes them."""
    from moto.server import ThreadedMotoServer

    from modelwatch_local.clock import MovableClock
    from modelwatch_local.server import api_server
    from modelwatch_local.stack import LocalStack

    # A one-second delivery stream buffer on a clock that runs with the wall clock: captures reach
    # S3 within the smoke's few seconds, through the same buffer as deployed.
    spec = tmp_path_factory.mktemp("smoke") / "monitoring.toml"
    spec.write_text(re.sub(r"(?m)^buffer_seconds = \d+", "buffer_seconds = 1", (ROOT / "monitoring.toml").read_text()))
    stack = LocalStack(spec, clock=MovableClock(real_time=True))
    stack.run_delivery_timer(0.2)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port())
    api = None
    try:
        server.start()
        stack.publish_demo_model("v1", rows=2000)
        api = api_server(stack, lambda line: None)
        threading.Thread(target=api.serve_forever, daemon=True).start()
        api_url = f"http://127.0.0.1:{api.server_address[1]}"
        sns, cloudwatch = stack.platform.client("sns"), stack.platform.client("cloudwatch")
        operations = sns.create_topic(Name="modelwatch-operations")["TopicArn"]
        policy = [
            delivery.tls_only_statement(operations),
            delivery.alarm_publish_statement(
                operations, partition="aws", region=REGION, account=ACCOUNT, stack_name="ModelWatch"
            ),
        ]
        sns.set_topic_attributes(
            TopicArn=operations, AttributeName="Policy", AttributeValue=json.dumps({"Statement": policy})
        )
        sns.subscribe(TopicArn=operations, Protocol="email", Endpoint="oncall@example.com")
        sns.subscribe(TopicArn=stack.notices_topic, Protocol="email", Endpoint="oncall@example.com")
        cloudwatch.put_metric_alarm(
            AlarmName="ModelWatch-Smoke",
            Namespace="ModelWatch",
            MetricName="SmokeTest",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[stack.alerts_topic, operations],
            OKActions=[stack.alerts_topic, operations],
        )
        outputs = {
            stack_outputs.ALERTS_TOPIC: stack.alerts_topic,
            stack_outputs.OPERATIONS_TOPIC: operations,
            stack_outputs.NOTICES_TOPIC: stack.notices_topic,
            stack_outputs.SMOKE_ALARM: "ModelWatch-Smoke",
            stack_outputs.API_URL: api_url,
            stack_outputs.DATA_BUCKET: stack.platform.settings.data_bucket,
            stack_outputs.DRIFT_FUNCTION: "modelwatch-drift",
            stack_outputs.NOTIFY_FUNCTION: "modelwatch-notify",
        }
        template = {
            "Resources": {"Marker": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "smoke-marker"}}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        stack.platform.client("cloudformation").create_stack(StackName="ModelWatch", TemplateBody=json.dumps(template))
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        yield stack, endpoint, api_url
    finally:
        if api is not None:
            api.shutdown()
            api.server_close()
        server.stop()
        stack.stop()


def _smoke(stack, endpoint: str, api_url: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_LAMBDA": api_url,  # the local runtime runs the functions (moto cannot)
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "COLUMNS": "250",
    }
    command = [
        sys.executable,
        "-m",
        "modelwatch",
        "smoke",
        "--stack",
        "ModelWatch",
        "--spec",
        str(stack.platform.settings.spec_path),
        "--within",
        "5",
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)


def test_smoke_prints_every_hop_and_exits_0(deployed):
    stack, endpoint, api_url = deployed
    result = _smoke(stack, endpoint, api_url)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    hops = [line.split(":", 1)[0].removeprefix("OK").strip() for line in lines if line.startswith("OK")]
    for hop in (
        "stack",
        "alarm -> topic modelwatch-alerts (topic and key policies)",
        "alarm -> topic modelwatch-operations (topic and key policies)",
        "topic modelwatch-alerts -> notifier (permission)",
        "topic modelwatch-operations -> oncall@example.com",
        f"topic {stack.notices_topic.rsplit(':', 1)[-1]} -> oncall@example.com",  # the incident notices
        "alarm -> topic modelwatch-alerts (notice delivered)",
        "alarm -> topic modelwatch-operations (notice delivered)",
        "API /predict",
        "API /feedback",
        "API -> capture/",
        "API -> labels/",
        "drift check",
    ):
        assert hop in hops, result.stdout
    assert lines[-1].endswith("hops, 0 failed")


def test_smoke_with_mains_topic_policy_exits_1_naming_the_hop(deployed):
    stack, endpoint, api_url = deployed
    stack.set_topic_policy([delivery.tls_only_statement(stack.alerts_topic)])
    try:
        result = _smoke(stack, endpoint, api_url)
    finally:
        stack.set_topic_policy(
            [
                delivery.tls_only_statement(stack.alerts_topic),
                delivery.alarm_publish_statement(
                    stack.alerts_topic, partition="aws", region=REGION, account=ACCOUNT, stack_name="ModelWatch"
                ),
            ]
        )
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert [line.split(":", 1)[0] for line in failed] == [
        "FAILED alarm -> topic modelwatch-alerts (topic and key policies)",
        "FAILED alarm -> topic modelwatch-alerts (notice delivered)",
    ], result.stdout
    assert "cloudwatch.amazonaws.com is not authorized to perform sns:Publish" in failed[0]
