"""Every cdk-nag acknowledgement's reason (modelwatch_infra.nag), checked true against the
synthesized template where the template can show it. Each test names the finding it backs; a
grant that widens past what the reason says fails here, not only in review."""

from __future__ import annotations

import json

import pytest

from modelwatch.catalog.functions import FUNCTIONS
from modelwatch.catalog.permissions import METRIC_READS
from modelwatch_infra.bundling import LAMBDA_PYTHON
from tests.infra.template_queries import function_resource, role_statements

XRAY_WRITES = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _role_of_function(template: dict, name: str) -> str:
    return function_resource(template, name)[1]["Role"]["Fn::GetAtt"][0]


def _state_machine(template: dict, name: str) -> tuple[str, dict]:
    (found,) = [
        (r["Properties"]["RoleArn"]["Fn::GetAtt"][0], r["Properties"])
        for r in template["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and r["Properties"]["StateMachineName"].endswith(name)
    ]
    return found


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_iam5_wildcard_of_each_function_is_xray_or_metric_reads_only(template, name):
    """AwsSolutions-IAM5[Resource::*]: X-Ray's writes, and CloudWatch's metric reads only for a
    function the catalogue says reads metrics."""
    wildcard = {
        action
        for s in role_statements(template, _role_of_function(template, name))
        if "*" in _listed(s["Resource"])
        for action in _listed(s["Action"])
    }
    metric_reads = set(METRIC_READS) if FUNCTIONS[name].reads_metrics else set()
    assert wildcard - XRAY_WRITES == metric_reads


@pytest.mark.parametrize("name", sorted(n for n, f in FUNCTIONS.items() if f.packaging == "zip"))
def test_l1_runtime_is_the_python_the_layers_are_built_for(template, name):
    """AwsSolutions-L1: the zip functions and every layer run LAMBDA_PYTHON, which bundling builds for."""
    runtime = f"python{LAMBDA_PYTHON}"
    (function,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Description", "").startswith(f"ModelWatch {name}:")
    ]
    assert function["Runtime"] == runtime
    layers = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert layers and all(layer["CompatibleRuntimes"] == [runtime] for layer in layers)


def _object_prefix(resource: object) -> str | None:
    """The prefix of a <bucket>/<prefix>* resource, else None."""
    parts = resource.get("Fn::Join", ["", []])[1] if isinstance(resource, dict) else []
    tail = parts[-1] if parts and isinstance(parts[-1], str) else ""
    return tail[1:-1] if tail.startswith("/") and tail.endswith("*") else None


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_iam5_object_grants_are_exact_actions_on_one_prefix(template, name):
    """AwsSolutions-IAM5[<bucket>/<prefix>*]: only GetObject and PutObject on an object wildcard,
    never Delete or s3:*; and the wildcard is one area's prefix, not the whole bucket."""
    for statement in role_statements(template, _role_of_function(template, name)):
        prefixes = [_object_prefix(r) for r in _listed(statement["Resource"])]
        if any(p is not None for p in prefixes):
            assert set(_listed(statement["Action"])) <= {"s3:GetObject", "s3:PutObject"}, statement
            assert all(p for p in prefixes), f"{name}: an object grant on the whole bucket"


def test_sqs3_every_queue_without_its_own_dead_letter_queue_is_one(template):
    """AwsSolutions-SQS3 ("this queue is itself a dead-letter queue"): every queue without a
    redrive policy is a function's, a rule target's or a subscription's dead-letter target."""
    resources = template["Resources"]
    targets = set()
    for r in resources.values():
        properties = r.get("Properties", {})
        arns = [
            properties.get("DeadLetterConfig", {}).get("TargetArn"),
            properties.get("RedrivePolicy", {}).get("deadLetterTargetArn"),
            *[t.get("DeadLetterConfig", {}).get("Arn") for t in properties.get("Targets", [])],
        ]
        targets |= {a["Fn::GetAtt"][0] for a in arns if isinstance(a, dict) and "Fn::GetAtt" in a}
    queues = {
        k for k, r in resources.items() if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" not in r["Properties"]
    }
    assert queues and queues <= targets


@pytest.mark.parametrize(
    ("machine", "functions"), [("backfill", ("capture",)), ("retraining", ("retrain", "promote", "approval"))]
)
def test_iam5_state_machines_only_invoke_versions_of_their_own_functions(template, machine, functions):
    """AwsSolutions-IAM5[<function>.Arn:*]: the versions wildcard is on the functions the state
    machine runs, for lambda:InvokeFunction only."""
    role, _ = _state_machine(template, machine)
    own = {_role_of_function(template, function) for function in functions}
    for statement in role_statements(template, role):
        for resource in _listed(statement["Resource"]):
            if isinstance(resource, dict) and "Fn::Join" in resource and resource["Fn::Join"][1][-1] == ":*":
                arn = resource["Fn::Join"][1][0]["Fn::GetAtt"][0]
                props = template["Resources"][arn]["Properties"]
                assert props["Role"]["Fn::GetAtt"][0] in own
                assert _listed(statement["Action"]) == ["lambda:InvokeFunction"]


def test_iam5_backfill_child_executions_are_its_own(template):
    """AwsSolutions-IAM5[…:execution:<backfill>/*]: a Distributed Map's child executions of its own
    state machine, nothing else's."""
    role, properties = _state_machine(template, "backfill")
    own = f":execution:{properties['StateMachineName']}/*"
    executions = [
        json.dumps(r)
        for s in role_statements(template, role)
        for r in _listed(s["Resource"])
        if ":execution:" in json.dumps(r)
    ]
    assert executions and all(own in e for e in executions)


def test_iam5_kms_generate_data_key_is_on_the_alerts_topic_key_only(template):
    """AwsSolutions-IAM5[Action::kms:GenerateDataKey*]: on the one key that encrypts the alerts topic."""
    role, _ = _state_machine(template, "retraining")
    topic_keys = {
        r["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SNS::Topic"
    }
    kms = [s for s in role_statements(template, role) if any(a.startswith("kms:") for a in _listed(s["Action"]))]
    assert kms
    for statement in kms:
        assert {r["Fn::GetAtt"][0] for r in _listed(statement["Resource"])} <= topic_keys
