"""The retraining state machine: prepare the labelled data, train a challenger, evaluate it
against the champion, promote it or not, and say what happened on the alerts topic. One
definition: the CDK stack deploys it, the local runtime runs it.

Execution input: {"trigger": "<what started it>"}; the execution name is the run's id. With an
approval step ([retraining] approval = "manual", modelwatch.jobs.retraining_approval), a chosen
challenger waits for a person between Better and Promote."""

from __future__ import annotations

from typing import Any

from modelwatch.jobs.asl import lambda_retry
from modelwatch.jobs.retraining_approval import ApprovalStep, approval_states

# The retrain function's steps are idempotent per run: a transient Lambda error is retried.
RETRY = lambda_retry(interval_seconds=5, max_attempts=3)
FAILED = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NoticeFailed"}]


def _step(function_arn: str, payload: dict[str, str], result: str, next_state: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload": payload},
        "ResultSelector": {"value.$": "$.Payload"},
        "ResultPath": f"$.{result}",
        "Retry": RETRY,
        "Catch": FAILED,
        "Next": next_state,
    }


def _notice(outcome: str, fields: dict[str, Any], next_state: str) -> dict[str, Any]:
    return {
        "Type": "Pass",
        "Parameters": {
            "modelwatch_retraining": {"outcome": outcome, "run_id.$": "$$.Execution.Name", "trigger.$": "$.trigger"}
            | fields
        },
        "ResultPath": "$.notice",
        "Next": next_state,
    }


def _publish(topic_arn: str, then: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {
            "TopicArn": topic_arn,
            "Subject": "ModelWatch retraining",
            "Message.$": "States.JsonToString($.notice)",
        },
        "ResultPath": None,
        "Next": then,
    }


def retraining_definition(function_arn: str, topic_arn: str, approval: ApprovalStep | None = None) -> dict[str, Any]:
    run = {"run_id.$": "$$.Execution.Name"}
    definition: dict[str, Any] = {
        "Comment": "Retrain on labelled captures; promote the challenger only if it beats the champion",
        "StartAt": "Prepare",
        "States": {
            # The trigger is read first: an input without one fails here (States.Runtime), before any work.
            "Prepare": _step(
                function_arn, {"step": "prepare", "trigger.$": "$.trigger"} | run, "prepared", "EnoughData"
            ),
            "EnoughData": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.prepared.value.status", "StringEquals": "ready", "Next": "Train"}],
                "Default": "NoticeNotEnoughData",
            },
            "Train": _step(function_arn, {"step": "train"} | run, "trained", "Evaluate"),
            "Evaluate": _step(
                function_arn,
                {"step": "evaluate", "version.$": "$.trained.value.version"} | run,
                "evaluated",
                "Better",
            ),
            "Better": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.evaluated.value.promote", "BooleanEquals": True, "Next": "Promote"},
                    # The holdout could not tell the models apart: an outcome, not a failure.
                    {
                        "Variable": "$.evaluated.value.outcome",
                        "StringEquals": "not_enough_data",
                        "Next": "NoticeUndecided",
                    },
                ],
                "Default": "NoticeRejected",
            },
            "Promote": _step(
                function_arn,
                {"step": "promote", "version.$": "$.trained.value.version"} | run,
                "promoted",
                "NoticePromoted",
            ),
            "NoticeNotEnoughData": _notice("not_enough_data", {"prepared.$": "$.prepared.value"}, "Notify"),
            "NoticeUndecided": _notice("not_enough_data", {"decision.$": "$.evaluated.value"}, "Notify"),
            "NoticeRejected": _notice("rejected", {"decision.$": "$.evaluated.value"}, "Notify"),
            "NoticePromoted": _notice("promoted", {"decision.$": "$.evaluated.value"}, "Notify"),
            "Notify": _publish(topic_arn, "Done"),
            "Done": {"Type": "Succeed"},
            "NoticeFailed": _notice("failed", {"error.$": "$.error"}, "NotifyFailure"),
            "NotifyFailure": _publish(topic_arn, "Failed"),
            "Failed": {
                "Type": "Fail",
                "Error": "RetrainingFailed",
                "Cause": "a retraining step failed; see the notice",
            },
        },
    }
    if approval is not None:
        states = definition["States"]
        first, waiting = approval_states(
            approval, topic_arn, _notice, RETRY, approved="Promote", rejected="Notify", failed="NoticeFailed"
        )
        states["Better"]["Choices"][0]["Next"] = first
        states["NoticePromoted"]["Parameters"]["modelwatch_retraining"]["approval.$"] = "$.approval"
        states |= waiting
    return definition
