"""Drift: on its EventBridge schedule, check every window the spec names against the baseline of
the model version being served; store drift.json and report.html and emit the metrics alarms
watch. The check's end is the scheduled event's time, rounded down to the hour by the job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from functions.drift import telemetry
from functions.shared.setup import instruments
from functions.shared.tracing import function_tracer
from modelwatch.data_access.model_store import registry_of
from modelwatch.data_access.platform import current_platform
from modelwatch.data_access.pseudonym_key import load_pseudonyms
from modelwatch.data_access.sent_captures import SentCaptures
from modelwatch.jobs.capture_accounting import settled_hour
from modelwatch.jobs.drift_job import DriftJob

SPEC, logger, metrics = instruments()
tracer = function_tracer(SPEC)


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: Any) -> dict[str, Any]:
    platform = current_platform()
    pseudonyms = load_pseudonyms(SPEC, platform.environment, platform.client("secretsmanager"))
    job = DriftJob(platform.client("s3"), platform.settings.data_bucket, SPEC, registry_of(platform), pseudonyms)
    end = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    checks = job.run(end)
    for check in checks:
        telemetry.emit(check, SPEC)
        logger.info("drift window checked", extra={"window": check.window, **check.summary()})
    sent = SentCaptures(platform.client("cloudwatch"), SPEC.metrics.namespace, SPEC.metrics.service)
    account = job.account_captures(end, sent.per_version(settled_hour(end)))
    telemetry.emit_capture_account(metrics, account)
    log = logger.error if account.missing else logger.info
    log("captures reconciled", extra={"account": account.to_document()})
    return {
        "model_version": checks[0].model_version if checks else None,
        "windows": {check.window: check.summary() for check in checks},
        "captures": account.to_document(),
    }
