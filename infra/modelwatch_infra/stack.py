"""The whole of ModelWatch in one stack, built from the monitoring spec and CDK context."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from modelwatch_infra.alerting import Alerting
from modelwatch_infra.api import Api
from modelwatch_infra.bundling import ROOT
from modelwatch_infra.dashboard import Dashboard
from modelwatch_infra.functions import Layers, ModelWatchFunction
from modelwatch_infra.nag import suppress_reviewed_findings
from modelwatch_infra.pipeline import Pipeline
from modelwatch_infra.retraining import Retraining
from modelwatch_infra.settings import DeploymentSettings
from modelwatch_infra.storage import Storage, grant_prefix

# name -> (memory MB, timeout s, invoked asynchronously)
FUNCTIONS = {
    "predict": (1024, 10, False),
    "feedback": (512, 10, False),
    "capture": (512, 60, True),
    "profile": (1024, 120, True),
    "drift": (2048, 600, True),
    "notify": (256, 60, True),
}
# Where a cold start is a caller's wait: SnapStart, when the snapStart context allows it.
SNAP_STARTED = {"predict"}


class ModelWatchStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings, **kwargs) -> None:
        super().__init__(scope, id, description="ModelWatch: serverless monitoring of a deployed ML model", **kwargs)
        storage = Storage(self, "Storage", settings)
        layers = Layers(self, "Layers", settings)
        dashboard_name = f"{settings.stack_name}-dashboard"
        environment = {
            "MODELWATCH_DATA_BUCKET": storage.data.bucket_name,
            "MODELWATCH_MODEL_BUCKET": storage.models.bucket_name,
            "MODELWATCH_MODEL_PREFIX": settings.model_prefix,
            "MODELWATCH_POINTER_PARAMETER": storage.pointer.parameter_name,
        }
        extra = {
            "notify": {
                "MODELWATCH_SLACK_SECRET": settings.slack_secret_name,
                "MODELWATCH_DASHBOARD_NAME": dashboard_name,
            }
        }
        built = {
            name: ModelWatchFunction(
                self,
                name.capitalize(),
                name=name,
                settings=settings,
                layers=layers,
                environment={**environment, **extra.get(name, {})},
                memory_mb=memory,
                timeout_seconds=timeout,
                asynchronous=asynchronous,
                snap_start=settings.snap_start and name in SNAP_STARTED,
            )
            for name, (memory, timeout, asynchronous) in FUNCTIONS.items()
        }
        fn = {name: b.function for name, b in built.items()}
        granted = self._grant(storage, settings, fn)

        api = Api(self, "Api", settings, built["predict"].entry, built["feedback"].entry)
        pipeline = Pipeline(
            self,
            "Pipeline",
            settings=settings,
            data=storage.data,
            api_log_groups=[built["predict"].log_group, built["feedback"].log_group],
            capture=fn["capture"],
            profile=fn["profile"],
            drift=fn["drift"],
        )
        alerting = Alerting(
            self,
            "Alerting",
            settings=settings,
            api=api.http_api,
            notifier=fn["notify"],
            functions=fn,
            dead_letter_queues={n: b.dead_letters for n, b in built.items() if b.dead_letters is not None},
        )
        retraining = Retraining(
            self,
            "Retraining",
            settings=settings,
            data=storage.data,
            models=storage.models,
            pointer=storage.pointer,
            topic=alerting.topic,
            trigger_alarms=alerting.retraining_triggers,
            environment=environment,
        )
        alerting.watch({"retrain": retraining.function})
        Dashboard(
            self,
            "Dashboard",
            spec=settings.spec,
            name=dashboard_name,
            api=api.http_api,
            functions=fn,
            predict_logs=built["predict"].log_group,
            alarms=alerting.alarms,
        )
        suppress_reviewed_findings(
            self,
            functions=built,
            prefixes=granted,
            backfill=pipeline.backfill,
            backfill_name=pipeline.backfill_name,
            retraining=retraining,
            profile=fn["profile"],
            queues=[b.dead_letters for b in built.values() if b.dead_letters is not None]
            + [pipeline.schedule_dead_letters, alerting.notify_dead_letters],
        )

    @staticmethod
    def _grant(storage: Storage, settings: DeploymentSettings, fn: dict) -> dict[str, list[tuple[s3.IBucket, str]]]:
        """Least privilege: each function reaches only the prefixes it reads or writes."""
        models, data = storage.models, storage.data
        reads = {
            "predict": [(models, settings.model_prefix)],
            "drift": [
                (models, settings.model_prefix),
                *(
                    (data, p)
                    for p in ("profiles/", "profiles-hourly/", "joins/", "labels/", "labels-joined/", "reports/")
                ),
            ],
            "profile": [(data, "capture/")],
        }
        writes = {
            "feedback": [(data, "labels/")],
            "capture": [(data, "capture/"), (data, "quarantine/")],
            "profile": [(data, "profiles/"), (data, "joins/"), (data, "quarantine/")],
            "drift": [(data, "profiles-hourly/"), (data, "labels-joined/"), (data, "reports/")],
        }
        for name, places in reads.items():
            for bucket, prefix in places:
                grant_prefix(fn[name], bucket, prefix, read=True)
        for name, places in writes.items():
            for bucket, prefix in places:
                grant_prefix(fn[name], bucket, prefix, write=True)
        for name in ("predict", "drift"):
            storage.pointer.grant_read(fn[name])
        granted: dict[str, list[tuple[s3.IBucket, str]]] = {}
        for table in (reads, writes):
            for name, places in table.items():
                granted.setdefault(name, []).extend(p for p in places if p not in granted.get(name, []))
        return granted


def new_app(context: dict | None = None, outdir: str | None = None) -> cdk.App:
    """An app with cdk.json's context (feature flags), as the CDK CLI makes it, plus `context`."""
    flags = json.loads((ROOT / "cdk.json").read_text())["context"]
    return cdk.App(context={**flags, **(context or {})}, outdir=outdir)


def build(app: cdk.App) -> ModelWatchStack:
    settings = DeploymentSettings.from_context(app)
    return ModelWatchStack(app, settings.stack_name, settings=settings)
