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


def _data_bucket(template: dict) -> str:
    (logical,) = [
        k
        for k, p in _resources(template, "AWS::S3::Bucket").items()
        if any(r.get("Prefix") == layout.CAPTURE.prefix for r in p.get("LifecycleConfiguration", {}).get("Rules", []))
    ]
    return logical


def test_the_data_bucket_uses_the_stacks_key(template):
    """SSE-KMS with the key of what holds raw inputs (the stack's one key unless separateInputsKey)."""
    data = _resources(template, "AWS::S3::Bucket")[_data_bucket(template)]
    (rule,) = data["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [_inputs_key(template), "Arn"]},
    }
    assert rule["BucketKeyEnabled"] is True


def _listed(value: object) -> list:
    return value if isinstance(value, list) else [value]


def test_every_role_that_reads_or_writes_the_data_bucket_may_use_its_key_through_s3_only(template):
    import json

    bucket, key = _data_bucket(template), {"Fn::GetAtt": [_inputs_key(template), "Arn"]}
    documents = [p["PolicyDocument"] for p in _resources(template, "AWS::IAM::Policy").values()]
    documents += [p["PolicyDocument"] for p in _resources(template, "AWS::IAM::ManagedPolicy").values()]
    checked = 0
    for document in documents:
        needs: set[str] = set()
        for statement in document["Statement"]:
            on_objects = any(bucket in json.dumps(r) and "/" in json.dumps(r) for r in _listed(statement["Resource"]))
            actions = set(_listed(statement["Action"]))
            if on_objects and "s3:GetObject" in actions:
                needs.add("kms:Decrypt")
            if on_objects and "s3:PutObject" in actions:
                needs.add("kms:GenerateDataKey")
        if not needs:
            continue
        granted = {
            action
            for s in document["Statement"]
            if s["Resource"] == key and "kms:ViaService" in json.dumps(s.get("Condition", {}))
            for action in _listed(s["Action"])
        }
        assert needs <= granted, (needs, granted)
        checked += 1
    assert checked >= 6  # the functions that reach it, the delivery stream, the backfill, the approvers


def _gone_within(data: dict) -> dict[str, int]:
    """Prefix -> days until an object there and its older versions are gone, per the rules."""
    found = {}
    for rule in data["LifecycleConfiguration"]["Rules"]:
        if "Prefix" in rule and "ExpirationInDays" in rule:
            noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
            assert noncurrent is not None, f"{rule['Prefix']}: older versions are kept until the bucket-wide rule"
            found[rule["Prefix"]] = rule["ExpirationInDays"] + noncurrent
    return found


@pytest.mark.parametrize("retention", [90, 7])
def test_every_area_holding_inputs_or_their_samples_is_gone_within_the_retention_setting(template, retention):
    """Quarantine and profiles (their row samples) included, and older versions too: nothing
    that holds inputs outlives captureRetentionDays (or a shorter fixed limit)."""
    from tests.infra.conftest import synthesize

    if retention != 90:
        template = synthesize({"captureRetentionDays": str(retention)}, nag=False)[1].to_json()
    gone = _gone_within(_resources(template, "AWS::S3::Bucket")[_data_bucket(template)])
    for area in layout.DATA_AREAS:
        if area.holds_inputs:
            limit = min(d for d in (area.retention_days, retention if area.retention_setting else None) if d)
            assert gone[area.prefix] <= limit, (area.name, gone[area.prefix], limit)
    assert {layout.QUARANTINE.prefix, layout.PROFILES.prefix, layout.PROFILES_HOURLY.prefix} <= set(gone)
