"""A bucket of ModelWatch data as the jobs read and write it: listings by hour partition (one
paginated LIST for a range of hours, since keys sort by hour), reads, and writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from modelwatch.catalog import layout


class DataBucket:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3, self.bucket = s3, bucket

    def list(self, prefix: str, start_after: str = "") -> Iterator[dict[str, Any]]:
        paginator = self.s3.get_paginator("list_objects_v2")
        arguments = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            arguments["StartAfter"] = start_after
        for page in paginator.paginate(**arguments):
            yield from page.get("Contents", [])

    def folders(self, prefix: str) -> list[str]:
        """The "subfolders" right under prefix (common prefixes, each ending in "/")."""
        paginator = self.s3.get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            found += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        return found

    def list_hours(self, base: str, hours: list[str]) -> dict[str, list[tuple[str, str]]]:
        """(key, ETag) per hour under base + "dt=<hour>/", from one listing of the whole range:
        keys sort by hour, so a window costs one paginated LIST, not one per hour."""
        found: dict[str, list[tuple[str, str]]] = {hour: [] for hour in hours}
        # Just past every key of the last hour ("/" < "0").
        stop = f"{base}{layout.hour_segment(hours[-1])}0"
        for item in self.list(base, start_after=base + layout.hour_segment(hours[0])):
            key = item["Key"]
            if key >= stop:
                break
            hour = layout.hour_in_key(key, base)
            if hour in found:
                found[hour].append((key, item["ETag"]))
        return found

    def existing(self, base: str, hours: list[str], suffix: str = ".json") -> set[str]:
        """Which of base + "dt=<hour><suffix>" exist, from one listing of the range (not one per hour)."""
        last = f"{base}{layout.hour_segment(hours[-1])}{suffix}"
        found = set()
        for item in self.list(base, start_after=base + layout.hour_segment(hours[0])):
            if item["Key"] > last:
                break
            if item["Key"].endswith(suffix):
                found.add(item["Key"])
        return found

    def etags(self, base: str, hours: list[str]) -> dict[str, str]:
        """hour -> ETag of base + "dt=<hour>" (one object per hour, no suffix), from one listing."""
        last = f"{base}{layout.hour_segment(hours[-1])}"
        found = {}
        for item in self.list(base, start_after=base + layout.hour_segment(hours[0])[:-1]):
            if item["Key"] > last:
                break
            hour = layout.hour_in_key(item["Key"], base)
            found[hour] = item["ETag"]
        return {hour: found[hour] for hour in hours if hour in found}

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def read_optional(self, key: str) -> bytes | None:
        """The object, or None when it does not exist. Existence is asked with a listing: S3
        answers a GET of a missing key with 404 only to callers allowed s3:ListBucket for the
        request, and a function's ListBucket is scoped by s3:prefix, which a GET does not
        carry (it would see 403)."""
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1).get("Contents", [])
        if not listing or listing[0]["Key"] != key:
            return None
        return self.read(key)

    def copy(self, source_key: str, key: str) -> None:
        self.s3.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source_key})

    def write(self, key: str, body: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)
