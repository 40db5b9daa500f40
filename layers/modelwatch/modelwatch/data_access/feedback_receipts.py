"""How many feedback pieces the capture function filed, by the hour they were received.

Labels are filed under their prediction's hour (so they join its captures), but the feedback
function counts what it logged by the hour it received them (FeedbackRecordsSent). So that the
drift run can reconcile one with the other without listing every prediction hour, each delivered
object's feedback pieces are also tallied by received hour, in one small object per (delivery,
hour received) under feedback-filed/, keyed from the delivery like the labels objects: a repeated
notification rewrites the same tally instead of adding to it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket


def received_hour(piece: Mapping[str, Any]) -> str | None:
    """The hour a piece was received in (its `received_at`, which the feedback function stamps
    with an offset); None when it has none, which only a line the feedback function did not write
    lacks (such a piece is then not tallied, and its hour's account shows it as missing)."""
    try:
        moment = datetime.fromisoformat(str(piece.get("received_at")))
    except ValueError:
        return None
    return layout.hour_of(moment) if moment.tzinfo is not None else None


def tallies(pieces: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """hour received -> pieces, of one delivery's filed feedback."""
    counted = Counter(received_hour(piece) for piece in pieces)
    return {hour: count for hour, count in counted.items() if hour is not None}


def write_tally(data: DataBucket, hour: str, batch_id: str, pieces: int) -> str:
    """One delivery's pieces received in `hour`, once they are filed (a tally claims only what is
    filed); returns its key."""
    key = layout.feedback_filed_key(hour, batch_id)
    data.write(key, json.dumps({"pieces": pieces}).encode(), "application/json")
    return key


def filed_in_hour(data: DataBucket, hour: str) -> int:
    """Feedback pieces received in `hour` that the capture function filed, over every delivery."""
    return sum(
        int(json.loads(data.read(item["Key"]))["pieces"]) for item in data.list(layout.feedback_filed_prefix(hour))
    )
