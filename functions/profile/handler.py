"""Profile: for each new capture object (an S3 event, or a batch of a backfill's Distributed Map),
write its partial profile and its join index. Idempotent per object: the keys come from the
capture key. A poison object is copied to quarantine/poison/ and counted, not retried forever."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import S3Event
from pydantic import BaseModel

from functions.shared.emit import add_metric
from modelwatch.catalog import metrics as catalog
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.platform import current_platform
from modelwatch.jobs.profile_job import ProfileJob

SPEC = current_platform().spec
logger = Logger(service=SPEC.metrics.service)
metrics = Metrics(namespace=SPEC.metrics.namespace, service=SPEC.metrics.service)


class MapItem(BaseModel):
    """One object of a Distributed Map's batch (an S3 listing entry)."""

    Key: str


class MapBatch(BaseModel):
    Items: list[MapItem]


def capture_keys(event: dict[str, Any]) -> list[str]:
    """S3 ObjectCreated notifications, or a backfill's Distributed Map item batch."""
    if "Records" in event:
        # S3 URL-encodes the key in notifications (our partitions hold "=").
        return [unquote_plus(record.s3.get_object.key) for record in S3Event(event).records]
    return [item.Key for item in MapBatch.model_validate(event).Items]


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    platform = current_platform()
    job = ProfileJob(DataBucket(platform.client("s3"), platform.settings.data_bucket), SPEC)
    outcome = job.run(capture_keys(event))
    for key, reason in outcome.quarantined.items():
        logger.error("capture object quarantined", extra={"key": key, "reason": reason})
    add_metric(metrics, catalog.PROFILED_OBJECTS, outcome.profiled)
    add_metric(metrics, catalog.PROFILE_FAILED, len(outcome.quarantined))
    return {"profiled": outcome.profiled, "quarantined": len(outcome.quarantined)}
