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

from modelwatch.metric_catalog import DRIFT_TRIGGER_METRICS, PERFORMANCE_METRICS
from modelwatch.spec.models import MonitoringSpec
from modelwatch_infra.alerting import COMPARISONS
from modelwatch_infra.assets import image_code
from modelwatch_infra.bundling import FUNCTION_CORE
from modelwatch_infra.functions import retention_days
from modelwatch_infra.retraining_asl import retraining_definition
from modelwatch_infra.settings import DeploymentSettings
from modelwatch_infra.storage import grant_prefix

# What the function reaches: (bucket role, prefix, read, write).
DATA_ACCESS = (("capture/", True, False), ("labels/", True, False), ("retraining/", True, True))


def trigger_alarms(spec: MonitoringSpec, period: cdk.Duration) -> dict[str, tuple[cw.Metric, float, str]]:
    """Alarm name -> (metric, threshold, comparison) for each metric trigger the spec sets."""
    retraining = spec.retraining

    def metric(name: str, statistic: str) -> cw.Metric:
        dimensions = {"service": spec.metrics.service, "window": spec.retraining_window}
        return cw.Metric(
            namespace=spec.metrics.namespace,
            metric_name=name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=period,
        )

    alarms: dict[str, tuple[cw.Metric, float, str]] = {}
    if retraining.performance is not None:
        name = PERFORMANCE_METRICS[retraining.performance.metric]
        alarms["RetrainOnPerformance"] = (metric(name, "Minimum"), retraining.performance.below, "LessThanThreshold")
    if retraining.drift is not None:
        name = DRIFT_TRIGGER_METRICS[retraining.drift.metric]
        alarms["RetrainOnDrift"] = (metric(name, "Maximum"), retraining.drift.above, "GreaterThanThreshold")
    if retraining.new_labeled_rows is not None:
        alarms["RetrainOnNewData"] = (
            metric("NewLabeledRows", "Maximum"),
            retraining.new_labeled_rows,
            "GreaterThanOrEqualToThreshold",
        )
    return alarms


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
        period = cdk.Duration.hours(1)  # the drift check's default schedule
        self.alarms: list[cw.Alarm] = []
        for name, (metric, threshold, comparison) in trigger_alarms(spec, period).items():
            self.alarms.append(
                cw.Alarm(
                    self,
                    name,
                    alarm_name=f"{settings.stack_name}-{name}",
                    metric=metric,
                    threshold=threshold,
                    evaluation_periods=1,
                    comparison_operator=COMPARISONS[comparison],
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"Starts the retraining state machine ({spec.retraining_window} window)",
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
