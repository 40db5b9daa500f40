"""Human approval in the retraining state machine ([retraining] approval = "manual"): after
Evaluate chose the challenger, a callback task waits for a person. The approval function
(modelwatch.catalog.functions.APPROVAL) stores the task token where `modelwatch approve` and
`modelwatch reject` find it, and publishes the approval notice; Step Functions then waits until
the command sends the token back, or the spec's timeout passes.

Approve (SendTaskSuccess) goes on to Promote. Reject (SendTaskFailure with REJECTED_ERROR) and
the timeout (States.Timeout) end the run as "rejected", a succeeded execution with a notice, not
a failure: nobody approving is a decision, not an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelwatch.alerts.retraining_message import REJECTED_ERROR  # what `modelwatch reject` sends
from modelwatch.spec.models import MonitoringSpec

CALLBACK_TASK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
TIMEOUT_ERROR = "States.Timeout"
AWAITING = "awaiting_approval"  # the approval notice's outcome
AWAIT_STATE = "AwaitApproval"

Notice = Callable[[str, dict[str, Any], str], dict[str, Any]]


@dataclass(frozen=True)
class ApprovalStep:
    function_arn: str
    timeout_seconds: int
    stack_name: str  # what the notice's commands pass as --stack


def approval_step(spec: MonitoringSpec, function_arn: str, stack_name: str) -> ApprovalStep | None:
    """The approval step the spec asks for, or None when the challenger is promoted at once."""
    if spec.retraining.approval != "manual":
        return None
    return ApprovalStep(function_arn, spec.retraining.approval_timeout_hours * 3600, stack_name)


def approval_states(
    step: ApprovalStep,
    topic_arn: str,
    notice: Notice,
    retry: list[dict[str, Any]],
    *,
    approved: str,
    rejected: str,
    failed: str,
) -> tuple[str, dict[str, Any]]:
    """(the first state, the states) of the wait between Evaluate's decision and Promote. A
    retried invocation stores the same run's token again and repeats the notice: harmless."""
    run = {"run_id.$": "$$.Execution.Name"}
    states = {
        "NoticeAwaitingApproval": notice(
            AWAITING,
            {"decision.$": "$.evaluated.value", "timeout_hours": step.timeout_seconds // 3600},
            AWAIT_STATE,
        ),
        AWAIT_STATE: {
            "Type": "Task",
            "Resource": CALLBACK_TASK,
            "Parameters": {
                "FunctionName": step.function_arn,
                "Payload": run
                | {
                    "execution_arn.$": "$$.Execution.Id",
                    "task_token.$": "$$.Task.Token",
                    "timeout_seconds": step.timeout_seconds,
                    "stack_name": step.stack_name,
                    "topic_arn": topic_arn,
                    "notice.$": "$.notice",
                },
            },
            # No decision in time is a rejection (the Catch below), not a run waiting for ever.
            "TimeoutSeconds": step.timeout_seconds,
            "ResultPath": "$.approval",
            "Retry": retry,
            "Catch": [
                {
                    "ErrorEquals": [TIMEOUT_ERROR, REJECTED_ERROR],
                    "ResultPath": "$.approval",
                    "Next": "NoticeNotApproved",
                },
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": failed},
            ],
            "Next": approved,
        },
        "NoticeNotApproved": notice(
            "rejected", {"decision.$": "$.evaluated.value", "approval.$": "$.approval"}, rejected
        ),
    }
    return "NoticeAwaitingApproval", states
