"""The data bucket is encrypted with the stack's key (SSE-KMS), locally as deployed, and every
object read or written through it needs that key: the role's grant (from the catalogue, through
S3 only) and a key policy that delegates to IAM. Without either, the call is AccessDenied naming
the key, as AWS answers."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from modelwatch.catalog import delivery, permissions
from modelwatch.catalog.functions import DRIFT

REFUSALS_EXPECTED = True  # this module breaks grants on purpose (tests/conftest.py)
REPORT = "reports/v1/1d/x/drift.json"


def test_the_data_bucket_uses_the_stacks_key_and_the_roles_reach_it(stack_factory):
    stack = stack_factory()
    bucket = stack.platform.settings.data_bucket
    encryption = stack.s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    default = encryption["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms" and default["KMSMasterKeyID"] == stack.access.alerts_key_arn
    with stack.access.acting_as("drift"):  # writes and reads reports: both key actions, through S3
        stack.s3.put_object(Bucket=bucket, Key=REPORT, Body=b"{}")
        assert stack.s3.get_object(Bucket=bucket, Key=REPORT)["Body"].read() == b"{}"
    (grant,) = permissions.function_data_key_statements(DRIFT, stack.access._resources())
    assert grant["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_a_role_without_the_key_grant_can_neither_write_nor_read(stack_factory, monkeypatch):
    stack = stack_factory()
    bucket = stack.platform.settings.data_bucket
    with stack.access.acting_as("drift"):
        stack.s3.put_object(Bucket=bucket, Key=REPORT, Body=b"{}")
    monkeypatch.setattr(permissions, "function_data_key_statements", lambda definition, resources: [])
    with stack.access.acting_as("drift"):
        with pytest.raises(ClientError, match="AccessDenied") as refused:
            stack.s3.put_object(Bucket=bucket, Key=REPORT, Body=b"{}")
        assert "kms:GenerateDataKey" in str(refused.value) and "the data bucket's key" in str(refused.value)
        with pytest.raises(ClientError, match="kms:Decrypt"):
            stack.s3.get_object(Bucket=bucket, Key=REPORT)
        stack.s3.head_object(Bucket=bucket, Key=REPORT)  # no key use: still allowed


def test_the_delivery_stream_needs_the_key_too(stack_factory, monkeypatch):
    from modelwatch_local.access import DELIVERY_STREAM_ROLE

    stack = stack_factory()
    bucket = stack.platform.settings.data_bucket
    key = "deliveries/dt=2026-12-01-00/x"
    with stack.access.acting_as(DELIVERY_STREAM_ROLE):
        stack.s3.put_object(Bucket=bucket, Key=key, Body=b"{}\n")
    original = permissions.delivery_stream_statements
    monkeypatch.setattr(permissions, "delivery_stream_statements", lambda arn, *_: original(arn))  # main's role
    with stack.access.acting_as(DELIVERY_STREAM_ROLE), pytest.raises(ClientError, match="kms:GenerateDataKey"):
        stack.s3.put_object(Bucket=bucket, Key=key, Body=b"{}\n")


def test_a_key_policy_that_does_not_delegate_refuses_even_a_granted_role(stack_factory):
    stack = stack_factory()
    bucket = stack.platform.settings.data_bucket
    kms = stack.platform.client("kms")
    # Only CloudWatch's alarm statement: the account's IAM policies no longer count for the key.
    kms.put_key_policy(
        KeyId=stack.access.alerts_key_arn,
        PolicyName="default",
        Policy=json.dumps({"Statement": [delivery.alarm_key_statement()]}),
    )
    with stack.access.acting_as("drift"), pytest.raises(ClientError, match="key policy does not allow"):
        stack.s3.put_object(Bucket=bucket, Key=REPORT, Body=b"{}")
