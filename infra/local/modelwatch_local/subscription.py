"""CloudWatch Logs subscription delivery: log lines in the gzip+base64 `awslogs` envelope."""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Sequence
from typing import Any


def awslogs_event(log_group: str, log_stream: str, lines: Sequence[str], first_id: int) -> dict[str, Any]:
    now = int(time.time() * 1000)
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["modelwatch-capture"],
        "logEvents": [
            {"id": f"{first_id + i:056d}", "timestamp": now, "message": line} for i, line in enumerate(lines)
        ],
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode("ascii")
    return {"awslogs": {"data": data}}
