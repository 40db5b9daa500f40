"""Ground truth and business outcomes in S3 under labels/, one object per request id.

The key is derived from the request id alone (its hour, then the id), so a repeated label for the
same request overwrites instead of duplicating: idempotent per request id. Ids ModelWatch did not
issue are filed under the hour the label arrived.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from modelwatch.catalog import layout
from modelwatch.serving.request_ids import request_time


def label_key(request_id: str, received: datetime) -> tuple[str, bool]:
    """(S3 key, whether ModelWatch issued the id)."""
    issued = request_time(request_id)
    return layout.label_key(layout.hour_of(issued or received), request_id), issued is not None


class LabelStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3, self.bucket = s3, bucket

    def put(self, request_id: str, label: str | float | None, outcomes: dict[str, Any], received: datetime) -> bool:
        """Store one item; returns whether the request id is one ModelWatch issued."""
        key, known = label_key(request_id, received)
        document = {
            "request_id": request_id,
            "label": label,
            "outcomes": outcomes,
            "received_at": received.isoformat(timespec="milliseconds"),
        }
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=json.dumps(document).encode(), ContentType="application/json"
        )
        return known
