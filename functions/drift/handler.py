"""Drift: on its EventBridge schedule, check every window the spec names against the baseline of
the model version being served; store drift.json and report.html and emit the metrics alarms
watch. The check's end is the scheduled time (or the platform's clock), rounded to the hour."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from functions.drift import telemetry
from functions.shared.tracing import TRACED_MODULES
from modelwatch.aws.drift_job import DriftJob
from modelwatch.aws.platform import current_platform
from modelwatch.aws.registry import registry_of

SPEC = current_platform().spec
logger = Logger(service=SPEC.metrics.service)
metrics = Metrics(namespace=SPEC.metrics.namespace, service=SPEC.metrics.service)
tracer = Tracer(service=SPEC.metrics.service, patch_modules=TRACED_MODULES)


def _end(event: dict[str, Any]) -> datetime:
    if "time" in event:  # EventBridge scheduled events carry their time
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return current_platform().clock()


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    platform = current_platform()
    job = DriftJob(platform.client("s3"), platform.settings.data_bucket, SPEC, registry_of(platform))
    documents = job.run(_end(event))
    summary = {}
    for document in documents:
        telemetry.emit(document, SPEC.metrics.namespace, SPEC.metrics.service)
        summary[document["window"]] = {
            "status": document["status"],
            "dataset_drift": document["dataset_drift"],
            "drift_share": document["drift_share"],
            "rows": document["current_rows"],
        }
        logger.info("drift window checked", extra={"window": document["window"], **summary[document["window"]]})
    return {"model_version": documents[0]["model_version"] if documents else None, "windows": summary}
