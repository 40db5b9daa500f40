"""The retraining state machine: prepare the labelled data, train a challenger, evaluate it
against the champion, promote it or not, and say what happened on the alerts topic. One
definition: the CDK stack deploys it, the local runtime runs it.

Two functions, two roles: the retrain function runs only Train (the team's trainer, whose code is
not trusted with promotion); the promote function runs every step that decides (Prepare with the
one-run-at-a-time lock, Evaluate, Promote, Release). Every end releases the lock; the machine's own
timeout (run_limit) is the lock's expiry, so a run stopped by hand frees it too.

Execution input: {"trigger": "<what started it>"}; the execution name is the run's id. With an
approval step ([retraining] approval = "manual", modelwatch.jobs.retraining_approval), a chosen
challenger waits for a person between Better and Promote, and Promote gets the approval to check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from modelwatch.catalog.functions import PROMOTE, RETRAIN
from modelwatch.jobs.asl import lambda_retry
from modelwatch.jobs.retraining_approval import ApprovalStep, approval_states
from modelwatch.spec.models import MonitoringSpec

# Every step is idempotent per run: a transient Lambda error is retried.
RETRY_INTERVAL_SECONDS, RETRY_ATTEMPTS = 5, 3
RETRY = lambda_retry(interval_seconds=RETRY_INTERVAL_SECONDS, max_attempts=RETRY_ATTEMPTS)
FAILED = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NoticeFailed"}]
# The steps each function runs (Release: once after a notice; an approval wait adds its timeout).
PROMOTE_STEPS, RETRAIN_STEPS = ("prepare", "evaluate", "promote", "release"), ("train",)
STEPS_WITHOUT_TRAINING = ("prepare", "release")  # a run without enough labelled rows, or a busy one


def run_limit(spec: MonitoringSpec) -> timedelta:
    """The longest a retraining run may last: every step at its function's timeout on every
    attempt, with the retries' waits, plus the approval wait. The state machine's TimeoutSeconds,
    and the retraining lock's expiry (modelwatch.data_access.retraining_lock)."""
    attempts = 1 + RETRY_ATTEMPTS
    waits = sum(RETRY_INTERVAL_SECONDS * 2**n for n in range(RETRY_ATTEMPTS))
    step = {name: PROMOTE.timeout_seconds for name in PROMOTE_STEPS} | {
        name: RETRAIN.timeout_seconds for name in RETRAIN_STEPS
    }
    seconds = sum(timeout * attempts + waits for timeout in step.values())
    if spec.retraining.approval == "manual":
        seconds += spec.retraining.approval_timeout_hours * 3600
    return timedelta(seconds=seconds)


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


def retraining_definition(
    function_arn: str,
    topic_arn: str,
    approval: ApprovalStep | None = None,
    *,
    promote_arn: str,
    timeout: timedelta,
) -> dict[str, Any]:
    """`function_arn`: the retrain function (Train); `promote_arn`: the promote function (every
    other step)."""
    run = {"run_id.$": "$$.Execution.Name"}
    promote_payload = {"step": "promote", "version.$": "$.evaluated.value.challenger_version"} | run
    if approval is not None:
        # The person's answer, and which execution asks: the promote step matches both against
        # the approval request this execution's approval task stored.
        promote_payload |= {"approval.$": "$.approval", "execution_arn.$": "$$.Execution.Id"}
    definition: dict[str, Any] = {
        "Comment": "Retrain on labelled captures; promote the challenger only if it beats the champion",
        "StartAt": "Prepare",
        "TimeoutSeconds": int(timeout.total_seconds()),
        "States": {
            # The trigger is read first: an input without one fails here (States.Runtime), before any work.
            "Prepare": _step(
                promote_arn, {"step": "prepare", "trigger.$": "$.trigger"} | run, "prepared", "EnoughData"
            ),
            "EnoughData": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.prepared.value.status", "StringEquals": "ready", "Next": "Train"},
                    {"Variable": "$.prepared.value.status", "StringEquals": "busy", "Next": "NoticeBusy"},
                ],
                "Default": "NoticeNotEnoughData",
            },
            "Train": _step(function_arn, {"step": "train"} | run, "trained", "Evaluate"),
            "Evaluate": _step(promote_arn, {"step": "evaluate"} | run, "evaluated", "Better"),
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
            "Promote": _step(promote_arn, promote_payload, "promoted", "Promoted"),
            "Promoted": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.promoted.value.outcome", "StringEquals": "promoted", "Next": "NoticePromoted"}
                ],
                "Default": "NoticeStale",
            },
            "NoticeBusy": _notice("busy", {"prepared.$": "$.prepared.value"}, "Notify"),
            "NoticeNotEnoughData": _notice("not_enough_data", {"prepared.$": "$.prepared.value"}, "Notify"),
            "NoticeUndecided": _notice("not_enough_data", {"decision.$": "$.evaluated.value"}, "Notify"),
            "NoticeRejected": _notice("rejected", {"decision.$": "$.evaluated.value"}, "Notify"),
            "NoticePromoted": _notice("promoted", {"decision.$": "$.evaluated.value"}, "Notify"),
            "NoticeStale": _notice(
                "stale", {"decision.$": "$.evaluated.value", "promotion.$": "$.promoted.value"}, "Notify"
            ),
            "Notify": _publish(topic_arn, "Release"),
            "Release": _release(promote_arn, "Done"),
            "Done": {"Type": "Succeed"},
            "NoticeFailed": _notice("failed", {"error.$": "$.error"}, "NotifyFailure"),
            "NotifyFailure": _publish(topic_arn, "ReleaseAfterFailure"),
            "ReleaseAfterFailure": _release(promote_arn, "Failed"),
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


def _release(promote_arn: str, then: str) -> dict[str, Any]:
    """Let go of the lock (a no-op for a run that never held it). A release that fails still
    ends the run as it was: the lock then expires at the run's time limit."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": promote_arn, "Payload": {"step": "release", "run_id.$": "$$.Execution.Name"}},
        "ResultPath": None,
        "Retry": RETRY,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": then}],
        "Next": then,
    }
