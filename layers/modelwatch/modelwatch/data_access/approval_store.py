"""A retraining run's approval request: the task token Step Functions waits on, stored by the
approval function and read back by `modelwatch approve` / `modelwatch reject` (the only two that
send it back). One object per run under the approvals area, keyed by the execution name."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket


@dataclass(frozen=True)
class ApprovalRequest:
    run_id: str  # the execution name
    execution_arn: str
    task_token: str
    requested_at: str  # ISO 8601, UTC
    expires_at: str  # when Step Functions times the wait out (a rejection)
    challenger_version: str | None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2).encode()

    @classmethod
    def from_json(cls, body: bytes) -> ApprovalRequest:
        document = json.loads(body)
        return cls(**{name: document.get(name) for name in cls.__dataclass_fields__})


class ApprovalStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.bucket = DataBucket(s3, bucket)

    def put(self, request: ApprovalRequest) -> str:
        key = layout.approval_key(request.run_id)
        self.bucket.write(key, request.to_json(), "application/json")
        return key

    def get(self, run_id: str) -> ApprovalRequest | None:
        body = self.bucket.read_optional(layout.approval_key(run_id))
        return None if body is None else ApprovalRequest.from_json(body)
