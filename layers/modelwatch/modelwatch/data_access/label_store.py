"""Ground truth and business outcomes in S3 under labels/: JSON-lines objects of feedback pieces,
one per Logs subscription delivery and prediction hour, written by the capture function like
capture objects (the feedback function only logs them; see modelwatch.serving.capture).

Every piece is kept, retries included, and modelwatch.feedback merges them. Each labels object
is followed by a rewrite of its hour's "changed" marker (layout.labels_changed_key) with a body
unique to that write, which is how the drift check learns that an hour's labels changed without
listing them.
"""

from __future__ import annotations

import json
import uuid
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
    """After a labels object of `hour` is written: a body unique to this write (the object's key
    and a fresh nonce) gives the marker an ETag it never had, so a rollup made before it no
    longer matches. The key alone would not do: a retried delivery rewrites an earlier labels
    object, its key puts back an ETag a rollup was already made from, and the drift run would
    reuse that rollup without the labels written in between."""
    body = f"{labels_key}\n{uuid.uuid4().hex}\n"
    data.write(layout.labels_changed_key(hour), body.encode(), "text/plain")
