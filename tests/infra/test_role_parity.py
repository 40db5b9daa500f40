"""The roles the stack deploys grant exactly what the function catalogue's statements grant
(modelwatch.catalog.permissions), which the local runtime enforces: for every function, every
object read and write in every S3 area, listing each area, the model pointer and the metric
reads are allowed or refused alike by the template's role and by the catalogue."""

from __future__ import annotations

import pytest

from modelwatch.catalog import layout, permissions
from modelwatch.catalog.functions import FUNCTIONS
from modelwatch.policy_evaluation import Principal, Request, evaluate
from modelwatch_infra.delivery_graph import Template
from tests.infra.template_queries import function_resource

POINTER = "arn:aws:ssm:us-east-1:123456789012:parameter/ModelWatch/current-model"


def _bucket(resolved: Template, starts: str) -> str:
    (logical,) = [k for k, _ in resolved.of_type("AWS::S3::Bucket") if k.startswith(starts)]
    return resolved.arn(logical)


def _requests(data: str, models: str) -> list[tuple[str, str, dict]]:
    found = [("ssm:GetParameter", POINTER, {}), ("ssm:PutParameter", POINTER, {})]
    found.append(("cloudwatch:GetMetricData", "*", {}))
    for area in layout.AREAS.values():
        bucket, prefix = (models, layout.DEFAULT_MODEL_PREFIX) if area.bucket == "models" else (data, area.prefix)
        found += [
            ("s3:GetObject", f"{bucket}/{prefix}some/key.json", {}),
            ("s3:PutObject", f"{bucket}/{prefix}some/key.json", {}),
            ("s3:ListBucket", bucket, {"s3:prefix": f"{prefix}some/"}),
        ]
    return found


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_role_grants_what_the_catalogue_grants(template, function):
    resolved = Template(template)
    _, properties = function_resource(template, function)
    role = properties["Role"]["Fn::GetAtt"][0]
    deployed = resolved.role_policies(role)
    data, models = _bucket(resolved, "StorageData"), _bucket(resolved, "StorageModels")
    resources = permissions.Resources(data, models, layout.DEFAULT_MODEL_PREFIX, POINTER, {}, "", "")
    catalogue = [permissions.role_policy(FUNCTIONS[function], resources)]
    principal = Principal.role(resolved.arn(role))
    differences = []
    for action, resource, context in _requests(data, models):
        request = Request(principal, action, resource, {"aws:SecureTransport": "true", **context})
        by_template, by_catalogue = evaluate(request, identity=deployed), evaluate(request, identity=catalogue)
        if by_template.allowed != by_catalogue.allowed:
            differences.append(f"{action} {resource}: template {by_template.allowed}, catalogue {by_catalogue.allowed}")
    assert differences == []
    # Not vacuous: the catalogue grants this function something, and refuses something.
    decisions = [
        evaluate(Request(principal, a, r, c), identity=catalogue).allowed for a, r, c in _requests(data, models)
    ]
    definition = FUNCTIONS[function]
    assert not all(decisions)
    assert any(decisions) == bool(definition.areas() or definition.pointer or definition.reads_metrics)
