"""Manual approval's pieces alone: the spec keys and their validation, the ASL's callback state
(waitForTaskToken, TimeoutSeconds, a timeout that rejects), the local interpreter pausing and
resuming on a token or timing out on its clock, and the notice's commands in Slack."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from modelwatch.alerts.retraining_message import slack_message
from modelwatch.jobs.retraining_approval import approval_step
from modelwatch.jobs.retraining_machine import retraining_definition
from modelwatch.spec import SpecError, parse_spec
from modelwatch_local.clock import MovableClock
from modelwatch_local.state_machine import CallbackError, LocalStateMachine
from tests.conftest import ROOT


def _spec(**retraining: object):
    document = tomllib.loads((ROOT / "monitoring.toml").read_text())
    document["retraining"].update(retraining)
    return parse_spec(document, "spec.toml")


def test_approval_is_auto_by_default_and_its_keys_are_validated_by_name():
    assert _spec().retraining.approval == "auto"
    assert approval_step(_spec(), "fn", "stack") is None
    for key, value in (("approval", "sometimes"), ("approval_timeout_hours", 0), ("approval_timeout_hours", 721)):
        with pytest.raises(SpecError) as caught:
            _spec(**{key: value})
        assert any(p.startswith(f"spec.toml: retraining.{key}:") for p in caught.value.problems), caught.value


def _manual_definition(hours: int = 3) -> dict:
    step = approval_step(_spec(approval="manual", approval_timeout_hours=hours), "arn:fn:approval", "prod")
    return retraining_definition(
        "arn:fn:retrain", "arn:topic", step, promote_arn="arn:fn:promote", timeout=timedelta(hours=hours + 4)
    )


def test_the_asl_waits_for_a_token_with_the_spec_timeout_and_a_timeout_rejects():
    states = _manual_definition()["States"]
    assert states["Better"]["Choices"][0]["Next"] == "NoticeAwaitingApproval"
    wait = states["AwaitApproval"]
    assert wait["Resource"].endswith(":::lambda:invoke.waitForTaskToken")
    assert wait["TimeoutSeconds"] == 3 * 3600 and wait["Next"] == "Promote"
    assert wait["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    (rejecting,) = [c for c in wait["Catch"] if "States.Timeout" in c["ErrorEquals"]]
    assert "ModelWatch.Rejected" in rejecting["ErrorEquals"]
    assert wait["Catch"].index(rejecting) == 0  # before States.ALL, which would make it a failure
    notice = states[rejecting["Next"]]
    assert notice["Parameters"]["modelwatch_retraining"]["outcome"] == "rejected"
    assert notice["Next"] == "Notify"  # then Done: a succeeded execution


def _machine(clock: MovableClock, calls: list) -> LocalStateMachine:
    results = {
        "prepare": {"status": "ready"},
        "train": {"version": "v2"},
        "evaluate": {"promote": True, "challenger_version": "v2"},
        "promote": {"outcome": "promoted", "promoted": "v2"},
    }

    def run(resource: str, parameters: dict):
        calls.append((resource, parameters))
        if resource.endswith("sns:publish"):
            return {"MessageId": "m"}
        payload = parameters["Payload"]
        return {"Payload": results.get(payload.get("step"), {}), "StatusCode": 200}

    return LocalStateMachine(_manual_definition(), run, clock)


def test_the_local_interpreter_pauses_on_the_token_and_resumes_on_success():
    clock, calls = MovableClock(datetime(2026, 1, 1, tzinfo=UTC)), []
    machine = _machine(clock, calls)
    execution = machine.start({"trigger": "manual"}, "r1")
    assert execution.status == "RUNNING" and execution.waiting is not None
    token = calls[-1][1]["Payload"]["task_token"]
    assert token == execution.waiting.token
    assert not any(p.get("Payload", {}).get("step") == "promote" for _, p in calls)
    machine.send_task_success(token, {"decision": "approved"})
    assert execution.status == "SUCCEEDED" and execution.output["approval"] == {"decision": "approved"}
    assert execution.visited[-6:] == ["Promote", "Promoted", "NoticePromoted", "Notify", "Release", "Done"]
    # The promote step is handed the person's answer, to check it against the stored request.
    (promote,) = [p["Payload"] for _, p in calls if p.get("Payload", {}).get("step") == "promote"]
    assert promote["approval"] == {"decision": "approved"} and promote["version"] == "v2"
    with pytest.raises(CallbackError, match="TaskTimedOut"):
        machine.send_task_success(token, {})
    with pytest.raises(CallbackError, match="InvalidToken"):
        machine.send_task_failure("no-such-token", "ModelWatch.Rejected")


def test_the_local_interpreter_times_the_wait_out_on_its_clock():
    clock, calls = MovableClock(datetime(2026, 1, 1, tzinfo=UTC)), []
    machine = _machine(clock, calls)
    execution = machine.start({"trigger": "manual"}, "r2")
    clock.advance(3 * 3600 - 1)
    assert machine.time_out_waiting_tasks() == []
    clock.advance(1)
    assert machine.time_out_waiting_tasks() == [execution]
    assert execution.status == "SUCCEEDED" and execution.output["approval"]["Error"] == "States.Timeout"
    (published,) = [p for r, p in calls if r.endswith("sns:publish")]
    assert json.loads(published["Message"])["modelwatch_retraining"]["outcome"] == "rejected"


def test_the_slack_notice_gives_the_exact_commands():
    notice = {
        "modelwatch_retraining": {
            "outcome": "awaiting_approval",
            "run_id": "r3",
            "trigger": "schedule",
            "timeout_hours": 24,
            "decision": {"challenger_version": "retrained-r3", "reason": "0.91 >= 0.85"},
            "approve": "modelwatch approve r3 --stack prod",
            "reject": 'modelwatch reject r3 --stack prod --reason "..."',
        }
    }
    text = json.dumps(slack_message(notice, "https://dashboard"))
    assert "modelwatch approve r3 --stack prod" in text and "modelwatch reject r3 --stack prod" in text
    assert "within 24 h" in text
