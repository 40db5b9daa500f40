"""Capture: a CloudWatch Logs subscription on the API functions' log groups delivers batches of
log events; their capture lines become JSON-lines objects in S3, partitioned by model version and
hour (quarantined requests by hour).

Idempotent: an object's key comes from the log stream and the batch's first event id, so a
retried batch rewrites the same objects. A failure is retried (botocore, then Lambda's own
retries and on-failure destination), logged in full and counted as CaptureFailed: never dropped
silently.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from modelwatch.aws.platform import current_platform
from modelwatch.serving.capture import jsonl, object_key, storage_groups

SPEC = current_platform().spec
logger = Logger(service=SPEC.metrics.service)
metrics = Metrics(namespace=SPEC.metrics.namespace, service=SPEC.metrics.service)


def _batch_id(log_stream: str, first_event_id: str) -> str:
    stream = hashlib.sha256(log_stream.encode()).hexdigest()[:16]
    return f"{stream}-{first_event_id}"


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload.get("messageType") != "DATA_MESSAGE":
        return {"objects": 0, "records": 0}  # CloudWatch Logs' connectivity check
    log_events = payload.get("logEvents", [])
    groups, unreadable = storage_groups((e["id"], e["message"]) for e in log_events)
    if unreadable:
        logger.error("unreadable capture lines", extra={"lines": unreadable})
        metrics.add_metric("CaptureFailed", MetricUnit.Count, len(unreadable))
    platform = current_platform()
    s3 = platform.client("s3")
    stored = 0
    for (kind, version, hour), records in groups.items():
        key = object_key(kind, version, hour, _batch_id(payload.get("logStream", ""), log_events[0]["id"]))
        try:
            s3.put_object(Bucket=platform.settings.data_bucket, Key=key, Body=jsonl(records))
        except Exception:
            # botocore has retried already; keep every record in the log and let Lambda retry the batch.
            logger.exception("capture not stored", extra={"key": key, "records": records})
            metrics.add_metric("CaptureFailed", MetricUnit.Count, len(records))
            raise
        stored += len(records)
    metrics.add_metric("CapturedRecords", MetricUnit.Count, stored)
    return {"objects": len(groups), "records": stored}
