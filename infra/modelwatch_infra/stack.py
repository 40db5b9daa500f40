"""The whole of ModelWatch in one stack, built from the monitoring spec, the catalogues
(functions, S3 layout, metrics) and CDK context."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from modelwatch.catalog import delivery, permissions
from modelwatch.catalog import functions as catalog
from modelwatch.registry import stack_outputs
from modelwatch_infra.alerting import Alerting
from modelwatch_infra.api import Api
from modelwatch_infra.bundling import ROOT
from modelwatch_infra.dashboard import Dashboard
from modelwatch_infra.functions import Layers, ModelWatchFunction
from modelwatch_infra.nag import suppress_reviewed_findings
from modelwatch_infra.pipeline import Pipeline
from modelwatch_infra.retraining import Retraining
from modelwatch_infra.settings import DeploymentSettings
from modelwatch_infra.storage import Storage, logs_key, pseudonym_secret, request_id_secret

Granted = dict[str, list[tuple[s3.IBucket, str]]]


class ModelWatchStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings, **kwargs) -> None:
        super().__init__(scope, id, description="ModelWatch: serverless monitoring of a deployed ML model", **kwargs)
        layers = Layers(self, "Layers", settings)
        dashboard_name = f"{settings.stack_name}-dashboard"
        alerting = Alerting(self, "Alerting", settings=settings)
        # What holds raw inputs is encrypted with the stack's one key, or (context
        # separateInputsKey) a key of its own: log groups, queues, the secret and the data bucket.
        inputs_key = alerting.inputs_key or logs_key(
            self, "InputsKey", "ModelWatch: log groups and queues that hold raw inputs"
        )
        storage = Storage(self, "Storage", settings, inputs_key)
        environment = {
            catalog.DATA_BUCKET: storage.data.bucket_name,
            catalog.MODEL_BUCKET: storage.models.bucket_name,
            catalog.MODEL_PREFIX: settings.model_prefix,
            catalog.POINTER_PARAMETER: storage.pointer.parameter_name,
            catalog.SLACK_SECRET: settings.slack_secret_name,
            catalog.DASHBOARD_NAME: dashboard_name,
            catalog.NOTICES_TOPIC: alerting.notices.topic_arn,
        }
        pseudonym_key = pseudonym_secret(self, settings, inputs_key)
        environment[catalog.PSEUDONYM_SECRET] = pseudonym_key.secret_name if pseudonym_key else ""
        request_id_key = request_id_secret(self, inputs_key)
        environment[catalog.REQUEST_ID_SECRET] = request_id_key.secret_name
        built = {
            name: ModelWatchFunction(
                self,
                name.capitalize(),
                definition=definition,
                settings=settings,
                layers=layers,
                environment=environment,
                inputs_key=inputs_key,
            )
            for name, definition in catalog.FUNCTIONS.items()
        }
        fn = {name: b.function for name, b in built.items()}
        granted = self._grant(storage, settings, built, alerting)
        # Each generated secret, readable by the functions whose environment names it.
        for variable, secret in (
            (catalog.PSEUDONYM_SECRET, pseudonym_key),
            (catalog.REQUEST_ID_SECRET, request_id_key),
        ):
            for definition in catalog.FUNCTIONS.values():
                if secret is not None and variable in definition.environment:
                    secret.grant_read(built[definition.name].function)
        predict = built[catalog.PREDICT.name]

        api = Api(self, "Api", settings, {route: built[f.name].entry for route, f in catalog.API_ROUTES.items()})
        pipeline = Pipeline(
            self,
            "Pipeline",
            settings=settings,
            data=storage.data,
            api_log_groups=[built[f.name].log_group for f in catalog.API_ROUTES.values()],
            capture=fn[catalog.CAPTURE_FUNCTION.name],
            drift=fn[catalog.DRIFT.name],
        )
        alerting.connect(
            api=api.http_api,
            notifier=fn[catalog.NOTIFY.name],
            functions=fn,
            dead_letter_queues={n: b.dead_letters for n, b in built.items() if b.dead_letters is not None},
            notifier_name=catalog.NOTIFY.name,
        )
        alerting.watch_delivery_stream(pipeline.delivery_stream_name, settings.spec.capture.buffer_seconds)
        alerting.watch_dead_letter_errors({n: b.function for n, b in built.items() if b.dead_letters is not None})
        retraining = Retraining(
            self,
            "Retraining",
            settings=settings,
            function=fn[catalog.RETRAIN.name],
            promote_function=fn[catalog.PROMOTE.name],
            approval_function=fn[catalog.APPROVAL.name],
            data=storage.data,
            topic=alerting.topic,
            trigger_alarms=alerting.retraining_triggers,
        )
        machines = (pipeline.backfill, retraining.state_machine)
        alerting.watch_state_machines(dict(zip(delivery.STATE_MACHINES, machines, strict=True)))
        # What EventBridge could not deliver, for both rules' targets: to the operations topic.
        alerting.watch_queues(
            {
                delivery.RETRAINING_START_DEAD_LETTERS: retraining.start_dead_letters,
                delivery.DRIFT_SCHEDULE_DEAD_LETTERS: pipeline.schedule_dead_letters,
            }
        )
        # Where `modelwatch redrive-alerts|redrive-captures --stack NAME` find the functions and their dead letters,
        # and `modelwatch approve|reject RUN --stack NAME` the runs waiting for approval.
        notifier = built[catalog.NOTIFY.name]
        capture_dead_letters = built[catalog.CAPTURE_FUNCTION.name].dead_letters
        assert capture_dead_letters is not None  # an asynchronously invoked function has one
        for key, value in (
            (stack_outputs.ALERTS_TOPIC, alerting.topic.topic_arn),
            (stack_outputs.OPERATIONS_TOPIC, alerting.operations.topic_arn),
            (stack_outputs.NOTICES_TOPIC, alerting.notices.topic_arn),
            (stack_outputs.SMOKE_ALARM, alerting.smoke.alarm_name),
            (stack_outputs.API_URL, api.http_api.api_endpoint),
            (stack_outputs.DRIFT_FUNCTION, fn[catalog.DRIFT.name].function_name),
            (stack_outputs.DATA_BUCKET, storage.data.bucket_name),
            (stack_outputs.NOTIFY_FUNCTION, notifier.function.function_name),
            (stack_outputs.CAPTURE_FUNCTION, fn[catalog.CAPTURE_FUNCTION.name].function_name),
            (stack_outputs.CAPTURE_DEAD_LETTER_QUEUE, capture_dead_letters.queue_url),
            (
                stack_outputs.NOTIFY_DEAD_LETTER_QUEUES,
                cdk.Fn.join(",", [notifier.dead_letters.queue_url, alerting.notify_dead_letters.queue_url]),
            ),
        ):
            cdk.CfnOutput(self, key, value=value).override_logical_id(key)
        Dashboard(
            self,
            "Dashboard",
            spec=settings.spec,
            name=dashboard_name,
            api=api.http_api,
            functions=fn,
            predict_logs=predict.log_group,
            alarms=alerting.alarms,
        )
        suppress_reviewed_findings(
            self,
            pseudonym_key=pseudonym_key,
            request_id_key=request_id_key,
            data=storage.data,
            traced_machines=settings.trace_background,
            functions=built,
            prefixes=granted,
            backfill=pipeline.backfill,
            backfill_name=pipeline.backfill_name,
            retraining=retraining,
            capture=fn[catalog.CAPTURE_FUNCTION.name],
            queues=[b.dead_letters for b in built.values() if b.dead_letters is not None]
            + [pipeline.schedule_dead_letters, alerting.notify_dead_letters, retraining.start_dead_letters],
        )

    @staticmethod
    def _grant(
        storage: Storage, settings: DeploymentSettings, built: dict[str, ModelWatchFunction], alerting: Alerting
    ) -> Granted:
        """Least privilege, from the function catalogue (modelwatch.catalog.permissions, which the
        local runtime enforces too): each function reaches only the areas it reads or writes, the
        model pointer only if it reads or moves it, metrics only if it reads them, and the topics
        it publishes to (the approval notice's alerts topic, the notifier's notices topic)."""
        resources = permissions.Resources(
            data_bucket_arn=storage.data.bucket_arn,
            model_bucket_arn=storage.models.bucket_arn,
            model_prefix=settings.model_prefix,
            pointer_arn=storage.pointer.parameter_arn,
            secrets={},  # granted with their constructs (pseudonym key, Slack webhook)
            alerts_topic_arn=alerting.topic.topic_arn,
            alerts_key_arn=alerting.key.key_arn,
            notices_topic_arn=alerting.notices.topic_arn,
            data_key_arn=storage.data_key.key_arn,
            s3_endpoint=f"s3.{cdk.Stack.of(storage).region}.amazonaws.com",
        )
        granted: Granted = {}
        for name, function in built.items():
            definition = function.definition
            for area, statements in permissions.area_statements(definition, resources):
                for statement in statements:
                    function.function.add_to_role_policy(iam.PolicyStatement.from_json(statement))
                bucket = storage.models if area.bucket == "models" else storage.data
                granted.setdefault(name, []).append((bucket, permissions.area_place(area, resources)[1]))
            for statement in permissions.function_data_key_statements(definition, resources):
                function.function.add_to_role_policy(iam.PolicyStatement.from_json(statement))
            for statement in permissions.pointer_statements(definition, resources):
                function.function.add_to_role_policy(iam.PolicyStatement.from_json(statement))
            for statement in permissions.metric_statements(definition):
                function.function.add_to_role_policy(iam.PolicyStatement.from_json(statement))
            for statement in permissions.publish_statements(definition, resources):
                function.function.add_to_role_policy(iam.PolicyStatement.from_json(statement))
        return granted


def new_app(context: dict | None = None, outdir: str | None = None) -> cdk.App:
    """An app with cdk.json's context (feature flags), as the CDK CLI makes it, plus `context`."""
    flags = json.loads((ROOT / "cdk.json").read_text())["context"]
    return cdk.App(context={**flags, **(context or {})}, outdir=outdir)


def build(app: cdk.App) -> ModelWatchStack:
    settings = DeploymentSettings.from_context(app)
    return ModelWatchStack(app, settings.stack_name, settings=settings)
