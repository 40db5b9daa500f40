"""Ground truth and business outcomes in S3 under labels/, one object per piece of feedback.

The key is the prediction's hour (from the request id), the request id and a digest of what the
piece says: a retried piece rewrites the same object (idempotent), while a label and outcomes
sent separately, in any order, or a corrected label, are each kept; modelwatch.feedback merges
them. Ids ModelWatch did not issue are filed under the hour the label arrived.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from modelwatch.catalog import layout
from modelwatch.serving.request_ids import request_time


def label_key(request_id: str, received: datetime, content: bytes) -> tuple[str, bool]:
    """(S3 key, whether ModelWatch issued the id)."""
    issued = request_time(request_id)
    piece = f"{request_id}.{hashlib.sha256(content).hexdigest()[:16]}"
    return layout.label_key(layout.hour_of(issued or received), piece), issued is not None


class LabelStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3, self.bucket = s3, bucket

    def put(self, request_id: str, label: str | float | None, outcomes: dict[str, Any], received: datetime) -> bool:
        """Store one item; returns whether the request id is one ModelWatch issued."""
        says = json.dumps({"label": label, "outcomes": outcomes}, sort_keys=True).encode()
        key, known = label_key(request_id, received, says)
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
