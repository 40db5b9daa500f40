"""Capture objects in S3: each group of capture records (kind, model version, hour) of one
delivered object becomes one JSON-lines object (feedback pieces too, under labels/, and a tally of
them by hour received under feedback-filed/ for the accounting). The key comes from the delivered
object's key, so a repeated notification rewrites the same objects instead of duplicating them."""

from __future__ import annotations

from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.feedback_receipts import tallies, write_tally
from modelwatch.data_access.label_store import mark_changed
from modelwatch.serving.capture import LABEL, jsonl, object_key

CaptureGroups = dict[tuple[str, str, str], list[dict[str, Any]]]


class CaptureWriteError(RuntimeError):
    """An object could not be written (after the client's retries); its records are attached."""

    def __init__(self, key: str, records: list[dict[str, Any]], cause: Exception) -> None:
        super().__init__(f"capture object {key} not stored: {cause}")
        self.key, self.records = key, records


class CaptureStore:
    def __init__(self, data: DataBucket) -> None:
        self.data = data

    def store(self, groups: CaptureGroups, batch: str) -> dict[str, list[dict[str, Any]]]:
        """Write every group; returns each object written (key -> its records). Raises
        CaptureWriteError on a failure."""
        written = {}
        for (kind, version, hour), records in groups.items():
            key = object_key(kind, version, hour, batch)
            try:
                self.data.write(key, jsonl(records), "application/x-ndjson")
                if kind == LABEL:
                    mark_changed(self.data, hour, key)
            except Exception as error:
                raise CaptureWriteError(key, records, error) from error
            written[key] = records
        # Feedback pieces tallied by the hour received, for the drift run's feedback accounting.
        labels = [record for (kind, _, _), records in groups.items() if kind == LABEL for record in records]
        for hour, pieces in sorted(tallies(labels).items()):
            try:
                write_tally(self.data, hour, batch, pieces)
            except Exception as error:
                raise CaptureWriteError(layout.feedback_filed_key(hour, batch), labels, error) from error
        return written
