"""Retraining: the retrain function (a container image: training does not fit a zip package),
the state machine that runs it step by step, and what starts it, all from the spec's
[retraining] section: the weekly schedule, the trigger alarms on the drift check's performance,
drift and new-label metrics (made with the others in modelwatch_infra.alerting; their change to
ALARM starts an execution), and a manual start."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from modelwatch_infra.assets import image_code
from modelwatch_infra.bundling import FUNCTION_CORE
from modelwatch_infra.functions import architecture_of, function_environment, function_log_group
from modelwatch_infra.retraining_asl import retraining_definition
from modelwatch_infra.settings import DeploymentSettings
from modelwatch_infra.storage import grant_prefix

# What the function reaches: (bucket role, prefix, read, write).
DATA_ACCESS = (("capture/", True, False), ("labels/", True, False), ("retraining/", True, True))


class Retraining(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        data: s3.IBucket,
        models: s3.IBucket,
        pointer: ssm.IStringParameter,
        topic: sns.ITopic,
        trigger_alarms: list[cw.IAlarm],
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        spec = settings.spec
        self.log_group = function_log_group(self, settings)
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            code=image_code("retrain", FUNCTION_CORE["retrain"], settings.spec_path, settings.architecture),
            architecture=architecture_of(settings),
            memory_size=3008,
            timeout=cdk.Duration.minutes(15),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment=function_environment(settings, environment),
            description="ModelWatch retrain: one step of the retraining state machine per invocation",
        )
        for prefix, read, write in DATA_ACCESS:
            grant_prefix(self.function, data, prefix, read=read, write=write)
        grant_prefix(self.function, models, settings.model_prefix, read=True, write=True)
        pointer.grant_read(self.function)
        pointer.grant_write(self.function)
        self.granted = [(data, prefix) for prefix, _, _ in DATA_ACCESS] + [(models, settings.model_prefix)]

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
