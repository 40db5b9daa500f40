"""Profile: for each new capture object (an S3 event, or a batch of a backfill's Distributed Map),
write its partial profile and its join index. Idempotent per object: the keys come from the
capture key. A poison object is copied to quarantine/poison/ and counted, not retried forever."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from modelwatch.aws.platform import current_platform
from modelwatch.windows.capture_profile import PoisonCaptureError, parse_capture, profile_captures
from modelwatch.windows.layout import derived_key, poison_key

SPEC = current_platform().spec
logger = Logger(service=SPEC.metrics.service)
metrics = Metrics(namespace=SPEC.metrics.namespace, service=SPEC.metrics.service)


def capture_keys(event: dict[str, Any]) -> list[str]:
    """S3 notifications (Records) or a Distributed Map item batch (Items with Key)."""
    if "Records" in event:
        return [unquote_plus(r["s3"]["object"]["key"]) for r in event["Records"] if "s3" in r]
    return [item["Key"] for item in event.get("Items", []) if str(item.get("Key", "")).endswith(".jsonl")]


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    platform = current_platform()
    s3, bucket = platform.client("s3"), platform.settings.data_bucket
    profiled = poisoned = 0
    for key in capture_keys(event):
        if not key.startswith("capture/"):
            continue
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            result = profile_captures(SPEC, parse_capture(body))
        except (PoisonCaptureError, UnicodeDecodeError, ValueError, TypeError) as exc:
            s3.copy_object(Bucket=bucket, Key=poison_key(key), CopySource={"Bucket": bucket, "Key": key})
            logger.error("capture object quarantined", extra={"key": key, "reason": str(exc)})
            poisoned += 1
            continue
        s3.put_object(Bucket=bucket, Key=derived_key(key, "profiles"), Body=result.profile.to_json())
        s3.put_object(Bucket=bucket, Key=derived_key(key, "joins"), Body=json.dumps(result.join_index).encode())
        profiled += 1
    metrics.add_metric("ProfiledObjects", MetricUnit.Count, profiled)
    metrics.add_metric("ProfileFailed", MetricUnit.Count, poisoned)
    return {"profiled": profiled, "quarantined": poisoned}
