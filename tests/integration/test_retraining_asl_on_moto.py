"""The retraining state machine's own ASL, exactly as the stack deploys it, run by moto's Step
Functions interpreter (execute_state_machine), not by the project's: promotion, rejection,
approval and a person's refusal. Its Lambda tasks reach the embedded stack's functions in
process (moto would need Docker to run them), each with its role judged as in AWS; everything
else (the ASL's paths, choices, retries, catches, the callback token, the SNS task) is moto's."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import UTC, datetime

import boto3
import pytest
from moto.awslambda.models import LambdaFunction
from moto.core.config import default_user_config

from modelwatch.catalog import functions as catalog
from modelwatch.data_access.approval_store import ApprovalStore
from modelwatch.jobs.approval_decision import decide
from modelwatch.jobs.asl import asl_text
from modelwatch_local.stack import LocalStack
from tests.integration.test_retraining import _labelled_traffic, _publish_champion

ROLE = "arn:aws:iam::123456789012:role/modelwatch-retraining"
RETRAINING_FUNCTIONS = (catalog.RETRAIN.name, catalog.PROMOTE.name, catalog.APPROVAL.name)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "# the embedded stack runs the real handler\n")
    return buffer.getvalue()


@pytest.fixture
def on_moto(monkeypatch):
    """(stack, run): `run(stack, name)` starts the stack's retraining ASL on moto's interpreter."""
    monkeypatch.setitem(default_user_config["stepfunctions"], "execute_state_machine", True)
    stacks: dict[str, LocalStack] = {}

    def invoke(self, body, request_headers, response_headers):
        stack = stacks["current"]
        name = self.function_name.removeprefix("modelwatch-")
        try:
            return json.dumps(stack.invoke(name, json.loads(body)).result)
        except Exception as error:  # Lambda's answer for a function error: Step Functions names it
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)})

    monkeypatch.setattr(LambdaFunction, "invoke", invoke)

    def deploy(stack: LocalStack) -> tuple[object, str]:
        stacks["current"] = stack
        iam, lam, sfn = (boto3.client(s, region_name="us-east-1") for s in ("iam", "lambda", "stepfunctions"))
        iam.create_role(RoleName="modelwatch-retraining", AssumeRolePolicyDocument="{}")
        for name in RETRAINING_FUNCTIONS:
            lam.create_function(
                FunctionName=f"modelwatch-{name}",
                Runtime="python3.12",
                Role=ROLE,
                Handler="handler.handler",
                Code={"ZipFile": _zip()},
            )
        machine = sfn.create_state_machine(
            name="modelwatch-retraining", definition=asl_text(stack.retraining.definition), roleArn=ROLE
        )["stateMachineArn"]
        return sfn, machine

    return deploy


def _finished(sfn, execution: str, seconds: float = 120.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.2)
    raise AssertionError(f"{execution} still running after {seconds} s")


def _run(sfn, machine: str, name: str) -> str:
    return sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps({"trigger": "manual"}))[
        "executionArn"
    ]


def _visited(sfn, execution: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def test_a_better_challenger_is_promoted(stack_factory, on_moto):
    stack = stack_factory(min_rows=500)
    _publish_champion(stack, "v1-broken", flip_labels=True)
    _labelled_traffic(stack, 1200, seed=61)
    sfn, machine = on_moto(stack)
    described = _finished(sfn, _run(sfn, machine, "moto-promote"))
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["evaluated"]["value"]["outcome"] == "promote"
    assert output["promoted"]["value"] == {"outcome": "promoted", "promoted": "retrained-moto-promote"}
    assert stack.registry.current_version() == "retrained-moto-promote"
    visited = _visited(sfn, described["executionArn"])
    assert visited[-4:] == ["NoticePromoted", "Notify", "Release", "Done"]


def test_a_challenger_that_is_not_better_is_rejected(stack_factory, on_moto):
    stack = stack_factory(min_rows=500, min_improvement=0.2)
    _publish_champion(stack, "v1", flip_labels=False)
    _labelled_traffic(stack, 1200, seed=62)
    sfn, machine = on_moto(stack)
    described = _finished(sfn, _run(sfn, machine, "moto-reject"))
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["evaluated"]["value"]["outcome"] == "reject"
    assert "Promote" not in _visited(sfn, described["executionArn"])
    assert stack.registry.current_version() == "v1"


def _waiting(stack_factory, on_moto, name: str):
    stack = stack_factory(min_rows=500, approval='"manual"', approval_timeout_hours=2)
    _publish_champion(stack, "v1-broken", flip_labels=True)
    _labelled_traffic(stack, 1200, seed=63)
    sfn, machine = on_moto(stack)
    execution = _run(sfn, machine, name)
    store = ApprovalStore(stack.s3, stack.platform.settings.data_bucket)
    deadline = time.monotonic() + 120
    while store.get(name) is None:  # the approval function stored the task token moto handed it
        assert time.monotonic() < deadline and sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        time.sleep(0.2)
    return stack, sfn, store, execution


def test_an_approved_challenger_is_promoted_after_the_wait(stack_factory, on_moto):
    stack, sfn, store, execution = _waiting(stack_factory, on_moto, "moto-approve")
    assert stack.registry.current_version() == "v1-broken"
    said = decide(sfn, store, "moto-approve", True, "alice", "", datetime.now(UTC))
    assert said.startswith("approved retrained-moto-approve")
    described = _finished(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["approval"]["by"] == "alice" and output["promoted"]["value"]["outcome"] == "promoted"
    assert stack.registry.current_version() == "retrained-moto-approve"


def test_a_refused_challenger_keeps_the_champion(stack_factory, on_moto):
    stack, sfn, store, execution = _waiting(stack_factory, on_moto, "moto-refuse")
    decide(sfn, store, "moto-refuse", False, "bob", "not on a Friday", datetime.now(UTC))
    described = _finished(sfn, execution)
    assert described["status"] == "SUCCEEDED", described  # a decision, not a failure
    visited = _visited(sfn, execution)
    assert "Promote" not in visited and visited[-4:] == ["NoticeNotApproved", "Notify", "Release", "Done"]
    assert stack.registry.current_version() == "v1-broken"
