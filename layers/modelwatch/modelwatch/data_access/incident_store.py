"""Where the notifier keeps each incident (incidents/<key>.json) and finds the drift check an
alarm came from (reports/<version>/<window>/<end>/drift.json).

Incidents are rewritten with S3 conditional writes (If-Match the ETag read, If-None-Match: * for
a new one): alarms that change together reach the notifier as concurrent invocations, and only one
of them may open the incident (and post its notice); the others read again and join it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from modelwatch.alerts.incident import Incident
from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket

CONFLICTS = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
ATTEMPTS = 8
REPORT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class IncidentConflictError(RuntimeError):
    """The incident kept changing under us: Lambda's retry takes it from there."""


class IncidentStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3, self.bucket = s3, bucket
        self.data = DataBucket(s3, bucket)

    def get(self, key: str) -> tuple[Incident, str | None]:
        """The incident and its ETag; a new one (ETag None) when none is stored."""
        object_key = layout.incident_key(key)
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=object_key, MaxKeys=1).get("Contents", [])
        if not listing or listing[0]["Key"] != object_key:
            return Incident(key), None
        response = self.s3.get_object(Bucket=self.bucket, Key=object_key)
        return Incident.from_dict(json.loads(response["Body"].read())), response["ETag"]

    def put(self, incident: Incident, etag: str | None) -> bool:
        """Write it if nobody wrote since `etag` was read (None: if nobody created it); False if
        somebody did."""
        condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=layout.incident_key(incident.key),
                Body=json.dumps(incident.to_dict(), indent=1, default=str).encode(),
                ContentType="application/json",
                **condition,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code", "") in CONFLICTS:
                return False
            raise
        return True

    def update(self, key: str, change: Callable[[Incident], Incident]) -> Incident:
        """Apply `change` to the stored incident and store the result, again on a conflict."""
        for _ in range(ATTEMPTS):
            incident, etag = self.get(key)
            changed = change(incident)
            if changed == incident:
                return incident
            if self.put(changed, etag):
                return changed
        raise IncidentConflictError(f"incident {key} changed {ATTEMPTS} times while being updated")

    # --- the drift check's report --------------------------------------------------------------------
    def latest_report(self, window: str, at: datetime, period: timedelta) -> str | None:
        """The drift.json key of the newest check of `window` that ended at or before `at` (and at
        most two periods before it), whichever model version was served."""
        latest: tuple[str, str] | None = None
        newest, oldest = at.strftime(REPORT_TIME_FORMAT), (at - 2 * period).strftime(REPORT_TIME_FORMAT)
        for version_prefix in self.data.folders(layout.REPORTS.prefix):
            base = f"{version_prefix}{window}/"
            for item in self.data.list(base, start_after=base + oldest):
                key = item["Key"]
                end = key.removeprefix(base).split("/", 1)[0]
                if end > newest:
                    break
                if key.endswith("/drift.json") and (latest is None or end > latest[0]):
                    latest = (end, key)
        return None if latest is None else latest[1]

    def report(self, key: str) -> dict[str, Any] | None:
        body = self.data.read_optional(key)
        return None if body is None else json.loads(body)


def console_url(bucket: str, key: str, region: str) -> str:
    """The S3 console's page of one object (opens for anyone signed in who may read it; never expires)."""
    return (
        f"https://{region}.console.aws.amazon.com/s3/object/{bucket}?region={region}&bucketType=general"
        f"&prefix={quote(key, safe='')}"
    )
