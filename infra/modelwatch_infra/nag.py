"""cdk-nag findings reviewed and acknowledged, each by its exact finding id and with its reason.
Anything else cdk-nag reports fails the synth."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from modelwatch.catalog.layout import APPROVALS, BACKFILL_RESULTS

XRAY_REASON = (
    "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions (CDK grants them for "
    "active and pass-through tracing)"
)
PUBLISH_REASON = (
    "publishing to the KMS-encrypted alerts topic: CDK's grantPublish allows GenerateDataKey and "
    "GenerateDataKeyWithoutPlaintext, on that one key only"
)
# A function that publishes with its own role (the catalogue's publish statements).
FUNCTION_PUBLISH_REASON = (
    "publishing to the KMS-encrypted alerting topics (the approval notice to the alerts topic, the notifier's "
    "notices to the notices topic): GenerateDataKey and GenerateDataKeyWithoutPlaintext, on the topics' one key only"
)
METRIC_READS_REASON = (
    "CloudWatch's GetMetricData and ListMetrics support no resource-level permissions (capture accounting reads "
    "CaptureRecordsSent)"
)


def prefix_reason(prefix: str) -> str:
    return (
        f"object access is limited to the {prefix} area the function catalogue gives this function, granted as "
        "<bucket>/<prefix>* with exact actions (GetObject, PutObject)"
    )


def acknowledge(scope: IConstruct, findings: dict[str, str]) -> None:
    for finding, reason in findings.items():
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def logical_id(resource: IConstruct) -> str:
    stack = cdk.Stack.of(resource)
    return str(stack.resolve(stack.get_logical_id(resource.node.default_child)))  # type: ignore[arg-type]


def _objects(bucket: s3.IBucket, prefix: str) -> str:
    if isinstance(bucket, s3.Bucket):
        return f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{prefix}*]"
    return f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{bucket.bucket_name}/{prefix}*]"


# AwsSolutions-SF2 asks for X-Ray on every state machine.
UNTRACED_MACHINE_REASON = (
    "X-Ray is opt-in (context traceBackground): it bills every trace it records; each execution's history is "
    "in its CloudWatch log group (level ALL) and its failures alarm (ExecutionsFailed)"
)
MACHINE_LOG_DELIVERY_REASON = (
    "the execution log's delivery (logs:CreateLogDelivery and the other log-delivery actions CDK grants for a "
    "state machine's log group) supports no resource-level permissions"
)


def _machine_findings(traced: bool) -> dict[str, str]:
    """A state machine's wildcard grants (its log delivery, and X-Ray's writes when traced), and
    SF2 when it is not traced."""
    if traced:
        wildcard = f"{MACHINE_LOG_DELIVERY_REASON}; nor does X-Ray tracing of a state machine"
        return {"AwsSolutions-IAM5[Resource::*]": wildcard}
    return {"AwsSolutions-IAM5[Resource::*]": MACHINE_LOG_DELIVERY_REASON, "AwsSolutions-SF2": UNTRACED_MACHINE_REASON}


def suppress_reviewed_findings(
    stack: cdk.Stack,
    *,
    functions: dict,
    prefixes: dict[str, list[tuple[s3.IBucket, str]]],
    backfill: IConstruct,
    backfill_name: str,
    retraining: Any,
    capture: lambda_.IFunction,
    queues: list[IConstruct],
    data: s3.IBucket,
    traced_machines: bool,
    pseudonym_key: IConstruct | None = None,
    request_id_key: IConstruct | None = None,
) -> None:
    for name, built in functions.items():
        extra = (
            {
                "AwsSolutions-L1": "Python 3.12 is the runtime the layers' wheels are resolved and byte-compiled "
                "for (modelwatch_infra.bundling.LAMBDA_PYTHON); both move together"
            }
            if built.definition.packaging == "zip"
            else {}
        )
        if built.definition.publishes_alerts or built.definition.publishes_notices:
            extra["AwsSolutions-IAM5[Action::kms:GenerateDataKey*]"] = FUNCTION_PUBLISH_REASON
        acknowledge(
            built,
            {
                "AwsSolutions-IAM5[Resource::*]": XRAY_REASON
                + ("; " + METRIC_READS_REASON if built.definition.reads_metrics else ""),
                **extra,
                **{_objects(bucket, prefix): prefix_reason(prefix) for bucket, prefix in prefixes.get(name, [])},
            },
        )
    if pseudonym_key is not None:
        acknowledge(
            pseudonym_key,
            {
                "AwsSolutions-SMG4": "the pseudonym key is not rotated automatically: a new key gives every value a "
                "new pseudonym, and the drift check would compare a window's old and new pseudonyms as different "
                "categories; it is replaced by redeploying, between two baselines"
            },
        )
    if request_id_key is not None:
        acknowledge(
            request_id_key,
            {
                "AwsSolutions-SMG4": "the request-id key is not rotated automatically: feedback names ids signed "
                "with it, often days later, and a new key would refuse the labels of every earlier prediction"
            },
        )
    for queue in queues:
        acknowledge(queue, {"AwsSolutions-SQS3": "this queue is itself a dead-letter queue"})
    acknowledge(
        backfill,
        {
            **_machine_findings(traced_machines),
            f"AwsSolutions-IAM5[Resource::<{logical_id(capture)}.Arn>:*]": "the backfill invokes the capture function, "
            "any published version of it",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
            f"{backfill_name}/*]": "a Distributed Map runs its batches as child executions of its own state machine",
            _objects(data, BACKFILL_RESULTS.prefix): "the map's ResultWriter writes each run's results under "
            "their own area, in parts it may list and abort",
        },
    )
    acknowledge(
        retraining.state_machine,
        {
            **_machine_findings(traced_machines),
            f"AwsSolutions-IAM5[Resource::<{logical_id(retraining.function)}.Arn>:*]": "the state machine invokes "
            "the retrain function, any published version of it",
            f"AwsSolutions-IAM5[Resource::<{logical_id(retraining.promote_function)}.Arn>:*]": "the state machine "
            "invokes the promote function, any published version of it",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": PUBLISH_REASON,
        },
    )
    if retraining.approvers is not None:
        _acknowledge_approval(functions, retraining)


def _acknowledge_approval(functions: dict, retraining: Any) -> None:
    """[retraining] approval = "manual": the approval function, its invocation, the approvers' policy."""

    acknowledge(
        retraining.state_machine,
        {
            f"AwsSolutions-IAM5[Resource::<{logical_id(retraining.approval_function)}.Arn>:*]": "the state machine "
            "invokes the approval function, any published version of it",
        },
    )
    acknowledge(
        retraining.approvers,
        {
            "AwsSolutions-IAM5[Resource::*]": "SendTaskSuccess and SendTaskFailure support no resource-level "
            "permissions: the task token itself is the capability",
            _objects(retraining.data, APPROVALS.prefix): "reads only the approval requests' prefix "
            "(the runs' task tokens)",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
            f"{retraining.machine_name}:*]": "DescribeExecution of the retraining state machine's own executions, "
            "to say whether a run still waits",
        },
    )
