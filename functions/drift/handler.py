"""Drift: on its EventBridge schedule, reconcile captures and feedback (every settled hour since
the stored watermark), then check every window the spec names against the baseline of the model
version being served; store drift.json and report.html and emit the metrics alarms watch. The
check's end is the scheduled event's time, rounded down to the hour by the job.

The two parts run apart: a failed window cannot skip the accounting, nor failed accounting the
windows. Either failure fails the invocation once both have run (and their metrics are sent)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from functions.drift import telemetry
from functions.shared.setup import instruments
from functions.shared.tracing import function_tracer
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.model_store import registry_of
from modelwatch.data_access.platform import Platform, current_platform
from modelwatch.data_access.pseudonym_key import load_pseudonyms
from modelwatch.data_access.sent_captures import SentCaptures, SentFeedback
from modelwatch.jobs.drift_job import DriftJob
from modelwatch.jobs.reconciliation import Reconciled, Reconciliation
from modelwatch.jobs.run_apart import attempt, raise_failures
from modelwatch.jobs.window_check import WindowCheck

SPEC, logger, metrics = instruments()
tracer = function_tracer(SPEC)


def _reconcile(platform: Platform, end: datetime) -> Reconciled:
    cloudwatch = platform.client("cloudwatch")
    namespace, service = SPEC.metrics.namespace, SPEC.metrics.service
    return Reconciliation(
        DataBucket(platform.client("s3"), platform.settings.data_bucket),
        registry_of(platform).current_version,
        SentCaptures(cloudwatch, namespace, service).per_version,
        SentFeedback(cloudwatch, namespace, service).in_hour,
        SPEC.capture.sent_count_tolerance,
    ).run(end)


def _check_windows(platform: Platform, end: datetime) -> list[WindowCheck]:
    pseudonyms = load_pseudonyms(SPEC, platform.environment, platform.client("secretsmanager"))
    job = DriftJob(platform.client("s3"), platform.settings.data_bucket, SPEC, registry_of(platform), pseudonyms)
    return job.run(end)


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: Any) -> dict[str, Any]:
    platform = current_platform()
    end = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    failures: list[tuple[str, Exception]] = []
    # Accounting first: its hours are due whatever the windows make of this run.
    accounting = attempt("accounting", lambda: _reconcile(platform, end))
    reconciled = accounting.value
    if reconciled is not None:
        telemetry.emit_reconciled(metrics, reconciled)
        lost = any(h.captures.missing or h.feedback.missing for h in reconciled.hours)
        (logger.error if lost else logger.info)("accounts reconciled", extra={"accounts": reconciled.to_document()})
    failure = accounting.error or (reconciled.failure if reconciled is not None else None)
    if failure is not None:
        logger.error("accounting failed; the next run catches up", exc_info=failure)
        failures.append(("accounting", failure))
    windows = attempt("drift windows", lambda: _check_windows(platform, end))
    checks = windows.value or []
    for check in checks:
        telemetry.emit(check, SPEC)
        logger.info("drift window checked", extra={"window": check.window, **check.summary()})
    if windows.error is not None:
        logger.error("drift windows failed", exc_info=windows.error)
        failures.append(("drift windows", windows.error))
    raise_failures(failures)
    return {
        "model_version": checks[0].model_version if checks else None,
        "windows": {check.window: check.summary() for check in checks},
        "accounting": None if reconciled is None else reconciled.to_document(),
    }
