"""The IAM statements each function's role holds, derived from the function catalogue: exactly
the object actions on the S3 areas it reads and writes, the model pointer if it reads or moves
it, CloudWatch's metric reads, its secrets and the topics it publishes to (the alerts topic, the
notices topic). The CDK stack puts these
statements in the roles it deploys; the local runtime evaluates every call a function makes
against the same statements, so a permission the code needs and the catalogue lacks fails
locally as it would in AWS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelwatch.catalog.functions import PSEUDONYM_SECRET, REQUEST_ID_SECRET, SLACK_SECRET, FunctionDefinition
from modelwatch.catalog.layout import DELIVERIES, DELIVERY_ERRORS, Area

Statement = dict[str, Any]
# CloudWatch's metric reads support no resource-level permissions: granted on "*".
METRIC_READS = ("cloudwatch:GetMetricData", "cloudwatch:ListMetrics")
# What reading the pointer parameter takes (as CDK's StringParameter.grantRead writes it), and moving it.
POINTER_READS = ("ssm:DescribeParameters", "ssm:GetParameters", "ssm:GetParameter", "ssm:GetParameterHistory")
POINTER_WRITES = ("ssm:PutParameter",)
SECRET_READS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")


@dataclass(frozen=True)
class Resources:
    """Where a deployment's resources are: ARNs (or CDK tokens standing for them)."""

    data_bucket_arn: str
    model_bucket_arn: str
    model_prefix: str
    pointer_arn: str
    # Secret ARNs by the environment variable that names them (only those the deployment has).
    secrets: dict[str, str]
    alerts_topic_arn: str
    alerts_key_arn: str  # the key of the alerts topic and of the notices topic
    notices_topic_arn: str = ""
    # The data bucket's key (SSE-KMS) and the S3 endpoint that uses it for the roles ("s3.<region>.amazonaws.com").
    data_key_arn: str = ""
    s3_endpoint: str = ""


def object_statements(bucket_arn: str, prefix: str, *, read: bool, write: bool) -> list[Statement]:
    """Exactly the object actions a function needs on one prefix. Reading includes listing that
    prefix: without s3:ListBucket a missing key answers AccessDenied, not NoSuchKey."""
    actions = (["s3:GetObject"] if read else []) + (["s3:PutObject"] if write else [])
    statements: list[Statement] = [{"Effect": "Allow", "Action": actions, "Resource": f"{bucket_arn}/{prefix}*"}]
    if read:
        statements.append(
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            }
        )
    return statements


def area_place(area: Area, resources: Resources) -> tuple[str, str]:
    """The bucket ARN and prefix of an area in this deployment (the registry's prefix is the
    deployment's own)."""
    if area.bucket == "models":
        return resources.model_bucket_arn, resources.model_prefix
    return resources.data_bucket_arn, area.prefix


def area_statements(definition: FunctionDefinition, resources: Resources) -> list[tuple[Area, list[Statement]]]:
    """Each area the function reaches, with its statements."""
    found = []
    for area in definition.areas():
        bucket, prefix = area_place(area, resources)
        statements = object_statements(bucket, prefix, read=area in definition.reads, write=area in definition.writes)
        found.append((area, statements))
    return found


# What S3 asks of KMS for the role, on an SSE-KMS bucket: a data key to write an object, the key's
# decryption to read one (and to finish a multipart upload, so writers get both: S3's multipart
# writes decrypt the data key). Only through S3: the grant says kms:ViaService, so the role cannot
# decrypt anything of the key's by calling KMS itself (log groups and queues share the key).
DATA_KEY_READS = ("kms:Decrypt",)
DATA_KEY_WRITES = ("kms:Decrypt", "kms:GenerateDataKey")


def data_key_statements(key_arn: str, s3_endpoint: str, *, read: bool, write: bool) -> list[Statement]:
    """The data bucket's key, for a role that reads or writes objects in it (none without a key)."""
    if not key_arn or not (read or write):
        return []
    actions = sorted(set((DATA_KEY_READS if read else ()) + (DATA_KEY_WRITES if write else ())))
    statement: Statement = {"Effect": "Allow", "Action": actions, "Resource": key_arn}
    if s3_endpoint:
        statement["Condition"] = {"StringEquals": {"kms:ViaService": s3_endpoint}}
    return [statement]


def function_data_key_statements(definition: FunctionDefinition, resources: Resources) -> list[Statement]:
    """The data bucket's key, as the function's areas there need it."""
    data_areas = [area for area in definition.areas() if area.bucket == "data"]
    read = any(area in definition.reads for area in data_areas)
    write = any(area in definition.writes for area in data_areas)
    return data_key_statements(resources.data_key_arn, resources.s3_endpoint, read=read, write=write)


