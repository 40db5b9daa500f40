"""The monitoring pipeline: capture and feedback log lines to S3 through one delivery stream
(each API log group's subscription filter puts its capture lines on a Kinesis Data Firehose stream,
which decompresses them, extracts the messages and writes one object per buffer; S3 notifies the
capture function of each object, which files and profiles its records), the scheduled drift
check, and the backfill map."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from modelwatch.catalog import layout, permissions
from modelwatch.catalog.functions import DRIFT_CHECK_PERIOD_SECONDS
from modelwatch.jobs.asl import asl_text
from modelwatch.jobs.backfill_machine import backfill_definition
from modelwatch.serving.capture import MARKER
from modelwatch_infra.functions import dead_letter_queue, vended_log_group
from modelwatch_infra.nag import acknowledge, logical_id
from modelwatch_infra.settings import DeploymentSettings

# The singleton CDK adds to a stack to set bucket notifications (aws-s3's BucketNotificationsHandler).
NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
# What a Distributed Map's ResultWriter needs of its prefix ("ResultWriter (Map)", Step Functions
# Developer Guide): it writes in parts, and can abort them.
RESULT_WRITER_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]


def data_key(data: s3.IBucket) -> tuple[str, str]:
    """(the data bucket's key ARN, the S3 endpoint that uses it): what a role's key grant names."""
    key = data.encryption_key
    return ("" if key is None else key.key_arn), f"s3.{cdk.Stack.of(data).region}.amazonaws.com"


class Pipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        data: s3.Bucket,
        api_log_groups: list[logs.ILogGroup],
        capture: lambda_.IFunction,
        drift: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.delivery_stream_name = f"{settings.stack_name}-capture"
        stream = self._delivery_stream(settings, data)
        # CloudWatch Logs puts each API log group's capture lines on the stream with this role,
        # which may do nothing else (modelwatch.catalog.permissions, the local runtime's too).
        # Logs' documentation names the service both ways over the years (global and regional).
        from_this_account = {
            "StringLike": {"aws:SourceArn": f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"}
        }
        subscription_role = iam.Role(
            self,
            "CaptureSubscriptionRole",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("logs.amazonaws.com", conditions=from_this_account),
                iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com", conditions=from_this_account),
            ),
        )
        for statement in permissions.log_delivery_statements(stream.attr_arn):
            subscription_role.add_to_policy(iam.PolicyStatement.from_json(statement))
        for index, log_group in enumerate(api_log_groups):
            subscription = logs.CfnSubscriptionFilter(
                self,
                f"CaptureSubscription{index}",
                log_group_name=log_group.log_group_name,
                filter_pattern=logs.FilterPattern.number_value(f"$.{MARKER}", "=", 1).log_pattern_string,
                destination_arn=stream.attr_arn,
                role_arn=subscription_role.role_arn,
                filter_name=f"{settings.stack_name}-capture-{index}",
            )
            subscription.node.add_dependency(subscription_role)  # its policy exists before Logs tests it
        # One invocation per delivered object (and per errors object, which it counts and alarms).
        for area in (layout.DELIVERIES, layout.DELIVERY_ERRORS):
            data.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                s3n.LambdaDestination(capture),
                s3.NotificationKeyFilter(prefix=area.prefix),
            )
        self._confine_notifications_handler(settings.stack_name)
        self.schedule_dead_letters = dead_letter_queue(self, "ScheduleDeadLetters")
        self.schedule = events.Rule(
            self,
            "DriftSchedule",
            schedule=events.Schedule.rate(cdk.Duration.seconds(DRIFT_CHECK_PERIOD_SECONDS)),
            description="The scheduled drift check of every window in the monitoring spec",
            targets=[
                targets.LambdaFunction(
                    drift,
                    retry_attempts=2,
                    max_event_age=cdk.Duration.hours(2),
                    dead_letter_queue=self.schedule_dead_letters,
                )
            ],
        )
        name = self.backfill_name = f"{settings.stack_name}-backfill"
        machine_logs = vended_log_group(self, "BackfillLogs", "states", name)
        definition = backfill_definition(data.bucket_name, capture.function_arn)
        self.backfill = sfn.StateMachine(
            self,
            "Backfill",
            state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_string(asl_text(definition)),
            tracing_enabled=settings.trace_background,  # billed per trace: opt-in, as for the functions
            logs=sfn.LogOptions(destination=machine_logs, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        # The ItemReader lists the capture prefix; the capture function reads the objects itself.
        self.backfill.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[data.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{layout.CAPTURE.prefix}*"]}},
            )
        )
        # Its ResultWriter writes each map run's results under their own area, with the bucket's key.
        self.backfill.add_to_role_policy(
            iam.PolicyStatement(
                actions=RESULT_WRITER_ACTIONS,
                resources=[data.arn_for_objects(f"{layout.BACKFILL_RESULTS.prefix}*")],
            )
        )
        for statement in permissions.data_key_statements(*data_key(data), read=True, write=True):
            self.backfill.add_to_role_policy(iam.PolicyStatement.from_json(statement))
        capture.grant_invoke(self.backfill)
        # A Distributed Map runs its batches as child executions of the same state machine; the
        # ARNs are built from the name, as referencing the machine from its own role is a cycle.
        stack = cdk.Stack.of(self)
        colon = cdk.ArnFormat.COLON_RESOURCE_NAME
        self.backfill.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:StartExecution", "states:DescribeExecution", "states:StopExecution"],
                resources=[
                    stack.format_arn(service="states", resource="stateMachine", resource_name=name, arn_format=colon),
                    stack.format_arn(
                        service="states", resource="execution", resource_name=f"{name}/*", arn_format=colon
                    ),
                ],
            )
        )

    def _confine_notifications_handler(self, stack_name: str) -> None:
        """CDK sets a bucket's notifications with a deploy-time function whose role carries
        AWSLambdaBasicExecutionRole: any log group, the API functions' too, where a forged capture
        line would be stored as a prediction. Its role writes its own log group only instead."""
        stack = cdk.Stack.of(self)
        handler = stack.node.try_find_child(NOTIFICATIONS_HANDLER)
        role = handler.node.try_find_child("Role") if handler is not None else None
        if not isinstance(role, iam.Role):
            raise RuntimeError(f"CDK's {NOTIFICATIONS_HANDLER} has no role to confine (has CDK changed it?)")
        cfn_role = role.node.default_child
        assert isinstance(cfn_role, iam.CfnRole)
        cfn_role.add_property_override("ManagedPolicyArns", [])
        # CloudFormation names the function <stack>-<logical id, cut short>-<random>.
        group = f"log-group:/aws/lambda/{stack_name}-BucketNotificationsHandler*"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:{group}"],
            )
        )
        acknowledge(
            role,
            {
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:{group}]": (
                    "CDK's bucket notifications handler writes its own log group, known up to the random suffix "
                    "CloudFormation gives the function's name"
                ),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]": "removed from the template by a property override (ManagedPolicyArns "
                "is empty there; tests/infra checks it), which cdk-nag, reading the construct, does not see",
            },
        )

    def _delivery_stream(self, settings: DeploymentSettings, data: s3.Bucket) -> firehose.CfnDeliveryStream:
        """The capture delivery stream: the spec's buffering hints, CloudWatch Logs decompression
        and message extraction, one line per message, objects under deliveries/ by hour and what it
        cannot process under deliveries-errors/. Its role writes those two prefixes only."""
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "DeliveryStreamRole",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": stack.account}}
            ),
        )
        key_arn, s3_endpoint = data_key(data)
        for statement in permissions.delivery_stream_statements(data.bucket_arn, key_arn, s3_endpoint):
            role.add_to_policy(iam.PolicyStatement.from_json(statement))
        acknowledge(
            role,
            {
                f"AwsSolutions-IAM5[Resource::<{logical_id(data)}.Arn>/{area.prefix}*]": "the delivery stream writes "
                f"objects under {area.prefix} only (Firehose's S3 destination actions)"
                for area in (layout.DELIVERIES, layout.DELIVERY_ERRORS)
            },
        )
        log_group = vended_log_group(self, "DeliveryStreamLogs", "kinesisfirehose", self.delivery_stream_name)
        log_group.grant_write(role)
        capture = settings.spec.capture

        def processor(kind: str, **parameters: str) -> firehose.CfnDeliveryStream.ProcessorProperty:
            return firehose.CfnDeliveryStream.ProcessorProperty(
                type=kind,
                parameters=[
                    firehose.CfnDeliveryStream.ProcessorParameterProperty(parameter_name=k, parameter_value=v)
                    for k, v in parameters.items()
                ],
            )

        stream = firehose.CfnDeliveryStream(
            self,
            "CaptureDelivery",
            delivery_stream_name=self.delivery_stream_name,
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="AWS_OWNED_CMK"
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=data.bucket_arn,
                role_arn=role.role_arn,
                prefix=layout.DELIVERY_PREFIX,
                error_output_prefix=layout.DELIVERY_ERROR_PREFIX,
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=capture.buffer_seconds, size_in_m_bs=capture.buffer_mib
                ),
                compression_format="UNCOMPRESSED",
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[
                        processor("Decompression", CompressionFormat="GZIP"),
                        processor("CloudWatchLogProcessing", DataMessageExtraction="true"),
                        processor("AppendDelimiterToRecord"),
                    ],
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=log_group.log_group_name, log_stream_name="DestinationDelivery"
                ),
            ),
        )
        stream.node.add_dependency(role)  # the role's policy exists before Firehose checks it
        return stream
