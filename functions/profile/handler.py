"""Profile: for each new capture object (an S3 event, or a batch of a backfill's Distributed Map),
write its partial profile and its join index. Idempotent per object: the keys come from the
capture key. A poison object is copied to quarantine/poison/ and counted, not retried forever."""

from __future__ import annotations

from functools import cache, partial
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import S3Event
from pydantic import BaseModel

from functions.shared.emit import add_metric
from modelwatch.catalog import metrics as catalog
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.model_store import registry_of
from modelwatch.data_access.platform import Platform, current_platform
from modelwatch.jobs.profile_job import ProfileJob, baseline_reconstruction
from modelwatch.serving.current_model import ModelUnavailableError
from modelwatch.stats.pca import PcaModel

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


@cache
def _reconstruction(platform: Platform, version: str) -> PcaModel | None:
    """A version's baseline PCA, read once per execution environment (baselines never change)."""
    registry = registry_of(platform)
    try:
        return baseline_reconstruction(registry.baseline(registry.manifest(version)), SPEC)
    except ModelUnavailableError as error:  # captures of a version without a readable manifest
        logger.warning("no baseline to profile reconstruction errors", extra={"reason": str(error)})
        return None


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    platform = current_platform()
    data = DataBucket(platform.client("s3"), platform.settings.data_bucket)
    job = ProfileJob(data, SPEC, partial(_reconstruction, platform))
    outcome = job.run(capture_keys(event), platform.clock())
    for key in job.late:
        logger.warning("late capture object: its hour is listed again by the drift check", extra={"key": key})
    for key, reason in outcome.quarantined.items():
        logger.error("capture object quarantined", extra={"key": key, "reason": reason})
    add_metric(metrics, catalog.PROFILED_OBJECTS, outcome.profiled)
    add_metric(metrics, catalog.PROFILE_FAILED, len(outcome.quarantined))
    return {"profiled": outcome.profiled, "quarantined": len(outcome.quarantined)}