def pointer_statements(definition: FunctionDefinition, resources: Resources) -> list[Statement]:
    if definition.pointer is None:
        return []
    actions = list(POINTER_READS) + (list(POINTER_WRITES) if definition.pointer == "write" else [])
    return [{"Effect": "Allow", "Action": actions, "Resource": resources.pointer_arn}]


def metric_statements(definition: FunctionDefinition) -> list[Statement]:
    if not definition.reads_metrics:
        return []
    return [{"Effect": "Allow", "Action": list(METRIC_READS), "Resource": "*"}]


def secret_statements(definition: FunctionDefinition, resources: Resources) -> list[Statement]:
    """The secrets its environment names (the Slack webhook, the pseudonym key, the request-id key)."""
    named = (SLACK_SECRET, PSEUDONYM_SECRET, REQUEST_ID_SECRET)
    arns = [resources.secrets.get(v, "") for v in named if v in definition.environment]
    arns = [arn for arn in arns if arn]
    return [{"Effect": "Allow", "Action": list(SECRET_READS), "Resource": arns}] if arns else []


def publish_statements(definition: FunctionDefinition, resources: Resources) -> list[Statement]:
    """sns:Publish on each topic it publishes to, and their key (both topics share one)."""
    topics = ([resources.alerts_topic_arn] if definition.publishes_alerts else []) + (
        [resources.notices_topic_arn] if definition.publishes_notices else []
    )
    if not topics:
        return []
    return topic_publish_statements(topics, resources.alerts_key_arn)


def topic_publish_statements(topic_arns: list[str], key_arn: str) -> list[Statement]:
    """Publishing on encrypted topics: sns:Publish on them, and encrypting with their key."""
    return [
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arns[0] if len(topic_arns) == 1 else topic_arns},
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": key_arn},
    ]


def dead_letter_statements(queue_arn: str, key_arn: str | None) -> list[Statement]:
    """What Lambda needs, acting with the function's role, to put a failed asynchronous event in
    its dead-letter queue; an SSE-KMS queue also needs its key."""
    statements: list[Statement] = [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}]
    if key_arn is not None:
        statements.append({"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key_arn})
    return statements


def role_policy(definition: FunctionDefinition, resources: Resources) -> dict[str, Any]:
    """Everything the catalogue grants the function, as one policy document."""
    statements = [s for _, area in area_statements(definition, resources) for s in area]
    statements += function_data_key_statements(definition, resources)
    statements += pointer_statements(definition, resources)
    statements += metric_statements(definition)
    statements += secret_statements(definition, resources)
    statements += publish_statements(definition, resources)
    return {"Version": "2012-10-17", "Statement": statements}


# --- the capture delivery stream ---------------------------------------------------------------
# What Firehose's role needs to write a stream's objects to S3 ("Grant Firehose access to an
# Amazon S3 destination"), on the two prefixes it writes and nothing else.
DELIVERY_BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")
DELIVERY_OBJECT_ACTIONS = ("s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject")
# What CloudWatch Logs' role needs to send a subscription's batches to the stream.
LOG_DELIVERY_ACTIONS = ("firehose:PutRecord", "firehose:PutRecordBatch")


def delivery_stream_statements(data_bucket_arn: str, data_key_arn: str = "", s3_endpoint: str = "") -> list[Statement]:
    """The delivery stream's role: write under deliveries/ and deliveries-errors/ only, with the
    data bucket's key."""
    prefixes = [f"{data_bucket_arn}/{area.prefix}*" for area in (DELIVERIES, DELIVERY_ERRORS)]
    key = data_key_statements(data_key_arn, s3_endpoint, read=False, write=True)
    return [
        {"Effect": "Allow", "Action": list(DELIVERY_OBJECT_ACTIONS), "Resource": prefixes},
        {"Effect": "Allow", "Action": list(DELIVERY_BUCKET_ACTIONS), "Resource": data_bucket_arn},
        *key,
    ]


def log_delivery_statements(stream_arn: str) -> list[Statement]:
    """The subscription filters' role: put records on the capture delivery stream only."""
    return [{"Effect": "Allow", "Action": list(LOG_DELIVERY_ACTIONS), "Resource": stream_arn}]


def notification_invoke_statement(function_arn: str, data_bucket_arn: str, account: str) -> Statement:
    """The capture function's resource policy statement that lets S3 notify it of the data
    bucket's objects (the bucket's owner pinned too, as AWS advises for S3 notifications)."""
    return {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": function_arn,
        "Condition": {
            "ArnLike": {"aws:SourceArn": data_bucket_arn},
            "StringEquals": {"aws:SourceAccount": account},
        },
    }
