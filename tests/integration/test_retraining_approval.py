"""Manual approval on the embedded stack ([retraining] approval = "manual"): a run whose
challenger Evaluate chose waits, with the approval notice (and its commands) on the alerts
topic; approve promotes it, reject or no decision before the timeout (the simulated clock) keeps
the champion, and a second decision is refused."""

from __future__ import annotations

import pytest

from modelwatch.catalog import layout
from modelwatch_local.state_machine import CallbackError
from tests.integration.test_retraining import _labelled_traffic, _publish_champion


@pytest.fixture
def waiting(stack_factory):
    """A stack with a broken champion and a run waiting to promote a better challenger."""
    stack = stack_factory(min_rows=500, approval='"manual"', approval_timeout_hours=2)
    _publish_champion(stack, "v1-broken", flip_labels=True)
    _labelled_traffic(stack, 1200, seed=41)
    execution = stack.run_retraining("manual", name="run-approval")
    return stack, execution


def test_a_chosen_challenger_waits_and_the_notice_says_how_to_decide(waiting):
    stack, execution = waiting
    assert execution.status == "RUNNING" and execution.visited[-1] == "AwaitApproval"
    assert stack.registry.current_version() == "v1-broken"
    assert layout.approval_key("run-approval") in stack.objects(layout.APPROVALS.prefix, bodies=False)
    (notice,) = stack.alerts()
    body = notice["modelwatch_retraining"]
    assert body["outcome"] == "awaiting_approval" and body["timeout_hours"] == 2
    assert body["approve"] == "modelwatch approve run-approval --stack modelwatch-local"
    assert body["reject"].startswith("modelwatch reject run-approval --stack modelwatch-local")
    assert body["decision"]["challenger_version"] == "retrained-run-approval"


def test_approve_resumes_and_promotes(waiting):
    stack, _ = waiting
    stack.alerts()
    stack.clock.advance(3600)  # within the two hours
    execution = stack.approve("run-approval", by="alice")
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.visited[-6:] == ["Promote", "Promoted", "NoticePromoted", "Notify", "Release", "Done"]
    assert stack.registry.current_version() == "retrained-run-approval"
    (notice,) = stack.alerts()
    assert notice["modelwatch_retraining"]["outcome"] == "promoted"
    assert notice["modelwatch_retraining"]["approval"]["by"] == "alice"  # the output, parsed as AWS does
    with pytest.raises(CallbackError, match="TaskTimedOut"):  # already decided
        stack.reject("run-approval")


def test_reject_ends_the_run_as_rejected(waiting):
    stack, _ = waiting
    stack.alerts()
    execution = stack.reject("run-approval", reason="holdout too small", by="bob")
    assert execution.status == "SUCCEEDED"  # a decision, not a failure
    assert execution.visited[-4:] == ["NoticeNotApproved", "Notify", "Release", "Done"]
    assert stack.registry.current_version() == "v1-broken"
    (notice,) = stack.alerts()
    body = notice["modelwatch_retraining"]
    assert body["outcome"] == "rejected"
    assert body["approval"] == {"Error": "ModelWatch.Rejected", "Cause": "rejected by bob: holdout too small"}


def test_no_decision_within_the_timeout_rejects(waiting):
    stack, execution = waiting
    stack.alerts()
    stack.clock.advance(2 * 3600 - 1)
    assert stack.time_out_approvals() == [] and execution.status == "RUNNING"
    stack.clock.advance(1)
    (timed_out,) = stack.time_out_approvals()
    assert timed_out.status == "SUCCEEDED" and timed_out.visited[-4:] == [
        "NoticeNotApproved",
        "Notify",
        "Release",
        "Done",
    ]
    assert stack.registry.current_version() == "v1-broken"
    (notice,) = stack.alerts()
    assert notice["modelwatch_retraining"]["approval"]["Error"] == "States.Timeout"
    with pytest.raises(CallbackError, match="TaskTimedOut"):  # too late to approve
        stack.approve("run-approval")
