"""One retraining run at a time: a lock object in the data bucket, taken and released with S3's
conditional writes (If-None-Match to create it, If-Match on the ETag read to take it over or
release it), so two runs that start together cannot both hold it. The lock expires on its own
after the longest a run may last (the state machine's own timeout): a run that ended without
releasing it (stopped by hand, say) does not block retraining for ever."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from modelwatch.catalog import layout

# S3's answers to a conditional write that lost: the object changed (If-Match) or exists
# (If-None-Match); 409 when another conditional write to the key is in flight.
LOST_RACE = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


@dataclass(frozen=True)
class LockHolder:
    run_id: str
    acquired_at: str  # ISO 8601, UTC
    expires_at: str
    released: bool = False

    def free_at(self, now: datetime) -> bool:
        return self.released or datetime.fromisoformat(self.expires_at) <= now


class RetrainingLock:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3, self.bucket, self.key = s3, bucket, layout.RETRAINING_LOCK_KEY

    def _read(self) -> tuple[LockHolder, str] | None:
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        document = json.loads(answer["Body"].read())
        return LockHolder(**document), answer["ETag"]

    def _write(self, holder: LockHolder, condition: dict[str, str]) -> bool:
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=json.dumps(asdict(holder)).encode(),
                ContentType="application/json",
                **condition,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in LOST_RACE:
                return False
            raise
        return True

    def acquire(self, run_id: str, now: datetime, lasts: timedelta) -> LockHolder | None:
        """Take the lock for `run_id`; None when it is taken, else the run that holds it (which
        may be `run_id` itself: a retried step keeps its own lock)."""
        mine = LockHolder(run_id, now.isoformat(), (now + lasts).isoformat())
        found = self._read()
        if found is None:
            return None if self._write(mine, {"IfNoneMatch": "*"}) else self._winner(mine)
        holder, etag = found
        if holder.run_id == run_id and not holder.released:
            return None
        if not holder.free_at(now):
            return holder
        return None if self._write(mine, {"IfMatch": etag}) else self._winner(mine)

    def _winner(self, mine: LockHolder) -> LockHolder:
        """Who won the race just lost. Never "nobody": even if they already let go, this run
        lost and ends; the next trigger takes the lock."""
        found = self._read()
        return found[0] if found is not None else LockHolder("another run", mine.acquired_at, mine.expires_at)

    def release(self, run_id: str) -> bool:
        """Let go of the lock if `run_id` holds it; False when it does not (a run that found
        the lock taken ends without touching it)."""
        found = self._read()
        if found is None:
            return False
        holder, etag = found
        if holder.run_id != run_id or holder.released:
            return False
        return self._write(LockHolder(holder.run_id, holder.acquired_at, holder.expires_at, True), {"IfMatch": etag})
