"""`modelwatch approve` / `modelwatch reject` against moto's Step Functions, which runs real ASL
with callback tasks: a machine waits on a token (sent to a queue, where the test stores it as
the approval function would), the command sends it back, the execution goes on; a run not
waiting, or already decided, is one line and exit 2."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from modelwatch.cli.main import main
from modelwatch.data_access.approval_store import ApprovalRequest, ApprovalStore

BUCKET = "modelwatch-data"
CALLBACK = {
    "StartAt": "AwaitApproval",
    "States": {
        "AwaitApproval": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "QUEUE", "MessageBody": {"token.$": "$$.Task.Token"}},
            "Catch": [{"ErrorEquals": ["ModelWatch.Rejected"], "ResultPath": "$.approval", "Next": "Rejected"}],
            "ResultPath": "$.approval",
            "Next": "Approved",
        },
        "Approved": {"Type": "Succeed"},
        "Rejected": {"Type": "Pass", "End": True},
    },
}


def _until(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


@pytest.fixture
def waiting_run(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3, sqs, sfn = (boto3.client(s) for s in ("s3", "sqs", "stepfunctions"))
        s3.create_bucket(Bucket=BUCKET)
        queue = sqs.create_queue(QueueName="tokens")["QueueUrl"]
        definition = json.dumps(CALLBACK).replace("QUEUE", queue)
        machine = sfn.create_state_machine(
            name="retraining", definition=definition, roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, name="run-1", input="{}")["executionArn"]
        messages = _until(lambda: sqs.receive_message(QueueUrl=queue).get("Messages"))
        token = json.loads(messages[0]["Body"])["token"]
        ApprovalStore(s3, BUCKET).put(
            ApprovalRequest("run-1", execution, token, datetime.now(UTC).isoformat(), "later", "retrained-run-1")
        )
        yield sfn, execution


def _finished(sfn, execution: str) -> dict:
    return _until(lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d)


def test_approve_sends_the_token_back(waiting_run, capsys):
    sfn, execution = waiting_run
    assert main(["approve", "run-1", "--bucket", BUCKET]) == 0
    assert "approved retrained-run-1" in capsys.readouterr().out
    described = _finished(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["approval"]["decision"] == "approved"
    # Decided: a second decision is refused in one line.
    assert main(["reject", "run-1", "--bucket", BUCKET]) == 2
    assert "is not waiting for approval: its execution is SUCCEEDED" in capsys.readouterr().err


def test_reject_sends_the_failure_the_machine_catches(waiting_run, capsys):
    sfn, execution = waiting_run
    assert main(["reject", "run-1", "--bucket", BUCKET, "--reason", "not now"]) == 0
    described = _finished(sfn, execution)
    # moto 5.2 passes SendTaskFailure's error on but drops its cause (the local-stack test
    # checks the cause reaches the notice).
    assert json.loads(described["output"])["approval"]["Error"] == "ModelWatch.Rejected"


def test_a_run_that_never_waited_is_one_line(waiting_run, capsys):
    assert main(["approve", "run-unknown", "--bucket", BUCKET]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run-unknown is not waiting for approval" in err
