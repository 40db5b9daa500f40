"""Alerts: the KMS-encrypted SNS topics, and one CloudWatch alarm per rule of the monitoring spec
(per feature or KPI where the metric has that dimension; a retraining trigger that judges what a
rule judges is that rule's alarm), plus dead letters, failed executions, and the functions' errors
and throttles where no other alarm covers them (modelwatch.alerts.plan.function_alarms; context
alarmEachFunction alarms them on every function). Every alarm notifies the alerts topic (the
alerting path's own failures, the operations topic).

The alerts topic reaches the notifier only; the notifier renders one notice per incident state
and publishes it on the notices topic, which the email subscriptions receive (and posts it to
Slack). The operations topic, for failures of that path itself, is email only: it does not depend
on the notifier."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secrets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from modelwatch.alerts.plan import PlannedAlarm, dead_letter_alarm, function_alarms, planned_alarms
from modelwatch.catalog import delivery
from modelwatch.catalog.metrics import (
    API_ID_DIMENSION,
    LAMBDA_DEAD_LETTER_ERRORS,
    SMOKE_TEST,
    STATES_EXECUTIONS_FAILED,
    STATES_MACHINE_DIMENSION,
    STATES_NAMESPACE,
    MetricMath,
)
from modelwatch.spec.models import MonitoringSpec
from modelwatch_infra.functions import dead_letter_queue
from modelwatch_infra.settings import DeploymentSettings
from modelwatch_infra.storage import allow_log_groups

COMPARISONS = {
    "GreaterThanThreshold": cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "GreaterThanOrEqualToThreshold": cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    "LessThanThreshold": cw.ComparisonOperator.LESS_THAN_THRESHOLD,
    "LessThanOrEqualToThreshold": cw.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
}
MISSING = {
    "breaching": cw.TreatMissingData.BREACHING,
    "notBreaching": cw.TreatMissingData.NOT_BREACHING,
    "ignore": cw.TreatMissingData.IGNORE,
    "missing": cw.TreatMissingData.MISSING,
}


def planned_metric(spec: MonitoringSpec, alarm: PlannedAlarm) -> cw.Metric:
    return cw.Metric(
        namespace=spec.metrics.namespace,
        metric_name=alarm.rule.metric,
        dimensions_map=alarm.dimensions,
        statistic=alarm.rule.statistic,
        period=cdk.Duration.seconds(alarm.rule.period_seconds),
    )


def math_expression(math: MetricMath, api: apigw.HttpApi, period: cdk.Duration) -> cw.MathExpression:
    """The catalogue's metric math (the 5xx rate over the HTTP API's counts), as deployed: its
    inputs' dimension values are this stack's (the API's id)."""
    dimension_values = {API_ID_DIMENSION: api.api_id}
    return cw.MathExpression(
        expression=math.expression,
        using_metrics={
            item.id: cw.Metric(
                namespace=item.namespace,
                metric_name=item.name,
                dimensions_map={d: dimension_values[d] for d in item.dimensions},
                statistic=item.statistic,
                period=period,
            )
            for item in math.inputs
        },
        label=math.label,
        period=period,
    )


class Alerting(Construct):
    """Built in two steps: the topics first (the functions' environment names the notices topic),
    then, once the functions exist, the notifier's subscription and the alarms (`connect`)."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings) -> None:
        super().__init__(scope, id)
        self.settings = settings
        # One customer-managed key (billed per key-month) encrypts the topics and, unless context
        # separateInputsKey asks for a key of their own, what holds raw inputs: the log groups,
        # dead-letter queues and secret of modelwatch_infra.stack. Its policy has both services'
        # statements; the roles' grants stay per use (a publisher may encrypt, not read a log group).
        holds_inputs = not settings.separate_inputs_key
        description = (
            "ModelWatch: the alerting topics, and the log groups, queues and secret that hold raw inputs"
            if holds_inputs
            else "ModelWatch alerts topic"
        )
        self.key = kms.Key(self, "TopicKey", enable_key_rotation=True, description=description)
        self.key.add_to_resource_policy(iam.PolicyStatement.from_json(delivery.alarm_key_statement()))
        self.inputs_key: kms.Key | None = None
        if holds_inputs:
            allow_log_groups(self.key)
            self.inputs_key = self.key
        # The alarms' and retraining's raw messages: to the notifier only.
        self.topic = self._topic("Alerts", self.key, "ModelWatch alerts")
        # The alerting path's own failures (the notifier failing, its dead letters) must not go
        # through the notifier: they go to a topic with email subscriptions only.
        self.operations = self._topic("Operations", self.key, "ModelWatch alerting failures")
        # The notifier's notices, one per incident state: what email receives. No alarm may
        # publish here (modelwatch.catalog.delivery.notices_topic_statements).
        self.notices = sns.Topic(
            self, "Notices", master_key=self.key, enforce_ssl=True, display_name="ModelWatch notices"
        )
        for address in settings.alert_emails:  # context alertEmails, the one place they are set
            self.notices.add_subscription(subscriptions.EmailSubscription(address))
            self.operations.add_subscription(subscriptions.EmailSubscription(address))

    def connect(
        self,
        *,
        api: apigw.HttpApi,
        notifier: lambda_.IFunction,
        functions: dict[str, lambda_.IFunction],
        dead_letter_queues: dict[str, sqs.IQueue],
        notifier_name: str,
    ) -> None:
        settings = self.settings
        self.notify_dead_letters = dead_letter_queue(self, "NotifyDeadLetters")
        self.topic.add_subscription(
            subscriptions.LambdaSubscription(notifier, dead_letter_queue=self.notify_dead_letters)
        )
        if settings.slack_secret_name:  # Slack configured; without it the notifier emails only
            secret = secrets.Secret.from_secret_name_v2(self, "SlackWebhook", settings.slack_secret_name)
            secret.grant_read(notifier)
        self.alarms: list[cw.Alarm] = []
        spec = settings.spec
        # Every alarm whose change to ALARM starts retraining (modelwatch_infra.retraining): rules'
        # alarms that are a trigger's judgement too, and triggers no rule covers, which notify
        # nobody (the state machine they start publishes its own notice).
        self.retraining_triggers: list[cw.Alarm] = []
        for planned in planned_alarms(spec):
            rule = planned.rule
            metric = (
                math_expression(planned.math, api, cdk.Duration.seconds(rule.period_seconds))
                if planned.math is not None
                else planned_metric(spec, planned)
            )
            alarm = self._alarm(
                planned.name,
                metric,
                threshold=rule.threshold,
                evaluation_periods=rule.evaluation_periods,
                datapoints_to_alarm=rule.datapoints_to_alarm,
                comparison=COMPARISONS[rule.comparison],
                missing=MISSING[rule.treat_missing_data],
                description=f"[{rule.severity}] {rule.description}".strip(),
                low_samples=rule.evaluate_low_sample_count_percentile,
                notify=planned.action == "notify",
            )
            if planned.starts_retraining:
                self.retraining_triggers.append(alarm)
        self.smoke = self._smoke_alarm(spec)
        self.watch(functions, notifier_name)
        queues = {**dead_letter_queues, f"{notifier_name}-subscription": self.notify_dead_letters}
        self.watch_queues(queues, notifier_name)

    def _smoke_alarm(self, spec: MonitoringSpec) -> cw.Alarm:
        """An alarm on a metric nothing sends, notifying both topics: `modelwatch smoke` sets its
        state to see a notice reach the notifier and the email subscriptions, and sets it back."""
        alarm = self._alarm(
            "Smoke",
            cw.Metric(
                namespace=spec.metrics.namespace,
                metric_name=SMOKE_TEST.name,
                dimensions_map={"service": spec.metrics.service},
                statistic="Sum",
                period=cdk.Duration.minutes(5),
            ),
            threshold=0,
            description="[test] set only by `modelwatch smoke` after a deploy, to test alert delivery: no action",
        )
        target = actions.SnsAction(self.operations)
        alarm.add_alarm_action(target)
        alarm.add_ok_action(target)
        return alarm

    def _topic(self, id: str, key: kms.IKey, display_name: str) -> sns.Topic:
        """A topic encrypted with `key`, TLS only, that this stack's alarms may publish to: its
        policy replaces SNS's default one, so it names them (modelwatch.catalog.delivery)."""
        topic = sns.Topic(self, id, master_key=key, enforce_ssl=True, display_name=display_name)
        stack = cdk.Stack.of(self)
        statement = delivery.alarm_publish_statement(
            topic.topic_arn,
            partition=stack.partition,
            region=stack.region,
            account=stack.account,
            stack_name=stack.stack_name,
        )
        topic.add_to_resource_policy(iam.PolicyStatement.from_json(statement))
        return topic

    def watch_dead_letter_errors(self, functions: dict[str, lambda_.Function]) -> None:
        """An asynchronous function whose failed event Lambda cannot put in its dead-letter queue
        loses that event: AWS/Lambda DeadLetterErrors, to the operations topic."""
        for name, function in sorted(functions.items()):
            self._alarm(
                f"{name}-DeadLetterErrors",
                function.metric(LAMBDA_DEAD_LETTER_ERRORS, period=cdk.Duration.minutes(5), statistic="Sum"),
                threshold=0,
                description=f"[critical] the {name} function's failed events could not reach its dead-letter "
                "queue: they are lost",
                topic=self.operations,
            )

    def watch_state_machines(self, machines: dict[str, sfn.IStateMachine]) -> None:
        """Each state machine's failed executions, to the operations topic."""
        for name, machine in sorted(machines.items()):
            self._alarm(
                f"{name}-ExecutionsFailed",
                cw.Metric(
                    namespace=STATES_NAMESPACE,
                    metric_name=STATES_EXECUTIONS_FAILED,
                    dimensions_map={STATES_MACHINE_DIMENSION: machine.state_machine_arn},
                    statistic="Sum",
                    period=cdk.Duration.minutes(5),
                ),
                threshold=0,
                description=f"[critical] a {name} execution failed",
                topic=self.operations,
            )

    def watch(self, functions: dict[str, lambda_.IFunction], notifier_name: str) -> None:
        """Errors and throttles of the functions whose failures no other alarm covers (all of them
        with context alarmEachFunction), alarmed like the spec's rules; the notifier's own go to the
        operations topic (email), which does not depend on the notifier."""
        five_minutes = cdk.Duration.minutes(5)
        watched = function_alarms(self.settings.spec, self.settings.alarm_each_function)
        for name, kinds in watched.items():
            for kind in kinds:
                self._alarm(
                    f"{name}-{kind}",
                    functions[name].metric(kind, period=five_minutes, statistic="Sum"),
                    threshold=0,
                    description=f"[critical] {kind.lower()} in the {name} function",
                    topic=self.operations if name == notifier_name else self.topic,
                )

    def watch_delivery_stream(self, stream_name: str, buffer_seconds: int) -> None:
        """The capture path's first hop: a delivery stream that cannot write to S3 retries for up to
        24 hours, then drops what it holds. Its oldest undelivered record's age (DataFreshness)
        passing a buffer interval plus a quarter hour means writes are failing; what it could not
        process is alarmed apart (CaptureFailed, from the alarm plan)."""
        five_minutes = cdk.Duration.minutes(5)
        metric = cw.Metric(
            namespace="AWS/Firehose",
            metric_name="DeliveryToS3.DataFreshness",
            dimensions_map={"DeliveryStreamName": stream_name},
            statistic="Maximum",
            period=five_minutes,
        )
        self._alarm(
            "capture-delivery-DataFreshness",
            metric,
            threshold=buffer_seconds + 900,
            evaluation_periods=3,
            description=f"[critical] the capture delivery stream {stream_name} has not written to S3 for "
            "15 minutes past its buffer interval: captures are held, and lost after 24 hours",
        )

    def watch_queues(self, queues: dict[str, sqs.IQueue], notifier_name: str | None = None) -> None:
        """Every dead-letter queue alarms on each message arriving in it (the alarm plan's
        dead_letter_alarm, which the local runtime evaluates too); the notifier's, and any queue
        of the delivery path itself (notifier_name None), to email."""
        for name, queue in sorted(queues.items()):
            planned = dead_letter_alarm(name, queue.queue_name)
            rule = planned.rule
            self._alarm(
                planned.name,
                queue.metric(rule.metric, period=cdk.Duration.seconds(rule.period_seconds), statistic=rule.statistic),
                threshold=rule.threshold,
                evaluation_periods=rule.evaluation_periods,
                comparison=COMPARISONS[rule.comparison],
                missing=MISSING[rule.treat_missing_data],
                description=f"[{rule.severity}] {rule.description}",
                topic=self.operations if notifier_name is None or name.startswith(notifier_name) else self.topic,
            )

    def _alarm(
        self,
        name: str,
        metric: cw.IMetric,
        *,
        threshold: float,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
        description: str = "",
        low_samples: str | None = None,
        notify: bool = True,
        topic: sns.ITopic | None = None,
    ) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            name,
            alarm_name=f"{cdk.Stack.of(self).stack_name}-{name}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            comparison_operator=comparison,
            treat_missing_data=missing,
            alarm_description=description,
            evaluate_low_sample_count_percentile=low_samples,
        )
        if notify:
            target = actions.SnsAction(topic or self.topic)
            alarm.add_alarm_action(target)
            alarm.add_ok_action(target)
            self.alarms.append(alarm)
        return alarm
