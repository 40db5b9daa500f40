"""Capture: the delivery stream (Firehose, fed by the API log groups' subscription filters)
writes the capture and feedback lines it buffered to deliveries/; S3 notifies this function of
each object, once per object whatever the traffic. The object's records are filed as JSON-lines
objects by model version and hour (quarantined requests by hour, feedback by its prediction's
hour), and each capture object is profiled in the same invocation (its partial profile and join
index, from the records in hand). A backfill's Distributed Map hands this function batches of
stored capture objects to profile.

Idempotent: every key filed from a delivered object comes from that object's key, so a repeated
notification or a retried invocation rewrites the same objects. A failure is retried (botocore,
then Lambda's asynchronous retries, then its dead-letter queue, which `modelwatch
redrive-captures` hands back): never dropped silently. An object under deliveries-errors/ (log
batches the stream could not process) is counted as CaptureFailed (alarmed) and left for
`modelwatch redrive-captures`. A capture object that cannot be profiled is copied to
quarantine/poison/ and counted.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel

from functions.shared.emit import add_metric
from functions.shared.setup import instruments
from modelwatch.catalog import layout
from modelwatch.catalog import metrics as catalog
from modelwatch.data_access.capture_store import CaptureStore, CaptureWriteError
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.model_store import registry_of
from modelwatch.data_access.platform import Platform, current_platform
from modelwatch.jobs.profile_job import ProfileJob, ProfileOutcome, VersionModels
from modelwatch.jobs.version_models import VersionModelsCache, read_version_models
from modelwatch.serving.capture import storage_groups
from modelwatch.serving.delivery_stream import delivered_lines, delivery_batch_id, recovered_lines

SPEC, logger, metrics = instruments()


class MapItem(BaseModel):
    """One object of a Distributed Map's batch (an S3 listing entry)."""

    Key: str


class MapBatch(BaseModel):
    Items: list[MapItem]


VERSION_MODELS = VersionModelsCache()  # one per execution environment


def _version_models(platform: Platform, version: str) -> VersionModels:
    """A version's baseline PCA and loss model (read by the core), its problems logged and counted."""
    read = VERSION_MODELS.get(platform, version, lambda: read_version_models(registry_of(platform), SPEC, version))
    for problem in read.problems:
        extra = {"version": problem.version, "reason": problem.reason}
        if problem.load_failure:
            logger.error(problem.message, extra=extra)
            add_metric(metrics, catalog.MODEL_LOAD_FAILED, 1)
        else:
            logger.warning(problem.message, extra=extra)
    return read.models


class S3Object(BaseModel):
    key: str


class S3Entity(BaseModel):
    object: S3Object


class S3Record(BaseModel):
    s3: S3Entity


class S3Notification(BaseModel):
    """S3's event notification (s3:ObjectCreated:*) of objects the delivery stream wrote."""

    Records: list[S3Record]


def _store_delivery(key: str, data: DataBucket, job: ProfileJob) -> dict[str, int]:
    """File one delivered object's records and profile its capture objects."""
    lines = delivered_lines(data.read(key))
    groups, unreadable = storage_groups(enumerate(lines))
    if unreadable:
        logger.error("unreadable capture lines", extra={"key": key, "lines": unreadable})
        add_metric(metrics, catalog.CAPTURE_FAILED, len(unreadable))
    try:
        written = CaptureStore(data).store(groups, delivery_batch_id(key))
    except CaptureWriteError as error:
        # botocore has retried already; the object stays in deliveries/, and Lambda retries this
        # notification (then dead-letters it for redrive-captures).
        logger.exception("capture not stored", extra={"key": error.key, "delivery": key, "records": len(error.records)})
        add_metric(metrics, catalog.CAPTURE_FAILED, len(error.records))
        raise
    stored = sum(len(records) for records in written.values())
    add_metric(metrics, catalog.CAPTURED_RECORDS, stored)
    captures = {k: records for k, records in written.items() if layout.is_capture_object(k)}
    outcome = job.profile_written(captures, current_platform().clock())
    _report(job, outcome)
    return {"objects": len(groups), "records": stored, "profiled": outcome.profiled}


def _count_delivery_failure(key: str, data: DataBucket) -> dict[str, int]:
    """An object the delivery stream wrote under its errors prefix: its batches wait there for
    redrive-captures; say so, and count them for the CaptureFailed alarm."""
    recovered = recovered_lines(data.read(key))
    batches = max(1, len(recovered.lines) + len(recovered.unreadable))
    logger.error(
        "the delivery stream could not process log batches; run modelwatch redrive-captures",
        extra={"key": key, "lines": len(recovered.lines), "unreadable": recovered.unreadable},
    )
    add_metric(metrics, catalog.CAPTURE_FAILED, batches)
    return {"objects": 0, "records": 0, "profiled": 0, "delivery_failed": batches}


def _notified(notification: S3Notification, data: DataBucket, job: ProfileJob) -> dict[str, int]:
    totals: dict[str, int] = {}
    for record in notification.Records:
        key = unquote_plus(record.s3.object.key)  # S3 URL-encodes keys in notifications
        if layout.DELIVERY_ERRORS.holds(key):
            outcome = _count_delivery_failure(key, data)
        elif layout.DELIVERIES.holds(key):
            outcome = _store_delivery(key, data, job)
        else:
            logger.warning("notified of an object outside the delivery areas", extra={"key": key})
            continue
        for name, value in outcome.items():
            totals[name] = totals.get(name, 0) + value
    return totals


def _report(job: ProfileJob, outcome: ProfileOutcome) -> None:
    for key in job.late:
        logger.warning("late capture object: its hour is listed again by the drift check", extra={"key": key})
    for key, reason in outcome.quarantined.items():
        logger.error("capture object quarantined", extra={"key": key, "reason": reason})
    for key, reason in outcome.losses_not_estimated.items():
        logger.error("no expected losses for a capture object", extra={"key": key, "reason": reason})
    add_metric(metrics, catalog.MODEL_LOAD_FAILED, len(outcome.losses_not_estimated))  # sent when nonzero
    add_metric(metrics, catalog.PROFILED_OBJECTS, outcome.profiled)
    add_metric(metrics, catalog.PROFILE_FAILED, len(outcome.quarantined))


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    platform = current_platform()
    data = DataBucket(platform.client("s3"), platform.settings.data_bucket)
    job = ProfileJob(data, SPEC, partial(_version_models, platform))
    if "Records" in event:
        return _notified(S3Notification.model_validate(event), data, job)
    keys = [item.Key for item in MapBatch.model_validate(event).Items]
    outcome = job.run(keys, platform.clock())
    _report(job, outcome)
    return {"profiled": outcome.profiled, "quarantined": len(outcome.quarantined)}
