"""Data protection in the template: inputs are encrypted with the stack's own key wherever logs
and dead letters hold them, every area holding inputs or labels expires, and each function may
write its own log group and no other."""

from __future__ import annotations

import pytest

from modelwatch.catalog import layout
from modelwatch.catalog.functions import FUNCTIONS
from tests.infra.template_queries import function_resource


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def _function(template: dict, name: str) -> dict:
    return function_resource(template, name)[1]


def _inputs_key(template: dict) -> str:
    (key,) = [k for k, p in _resources(template, "AWS::KMS::Key").items() if "raw inputs" in p.get("Description", "")]
    return key


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_log_groups_holding_inputs_use_the_stacks_key(template, name):
    function = _function(template, name)
    group = template["Resources"][function["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    if FUNCTIONS[name].handles_inputs:
        assert group["KmsKeyId"] == {"Fn::GetAtt": [_inputs_key(template), "Arn"]}
    else:
        assert "KmsKeyId" not in group


def test_dead_letters_holding_inputs_use_the_stacks_key(template):
    capture = _function(template, "capture")
    queue = template["Resources"][capture["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]]["Properties"]
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [_inputs_key(template), "Arn"]}


def test_every_area_holding_inputs_or_labels_expires(template):
    (data,) = [
        p
        for p in _resources(template, "AWS::S3::Bucket").values()
        if any(r.get("Prefix") == layout.CAPTURE.prefix for r in p.get("LifecycleConfiguration", {}).get("Rules", []))
    ]
    expiring = {
        r["Prefix"] for r in data["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r and "Prefix" in r
    }
    holding = {area.prefix for area in layout.DATA_AREAS if area.holds_inputs}
    assert holding and holding <= expiring


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_writes_its_own_log_group_only(template, name):
    function = _function(template, name)
    role_id = function["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert not role.get("ManagedPolicyArns"), "no managed policy (AWSLambdaBasicExecutionRole writes any log group)"
    own = {"Fn::GetAtt": [function["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]}
    log_statements = [
        statement
        for policy in _resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Roles"]
        for statement in policy["PolicyDocument"]["Statement"]
        if any(
            str(a).startswith("logs:")
            for a in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        )
    ]
    assert log_statements and all(statement["Resource"] == own for statement in log_statements)
