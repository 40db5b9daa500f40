"""Capture: a CloudWatch Logs subscription on the API functions' log groups delivers batches of
log events; their capture lines become JSON-lines objects in S3, partitioned by model version and
hour (quarantined requests by hour).

Idempotent: an object's key comes from the log stream and the batch's first event id, so a
retried batch rewrites the same objects. A failure is retried (botocore, then Lambda's own
retries and on-failure destination), logged in full and counted as CaptureFailed: never dropped
silently.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent, event_source

from functions.shared.emit import add_metric
from modelwatch.catalog import metrics as catalog
from modelwatch.data_access.capture_store import CaptureStore, CaptureWriteError, batch_id
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.platform import current_platform
from modelwatch.serving.capture import storage_groups

SPEC = current_platform().spec
logger = Logger(service=SPEC.metrics.service)
metrics = Metrics(namespace=SPEC.metrics.namespace, service=SPEC.metrics.service)


@metrics.log_metrics
@logger.inject_lambda_context
@event_source(data_class=CloudWatchLogsEvent)
def handler(event: CloudWatchLogsEvent, context: Any) -> dict[str, int]:
    batch = event.parse_logs_data()
    if batch.message_type != "DATA_MESSAGE" or not batch.log_events:
        return {"objects": 0, "records": 0}  # CloudWatch Logs' connectivity check
    groups, unreadable = storage_groups((e.get_id, e.message) for e in batch.log_events)
    if unreadable:
        logger.error("unreadable capture lines", extra={"lines": unreadable})
        add_metric(metrics, catalog.CAPTURE_FAILED, len(unreadable))
    platform = current_platform()
    store = CaptureStore(DataBucket(platform.client("s3"), platform.settings.data_bucket))
    try:
        stored = store.store(groups, batch_id(batch.log_stream, batch.log_events[0].get_id))
    except CaptureWriteError as error:
        # botocore has retried already; keep every record in the log and let Lambda retry the batch.
        logger.exception("capture not stored", extra={"key": error.key, "records": error.records})
        add_metric(metrics, catalog.CAPTURE_FAILED, len(error.records))
        raise
    add_metric(metrics, catalog.CAPTURED_RECORDS, stored)
    return {"objects": len(groups), "records": stored}
