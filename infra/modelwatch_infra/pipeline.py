"""The monitoring pipeline: capture and feedback log lines to S3 through a Logs subscription (the
capture function profiles each capture object it writes, so no S3 notification or second
function is involved), the scheduled drift check, and the backfill map."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as log_destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from modelwatch.catalog import layout
from modelwatch.catalog.functions import DRIFT_CHECK_PERIOD_SECONDS
from modelwatch.jobs.asl import asl_text
from modelwatch.jobs.backfill_machine import backfill_definition
from modelwatch.serving.capture import MARKER
from modelwatch_infra.functions import dead_letter_queue, vended_log_group
from modelwatch_infra.settings import DeploymentSettings

# What a Distributed Map's ResultWriter needs of its prefix ("ResultWriter (Map)", Step Functions
# Developer Guide): it writes in parts, and can abort them.
RESULT_WRITER_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]


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
        # Named, so their delivery metrics (AWS/Logs DeliveryErrors, DeliveryThrottling) can be alarmed.
        self.capture_subscriptions: list[tuple[logs.ILogGroup, str]] = []
        for index, log_group in enumerate(api_log_groups):
            name = f"{settings.stack_name}-capture-{index}"
            logs.SubscriptionFilter(
                self,
                f"CaptureSubscription{index}",
                log_group=log_group,
                destination=log_destinations.LambdaDestination(capture),
                filter_pattern=logs.FilterPattern.number_value(f"$.{MARKER}", "=", 1),
                filter_name=name,
            )
            self.capture_subscriptions.append((log_group, name))
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
            tracing_enabled=True,
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
        # Its ResultWriter writes each map run's results under their own area.
        self.backfill.add_to_role_policy(
            iam.PolicyStatement(
                actions=RESULT_WRITER_ACTIONS,
                resources=[data.arn_for_objects(f"{layout.BACKFILL_RESULTS.prefix}*")],
            )
        )
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
