"""Retraining: the retrain function (a container image: training does not fit a zip package),
the state machine that runs it step by step, and what starts it, all from the spec's
[retraining] section: the weekly schedule, alarms on the drift check's performance, drift and
new-label metrics (their state change to ALARM starts an execution), and a manual start."""

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

from modelwatch.alerts.plan import planned_alarms
from modelwatch_infra.alerting import COMPARISONS, MISSING, planned_metric
from modelwatch_infra.assets import image_code
from modelwatch_infra.bundling import FUNCTION_CORE
from modelwatch_infra.functions import retention_days
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
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        spec = settings.spec
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention_days(settings.log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            code=image_code("retrain", FUNCTION_CORE["retrain"], settings.spec_path, settings.architecture),
            architecture=lambda_.Architecture.ARM_64
            if settings.architecture == "arm64"
            else lambda_.Architecture.X86_64,
            memory_size=3008,
            timeout=cdk.Duration.minutes(15),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment={
                "MODELWATCH_SPEC": "/var/task/monitoring.toml",
                "POWERTOOLS_SERVICE_NAME": spec.metrics.service,
                "POWERTOOLS_METRICS_NAMESPACE": spec.metrics.namespace,
                **environment,
            },
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

        self._start_on(
            "Schedule",
            events.Schedule.expression(spec.retraining.schedule) if spec.retraining.schedule else None,
            None,
            {"trigger": "schedule"},
        )
        self.alarms: list[cw.Alarm] = []
        for planned in planned_alarms(spec):
            if planned.action != "retrain":
                continue
            rule = planned.rule
            self.alarms.append(
                cw.Alarm(
                    self,
                    planned.name,
                    alarm_name=f"{settings.stack_name}-{planned.name}",
                    metric=planned_metric(spec, planned),
                    threshold=rule.threshold,
                    evaluation_periods=rule.evaluation_periods,
                    comparison_operator=COMPARISONS[rule.comparison],
                    treat_missing_data=MISSING[rule.treat_missing_data],
                    alarm_description=f"{rule.description}: starts the retraining state machine "
                    f"({spec.retraining_window} window)",
                )
            )
        if self.alarms:
            pattern = events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=["CloudWatch Alarm State Change"],
                resources=[alarm.alarm_arn for alarm in self.alarms],
                detail={"state": {"value": ["ALARM"]}},
            )
            self._start_on(
                "AlarmTrigger", None, pattern, {"trigger": events.EventField.from_path("$.detail.alarmName")}
            )
        if spec.retraining.manual:
            cdk.CfnOutput(
                self,
                "StartManually",
                value=self.state_machine.state_machine_arn,
                description="aws stepfunctions start-execution --state-machine-arn <this> --input "
                '\'{"trigger": "manual"}\'',
            )

    def _start_on(
        self,
        id: str,
        schedule: events.Schedule | None,
        pattern: events.EventPattern | None,
        execution_input: dict[str, object],
    ) -> None:
        if schedule is None and pattern is None:
            return
        events.Rule(
            self,
            id,
            schedule=schedule,
            event_pattern=pattern,
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_object(execution_input),
                    retry_attempts=2,
                )
            ],
        )
