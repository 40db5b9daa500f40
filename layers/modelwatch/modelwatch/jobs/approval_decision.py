"""Deciding a retraining run that waits for approval: its stored task token back to Step
Functions, SendTaskSuccess to approve (the run goes on to Promote) or SendTaskFailure with
REJECTED_ERROR to reject (the run ends as rejected). Used by `modelwatch approve` / `reject`
against a deployed stack and by the local stack alike; the Step Functions client is passed in."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from modelwatch.alerts.retraining_message import REJECTED_ERROR
from modelwatch.data_access.approval_store import ApprovalStore
from modelwatch.errors import UserInputError

# Step Functions' answers for a token nobody waits on any more: the task timed out (a
# rejection), was already approved or rejected, or its execution ended.
CLOSED = ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken")
MAX_CAUSE = 32_768  # SendTaskFailure's limit on the cause


def approved_output(by: str, now: datetime) -> str:
    """The task's output on approval: the state machine keeps it as $.approval."""
    return json.dumps({"decision": "approved", "by": by, "at": now.isoformat()})


def rejection(by: str, reason: str) -> tuple[str, str]:
    """(error, cause) of a rejection."""
    cause = f"rejected by {by}" + (f": {reason}" if reason else "")
    return REJECTED_ERROR, cause[:MAX_CAUSE]


def decide(states: Any, store: ApprovalStore, run_id: str, approve: bool, by: str, reason: str, now: datetime) -> str:
    """Approve or reject `run_id`; one line saying what happened. A run that is not waiting (no
    stored request, its execution over, or its token already used or timed out) is a
    UserInputError naming why."""
    from botocore.exceptions import ClientError

    request = store.get(run_id)
    if request is None:
        raise UserInputError(
            f"retraining run {run_id} is not waiting for approval (no approval request for it; "
            'runs wait only with [retraining] approval = "manual", once Evaluate chose the challenger)'
        )
    try:
        status = states.describe_execution(executionArn=request.execution_arn)["status"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
            raise
        status = "gone"
    if status != "RUNNING":
        raise UserInputError(f"retraining run {run_id} is not waiting for approval: its execution is {status}")
    try:
        if approve:
            states.send_task_success(taskToken=request.task_token, output=approved_output(by, now))
        else:
            error, cause = rejection(by, reason)
            states.send_task_failure(taskToken=request.task_token, error=error, cause=cause)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in CLOSED:
            raise UserInputError(
                f"retraining run {run_id} was already decided or timed out (expired {request.expires_at}): {code}"
            ) from None
        raise
    if approve:
        return f"approved {request.challenger_version} (run {run_id}): the run goes on to promote it"
    return f"rejected {request.challenger_version} (run {run_id}): the current version stays"
