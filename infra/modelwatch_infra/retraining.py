"""Retraining: the state machine that runs the retrain function (a container image, see
modelwatch.catalog.functions) step by step, and what starts it, all from the spec's [retraining]
section: the weekly schedule, the trigger alarms on the drift check's performance, drift and
new-label metrics (made with the others in modelwatch_infra.alerting; their change to ALARM
starts an execution), and a manual start."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from modelwatch.jobs.retraining_machine import retraining_definition
from modelwatch_infra.settings import DeploymentSettings


class Retraining(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        function: lambda_.IFunction,
        topic: sns.ITopic,
        trigger_alarms: list[cw.IAlarm],
    ) -> None:
        super().__init__(scope, id)
        spec = settings.spec
        self.function = function
        self.machine_name = f"{settings.stack_name}-retraining"
        definition = retraining_definition(self.function.function_arn, topic.topic_arn)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.machine_name,
            definition_body=sfn.DefinitionBody.from_string(cdk.Stack.of(self).to_json_string(definition)),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(self, "StateMachineLogs", retention=logs.RetentionDays.ONE_MONTH),
                level=sfn.LogLevel.ALL,
                include_execution_data=False,
            ),
        )
        self.function.grant_invoke(self.state_machine)
        topic.grant_publish(self.state_machine)

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
                )
            ],
            **when,
        )
