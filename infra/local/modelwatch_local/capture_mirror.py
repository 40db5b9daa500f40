"""`modelwatch serve --capture-dir`: the capture objects the capture function files in the
in-memory S3, copied to a folder under the same keys, so what the server saw outlives it
(`modelwatch drift --current <folder>` reads them).

The folder follows the bucket, not the requests: an object is copied when the capture function
has filed it (after each delivery the stream's timer or a full buffer releases) and the folder
is brought up to date once more at shutdown, after the stream's last flush. A rewritten object
(the capture function's retry files the same key again) is copied again when its ETag changes.
Each file is written beside its final name and renamed, so a reader never meets half a file."""

from __future__ import annotations

import threading
from pathlib import Path

from modelwatch.catalog import layout
from modelwatch_local.stack import LocalStack


class CaptureMirror:
    def __init__(self, stack: LocalStack, folder: Path) -> None:
        self._stack, self.folder = stack, folder
        self._copied: dict[str, str] = {}  # key -> ETag of the copy on disk
        # Deliveries are notified from request threads and the timer thread at once.
        self._lock = threading.Lock()

    @property
    def files(self) -> int:
        with self._lock:
            return len(self._copied)

    def delivered(self, key: str) -> None:
        """A delivery object was handled by the capture function: copy what it filed."""
        self.sync()

    def sync(self) -> int:
        """Copy every capture object new or changed since the last sync; returns how many."""
        bucket = self._stack.platform.settings.data_bucket
        s3 = self._stack.s3
        with self._lock:
            listed = {
                item["Key"]: item["ETag"]
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=layout.CAPTURE.prefix)
                for item in page.get("Contents", [])
            }
            changed = [key for key, etag in listed.items() if self._copied.get(key) != etag]
            for key in changed:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                self._write(key, body)
                self._copied[key] = listed[key]
            return len(changed)

    def _write(self, key: str, body: bytes) -> None:
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):  # a key S3 allows that would leave the folder
            raise ValueError(f"capture key {key!r} does not map to a file under {self.folder}")
        target = self.folder.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(body)
        partial.replace(target)
