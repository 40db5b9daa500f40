"""What the capture path hands on, as AWS shapes it: a subscription filter's CloudWatch Logs batch
for the delivery stream, and S3's event notification of an object the stream wrote."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from modelwatch.serving.delivery_stream import logs_batch


def subscription_batch(log_group: str, log_stream: str, lines: Sequence[str], first_id: int, at: datetime) -> bytes:
    """One subscription delivery of `lines` (consecutive event ids from `first_id`) to Firehose."""
    millis = int(at.timestamp() * 1000)
    return logs_batch(log_group, log_stream, [(f"{first_id + i:056d}", millis, line) for i, line in enumerate(lines)])


def object_created_event(bucket: str, key: str, size: int, at: datetime, region: str = "us-east-1") -> dict[str, Any]:
    """S3's s3:ObjectCreated:Put notification of one object (the key URL-encoded, as S3 sends it)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "capture-deliveries",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": size},
                },
            }
        ]
    }
