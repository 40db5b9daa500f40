"""Retraining: the state machine that runs the retrain function (the trainer, a container image,
see modelwatch.catalog.functions) for its Train step and the promote function for every step that
decides, and what starts it, all from the spec's [retraining]
section: the weekly schedule, the trigger alarms on the drift check's performance, drift and
new-label metrics (made with the others in modelwatch_infra.alerting; their change to ALARM
starts an execution), and a manual start. With [retraining] approval = "manual", the approval
function's callback task waits between Evaluate and Promote, and a managed policy holds what a
person needs to run `modelwatch approve` / `modelwatch reject`."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from modelwatch.catalog import layout, permissions
from modelwatch.jobs.asl import asl_text
from modelwatch.jobs.retraining_approval import approval_step
from modelwatch.jobs.retraining_machine import retraining_definition, run_limit
from modelwatch.registry import stack_outputs
from modelwatch_infra.functions import dead_letter_queue, vended_log_group
from modelwatch_infra.pipeline import data_key
from modelwatch_infra.settings import DeploymentSettings


class Retraining(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        function: lambda_.IFunction,
        promote_function: lambda_.IFunction,
        approval_function: lambda_.IFunction,
        data: s3.IBucket,
        topic: sns.ITopic,
        trigger_alarms: list[cw.IAlarm],
    ) -> None:
        super().__init__(scope, id)
        spec = settings.spec
        self.function, self.promote_function, self.data = function, promote_function, data
        self.machine_name = f"{settings.stack_name}-retraining"
        approval = approval_step(spec, approval_function.function_arn, settings.stack_name)
        self.approval_function = approval_function if approval is not None else None
        definition = retraining_definition(
            self.function.function_arn,
            topic.topic_arn,
            approval,
            promote_arn=promote_function.function_arn,
            timeout=run_limit(spec),
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.machine_name,
            definition_body=sfn.DefinitionBody.from_string(asl_text(definition)),
            # X-Ray bills each trace it records: on with the other background traces only.
            tracing_enabled=settings.trace_background,
            logs=sfn.LogOptions(
                destination=vended_log_group(self, "StateMachineLogs", "states", self.machine_name),
                level=sfn.LogLevel.ALL,
                include_execution_data=False,
            ),
        )
        self.function.grant_invoke(self.state_machine)
        self.promote_function.grant_invoke(self.state_machine)
        topic.grant_publish(self.state_machine)
        # What EventBridge could not start (after its retries) waits here, and alarms.
        self.start_dead_letters = dead_letter_queue(self, "StartDeadLetters")
        self.approvers: iam.ManagedPolicy | None = None
        if approval is not None:
            # The approval function publishes its notice with its own role: the stack grants that
            # from the function catalogue (modelwatch.catalog.functions.APPROVAL.publishes_alerts).
            approval_function.grant_invoke(self.state_machine)
            self.approvers = self._approvers_policy(data)

        if spec.retraining.schedule:
            self._start_on(
                "Schedule", {"trigger": "schedule"}, schedule=events.Schedule.expression(spec.retraining.schedule)
            )
        if trigger_alarms:
            pattern = events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=["CloudWatch Alarm State Change"],
                resources=[alarm.alarm_arn for alarm in trigger_alarms],
                detail={"state": {"value": ["ALARM"]}},
            )
            trigger = events.EventField.from_path("$.detail.alarmName")
            self._start_on("AlarmTrigger", {"trigger": trigger}, event_pattern=pattern)
        if spec.retraining.manual:
            cdk.CfnOutput(
                self,
                "StartManually",
                value=self.state_machine.state_machine_arn,
                description="aws stepfunctions start-execution --state-machine-arn <this> --input "
                '\'{"trigger": "manual"}\'',
            )

    def _approvers_policy(self, data: s3.IBucket) -> iam.ManagedPolicy:
        """What `modelwatch approve|reject` needs, to attach to the people who decide: read the
        waiting runs' tokens, see whether a run still waits, and send its token back."""
        prefix = layout.APPROVALS.prefix
        policy = iam.ManagedPolicy(
            self,
            "Approvers",
            description="ModelWatch: approve or reject a retraining run waiting for approval",
            statements=[
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[data.arn_for_objects(f"{prefix}*")]),
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[data.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
                ),
                iam.PolicyStatement(
                    actions=["states:DescribeExecution"],
                    resources=[
                        cdk.Stack.of(self).format_arn(
                            service="states",
                            resource="execution",
                            resource_name=f"{self.machine_name}:*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                ),
                # A task token is the capability: SendTaskSuccess and SendTaskFailure take no
                # resource-level permissions ("Actions, resources, and condition keys for AWS
                # Step Functions"), so "*" is the only resource they accept.
                iam.PolicyStatement(actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resources=["*"]),
                # The tokens are encrypted with the data bucket's key: decrypting, through S3 only.
                *(
                    iam.PolicyStatement.from_json(statement)
                    for statement in permissions.data_key_statements(*data_key(data), read=True, write=False)
                ),
            ],
        )
        cdk.CfnOutput(self, stack_outputs.APPROVERS_POLICY, value=policy.managed_policy_arn).override_logical_id(
            stack_outputs.APPROVERS_POLICY
        )
        return policy

    def _start_on(self, id: str, execution_input: dict[str, object], **when: object) -> None:
        """An EventBridge rule (a schedule or an event pattern) that starts an execution."""
        events.Rule(
            self,
            id,
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_object(execution_input),
                    retry_attempts=2,
                    dead_letter_queue=self.start_dead_letters,
                )
            ],
            **when,
        )
