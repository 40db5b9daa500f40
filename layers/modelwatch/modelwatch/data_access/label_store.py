"""Ground truth and business outcomes in S3 under labels/: JSON-lines objects of feedback pieces,
one per Logs subscription delivery and prediction hour, written by the capture function like
capture objects (the feedback function only logs them; see modelwatch.serving.capture).

Every piece is kept, retries included, and modelwatch.feedback merges them. Each labels object
is followed by a rewrite of its hour's "changed" marker (layout.labels_changed_key), which is how
the drift check learns that an hour's labels changed without listing them.
"""

from __future__ import annotations

import json
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket


def parse_labels(body: bytes) -> list[dict[str, Any]]:
    """The feedback pieces of one labels object; a line that is not a JSON object is skipped (the
    capture function stores only well-formed pieces)."""
    pieces = []
    for line in body.decode("utf-8").splitlines():
        if line.strip():
            piece = json.loads(line)
            if isinstance(piece, dict):
                pieces.append(piece)
    return pieces


def read_labels(data: DataBucket, keys: list[str]) -> list[dict[str, Any]]:
    return [piece for key in keys for piece in parse_labels(data.read(key))]


def mark_changed(data: DataBucket, hour: str, labels_key: str) -> None:
    """After a labels object of `hour` is written: its body (the object's key) changes the
    marker's ETag, so a rollup made before it no longer matches."""
    data.write(layout.labels_changed_key(hour), labels_key.encode(), "text/plain")
