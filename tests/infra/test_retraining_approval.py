"""The deployed retraining state machine with [retraining] approval = "manual": the approval
function's callback task waits between Better and Promote with the spec's timeout, a timeout or
a rejection ends the run as rejected, and IAM grants exactly what each party needs."""

from __future__ import annotations

import json
import re

import pytest

from modelwatch.catalog import layout
from modelwatch.registry import stack_outputs
from tests.conftest import ROOT
from tests.infra.conftest import synthesize


@pytest.fixture(scope="module")
def manual_template(tmp_path_factory):
    text = (ROOT / "monitoring.toml").read_text()
    text = re.sub(r"^approval = .*$", 'approval = "manual"', text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^approval_timeout_hours = .*$", "approval_timeout_hours = 48", text, count=1, flags=re.MULTILINE)
    spec = tmp_path_factory.mktemp("spec") / "monitoring.toml"
    spec.write_text(text)
    _, template, _ = synthesize({"spec": str(spec)})  # cdk-nag on: every finding reviewed
    return template.to_json()


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _definition(template: dict) -> dict:
    (machine,) = [
        r["Properties"]
        for r in _resources(template, "AWS::StepFunctions::StateMachine").values()
        if "retraining" in json.dumps(r["Properties"].get("StateMachineName", ""))
    ]
    parts = machine["DefinitionString"]["Fn::Join"][1]
    # Tokens (function and topic ARNs) become placeholders: the shape is what is checked.
    return json.loads("".join(p if isinstance(p, str) else '"ref"' for p in parts).replace('""ref""', '"ref"'))


def _function_logical_id(template: dict, name: str) -> str:
    (found,) = [
        k
        for k, r in _resources(template, "AWS::Lambda::Function").items()
        if r["Properties"].get("Description", "").startswith(f"ModelWatch {name}:")
    ]
    return found


def _statements(template: dict, role_or_policy: str | None = None) -> list[dict]:
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        roles = resource["Properties"].get("Roles", [])
        if role_or_policy is not None and {"Ref": role_or_policy} not in roles:
            continue
        found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def _actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_the_deployed_machine_waits_for_approval_with_the_spec_timeout(manual_template):
    states = _definition(manual_template)["States"]
    assert states["Better"]["Choices"][0]["Next"] == "NoticeAwaitingApproval"
    wait = states["AwaitApproval"]
    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert wait["TimeoutSeconds"] == 48 * 3600
    assert wait["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    assert wait["Next"] == "Promote"
    timeout_catch = next(c for c in wait["Catch"] if "States.Timeout" in c["ErrorEquals"])
    assert states[timeout_catch["Next"]]["Parameters"]["modelwatch_retraining"]["outcome"] == "rejected"


def test_the_default_machine_promotes_without_waiting(template):
    text = json.dumps(template)
    assert "waitForTaskToken" not in text
    assert stack_outputs.APPROVERS_POLICY not in template.get("Outputs", {})


def test_iam_lets_each_party_do_its_part_only(manual_template):
    template = manual_template
    approval = _function_logical_id(template, "approval")
    role = _resources(template, "AWS::Lambda::Function")[approval]["Properties"]["Role"]["Fn::GetAtt"][0]
    function_statements = _statements(template, role)
    s3_actions = {a for s in function_statements for a in _actions(s) if a.startswith("s3:")}
    assert s3_actions == {"s3:PutObject"}
    (put,) = [s for s in function_statements if "s3:PutObject" in _actions(s)]
    assert put["Resource"]["Fn::Join"][1][-1] == f"/{layout.APPROVALS.prefix}*"  # its prefix, nothing beside
    assert any("sns:Publish" in _actions(s) for s in function_statements)

    # The state machine may invoke the approval function.
    machine_role = next(
        r["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        for r in _resources(template, "AWS::StepFunctions::StateMachine").values()
        if "retraining" in json.dumps(r["Properties"].get("StateMachineName", ""))
    )
    invoked = [
        json.dumps(s["Resource"]) for s in _statements(template, machine_role) if "lambda:InvokeFunction" in _actions(s)
    ]
    assert any(approval in resource for resource in invoked)

    # The approvers' policy: read the tokens (decrypting them with the data bucket's key, through
    # S3 only), see the execution, send the token back.
    (approvers,) = [
        p
        for p in _resources(template, "AWS::IAM::ManagedPolicy").values()
        if "retraining run waiting for approval" in p["Properties"].get("Description", "")
    ]
    statements = approvers["Properties"]["PolicyDocument"]["Statement"]
    granted = {a for s in statements for a in _actions(s)}
    assert granted == {
        "kms:Decrypt",
        "s3:GetObject",
        "s3:ListBucket",
        "states:DescribeExecution",
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
    }
    (get,) = [s for s in statements if "s3:GetObject" in _actions(s)]
    assert get["Resource"]["Fn::Join"][1][-1] == f"/{layout.APPROVALS.prefix}*"
    outputs = template["Outputs"]
    assert stack_outputs.APPROVERS_POLICY in outputs and stack_outputs.DATA_BUCKET in outputs


def test_its_only_wildcards_are_the_ones_aws_requires(manual_template):
    from tests.infra.test_wildcard_resources import AWS_REQUIRES_WILDCARD, _statements, _wildcard

    unexplained = [
        action
        for kind, _, statement in _statements(manual_template)
        if _wildcard(statement) and statement.get("Effect") != "Deny" and kind != "AWS::KMS::Key"
        for action in _actions(statement)
        if action not in AWS_REQUIRES_WILDCARD
    ]
    assert not unexplained
