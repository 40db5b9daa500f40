"""No `Resource: "*"` except where AWS requires it, each case named with AWS's reason: a new
wildcard grant anywhere in the template fails this test until it is reviewed and named here."""

from __future__ import annotations

from collections.abc import Iterator

# Actions AWS documents as supporting no resource-level permissions, so "*" is the only resource.
AWS_REQUIRES_WILDCARD = {
    # X-Ray: "X-Ray doesn't support resource-level permissions for PutTraceSegments,
    # PutTelemetryRecords, GetSamplingRules and GetSamplingTargets" (active tracing).
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    # Step Functions logging to CloudWatch Logs: the vended-log-delivery actions take "*"
    # ("Using CloudWatch Logs to log execution history in Step Functions").
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    # Step Functions callbacks: SendTaskSuccess and SendTaskFailure take no resource-level
    # permissions (the task token is the capability); the approvers' policy, approval = "manual".
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    # CloudWatch: GetMetricData and ListMetrics take no resource ("Actions, resources, and condition
    # keys for Amazon CloudWatch": no resource types); the drift run's capture accounting reads them.
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
}


def _statements(template: dict) -> Iterator[tuple[str, str, dict]]:
    for logical_id, resource in template["Resources"].items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        documents = []
        if kind in (
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
            "AWS::SQS::QueuePolicy",
            "AWS::SNS::TopicPolicy",
            "AWS::S3::BucketPolicy",
        ):
            documents.append(properties["PolicyDocument"])
        elif kind == "AWS::KMS::Key":
            documents.append(properties["KeyPolicy"])
        elif kind == "AWS::IAM::Role":
            documents += [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        for document in documents:
            for statement in document["Statement"]:
                yield kind, logical_id, statement


def _wildcard(statement: dict) -> bool:
    resource = statement.get("Resource")
    return "*" in (resource if isinstance(resource, list) else [resource])


def test_wildcard_resources_only_where_aws_requires_them(template):
    unexplained = []
    for kind, logical_id, statement in _statements(template):
        if not _wildcard(statement) or statement.get("Effect") == "Deny":
            continue
        if kind == "AWS::KMS::Key":
            continue  # in a key policy, "*" is the key itself (AWS KMS: "Key policies")
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        unexplained += [f"{logical_id}: {action}" for action in actions if action not in AWS_REQUIRES_WILDCARD]
    assert not unexplained


def test_the_check_finds_a_wildcard_grant():
    forged = {
        "Resources": {
            "P": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
                },
            }
        }
    }
    found = [s for _, _, s in _statements(forged) if _wildcard(s)]
    assert len(found) == 1 and found[0]["Action"] not in AWS_REQUIRES_WILDCARD
