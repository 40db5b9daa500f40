"""Approval: the retraining state machine's callback task ([retraining] approval = "manual").
Stores the run's task token where `modelwatch approve` / `modelwatch reject` find it, then
publishes the approval notice, with those two commands, on the alerts topic. The token is
stored first, so whoever reads the notice can act on it at once. Step Functions then waits
for the token to come back (or its timeout)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.shared.emit import add_metric
from functions.shared.setup import instruments
from modelwatch.alerts import retraining_message
from modelwatch.catalog import metrics as catalog
from modelwatch.data_access.approval_store import ApprovalRequest, ApprovalStore
from modelwatch.data_access.platform import current_platform

SPEC, logger, metrics = instruments()


class ApprovalTask(BaseModel):
    """The payload modelwatch.jobs.retraining_approval gives the task."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")  # a Step Functions execution name
    execution_arn: str = Field(min_length=1)
    task_token: str = Field(min_length=1, max_length=2048)
    timeout_seconds: int = Field(ge=1)
    stack_name: str = Field(min_length=1)
    topic_arn: str = Field(pattern=r"^arn:[^:]+:sns:")
    notice: dict[str, Any]


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = ApprovalTask.model_validate(event)
    platform = current_platform()
    now = platform.clock()
    notice = task.notice[retraining_message.MARKER]
    decision = notice.get("decision") or {}
    request = ApprovalRequest(
        run_id=task.run_id,
        execution_arn=task.execution_arn,
        task_token=task.task_token,
        requested_at=now.isoformat(),
        expires_at=(now + timedelta(seconds=task.timeout_seconds)).isoformat(),
        challenger_version=decision.get("challenger_version"),
    )
    key = ApprovalStore(platform.client("s3"), platform.settings.data_bucket).put(request)
    message = {retraining_message.MARKER: notice | retraining_message.approval_commands(task.run_id, task.stack_name)}
    platform.client("sns").publish(
        TopicArn=task.topic_arn,
        Subject=retraining_message.approval_subject(task.run_id),
        Message=json.dumps(message),
    )
    add_metric(metrics, catalog.RETRAINING_AWAITING_APPROVAL, 1)
    logger.info("approval requested", extra={"retraining_run": task.run_id, "stored": key})
    return {"stored": key, "expires_at": request.expires_at}
