"""Capture: a CloudWatch Logs subscription on the API functions' log groups delivers batches of
log events; their capture lines become JSON-lines objects in S3, partitioned by model version and
hour (quarantined requests by hour, feedback by its prediction's hour). Each capture object is
profiled in the same invocation (its partial profile and join index, from the records in hand),
so one object costs one invocation and its writes. A backfill's Distributed Map hands this
function batches of stored capture objects to profile.

Idempotent: an object's key comes from the log stream and the batch's first event id, so a
retried batch rewrites the same objects. A failure is retried (botocore, then Lambda's own
retries and on-failure destination), logged in full and counted as CaptureFailed: never dropped
silently. A capture object that cannot be profiled is copied to quarantine/poison/ and counted.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent
from pydantic import BaseModel

from functions.shared.emit import add_metric
from functions.shared.setup import instruments
from modelwatch.catalog import layout
from modelwatch.catalog import metrics as catalog
from modelwatch.data_access.capture_store import CaptureStore, CaptureWriteError, batch_id
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.model_store import registry_of
from modelwatch.data_access.platform import Platform, current_platform
from modelwatch.jobs.profile_job import ProfileJob, ProfileOutcome, VersionModels
from modelwatch.jobs.version_models import VersionModelsCache, read_version_models
from modelwatch.serving.capture import storage_groups

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


def _store_delivery(event: CloudWatchLogsEvent, data: DataBucket, job: ProfileJob) -> dict[str, int]:
    batch = event.parse_logs_data()
    if batch.message_type != "DATA_MESSAGE" or not batch.log_events:
        return {"objects": 0, "records": 0, "profiled": 0}  # CloudWatch Logs' connectivity check
    groups, unreadable = storage_groups((e.get_id, e.message) for e in batch.log_events)
    if unreadable:
        logger.error("unreadable capture lines", extra={"lines": unreadable})
        add_metric(metrics, catalog.CAPTURE_FAILED, len(unreadable))
    batch_key = batch_id(batch.log_stream, batch.log_events[0].get_id)
    try:
        written = CaptureStore(data).store(groups, batch_key)
    except CaptureWriteError as error:
        # botocore has retried already; keep every record in the log and let Lambda retry the batch.
        logger.exception("capture not stored", extra={"key": error.key, "records": error.records})
        add_metric(metrics, catalog.CAPTURE_FAILED, len(error.records))
        raise
    stored = sum(len(records) for records in written.values())
    add_metric(metrics, catalog.CAPTURED_RECORDS, stored)
    captures = {key: records for key, records in written.items() if layout.is_capture_object(key)}
    outcome = job.profile_written(captures, current_platform().clock())
    _report(job, outcome)
    return {"objects": len(groups), "records": stored, "profiled": outcome.profiled}


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
    if "awslogs" in event:
        return _store_delivery(CloudWatchLogsEvent(event), data, job)
    keys = [item.Key for item in MapBatch.model_validate(event).Items]
    outcome = job.run(keys, platform.clock())
    _report(job, outcome)
    return {"profiled": outcome.profiled, "quarantined": len(outcome.quarantined)}
