"""The model bucket refuses unconditional writes to the registry, and the stack names the registry
in outputs `modelwatch publish --stack` reads."""

from __future__ import annotations

from modelwatch.registry import stack_outputs


def test_registry_writes_must_be_conditional(template):
    policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (write_once,) = [s for s in statements if s.get("Sid") == "RegistryVersionsAreWriteOnce"]
    assert write_once["Effect"] == "Deny" and write_once["Action"] == "s3:PutObject"
    assert write_once["Condition"] == {"Null": {"s3:if-none-match": "true"}}
    assert "models/*" in str(write_once["Resource"])


def test_stack_outputs_name_the_registry(template):
    outputs = template["Outputs"]
    for key in (stack_outputs.MODEL_BUCKET, stack_outputs.MODEL_PREFIX, stack_outputs.POINTER_PARAMETER):
        assert key in outputs, key
    assert outputs[stack_outputs.MODEL_PREFIX]["Value"] == "models/"
