"""The roles the stack deploys grant exactly what the function catalogue's statements grant
(modelwatch.catalog.permissions), which the local runtime enforces: for every function, every
object read and write in every S3 area, listing each area, the model pointer and the metric
reads, and publishing on each alerting topic (and encrypting with the topics' key) are allowed or
refused alike by the template's role and by the catalogue."""

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


def _topic(resolved: Template, starts: str) -> str:
    (logical,) = [k for k, _ in resolved.of_type("AWS::SNS::Topic") if k.startswith(starts)]
    return resolved.arn(logical)


def _topic_key(resolved: Template) -> str:
    (logical,) = [k for k, _ in resolved.of_type("AWS::KMS::Key") if k.startswith("AlertingTopicKey")]
    return resolved.arn(logical)


def _requests(data: str, models: str, resolved: Template) -> list[tuple[str, str, dict]]:
    found = [("ssm:GetParameter", POINTER, {}), ("ssm:PutParameter", POINTER, {})]
    found += [("sns:Publish", _topic(resolved, f"Alerting{t}"), {}) for t in ("Alerts", "Notices", "Operations")]
    found += [(action, _topic_key(resolved), {}) for action in ("kms:GenerateDataKey", "kms:Decrypt")]
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
    resources = permissions.Resources(
        data,
        models,
        layout.DEFAULT_MODEL_PREFIX,
        POINTER,
        {},
        alerts_topic_arn=_topic(resolved, "AlertingAlerts"),
        alerts_key_arn=_topic_key(resolved),
        notices_topic_arn=_topic(resolved, "AlertingNotices"),
    )
    catalogue = [permissions.role_policy(FUNCTIONS[function], resources)]
    # And what Lambda needs to dead-letter a failed event (the local runtime's role_policies too):
    # the queue, and its key when encrypted, which is the topics' key unless separateInputsKey.
    dead_letters = properties.get("DeadLetterConfig", {}).get("TargetArn")
    if dead_letters is not None:
        queue = dead_letters["Fn::GetAtt"][0]
        key = resolved.props(queue).get("KmsMasterKeyId")
        queue_arn, key_arn = resolved.arn(queue), (str(resolved.resolve(key)) if key else None)
        catalogue.append({"Statement": permissions.dead_letter_statements(queue_arn, key_arn)})
    principal = Principal.role(resolved.arn(role))
    differences = []
    for action, resource, context in _requests(data, models, resolved):
        request = Request(principal, action, resource, {"aws:SecureTransport": "true", **context})
        by_template, by_catalogue = evaluate(request, identity=deployed), evaluate(request, identity=catalogue)
        if by_template.allowed != by_catalogue.allowed:
            differences.append(f"{action} {resource}: template {by_template.allowed}, catalogue {by_catalogue.allowed}")
    assert differences == []
    # Not vacuous: the catalogue grants this function something, and refuses something.
    decisions = [
        evaluate(Request(principal, a, r, c), identity=catalogue).allowed
        for a, r, c in _requests(data, models, resolved)
    ]
    definition = FUNCTIONS[function]
    assert not all(decisions)
    publishes = definition.publishes_alerts or definition.publishes_notices
    assert any(decisions) == bool(definition.areas() or definition.pointer or definition.reads_metrics or publishes)
