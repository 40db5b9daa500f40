"""The local Step Functions runner: the state types and fields ModelWatch's definitions use."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from modelwatch.jobs.retraining_machine import retraining_definition
from modelwatch_local.state_machine import StateError, run_state_machine


def _tasks(results: dict[str, object], published: list):
    def run(resource: str, parameters: dict):
        if resource.endswith("sns:publish"):
            published.append(parameters)
            return {"MessageId": "m"}
        step = parameters["Payload"]["step"]
        outcome = results.get(step, {"released": True}) if step == "release" else results[step]
        if isinstance(outcome, Exception):
            raise StateError(type(outcome).__name__, str(outcome))
        return {"Payload": outcome, "StatusCode": 200}

    return run


DEFINITION = retraining_definition(
    "arn:aws:lambda:us-east-1:1:function:modelwatch-retrain",
    "arn:topic",
    promote_arn="arn:aws:lambda:us-east-1:1:function:modelwatch-promote",
    timeout=timedelta(hours=5),
)


def test_the_promote_path_passes_each_steps_result_on():
    published: list = []
    results = {
        "prepare": {"status": "ready", "run_id": "x"},
        "train": {"version": "retrained-x"},
        "evaluate": {"promote": True, "reason": "better", "challenger_version": "retrained-x"},
        "promote": {"outcome": "promoted", "promoted": "retrained-x"},
    }
    execution = run_state_machine(DEFINITION, {"trigger": "manual"}, "x", _tasks(results, published))
    assert execution.status == "SUCCEEDED"
    assert execution.visited == [
        "Prepare",
        "EnoughData",
        "Train",
        "Evaluate",
        "Better",
        "Promote",
        "Promoted",
        "NoticePromoted",
        "Notify",
        "Release",
        "Done",
    ]
    (message,) = published
    notice = json.loads(message["Message"])["modelwatch_retraining"]  # States.JsonToString made it a string
    assert notice == {
        "outcome": "promoted",
        "run_id": "x",
        "trigger": "manual",
        "decision": {"promote": True, "reason": "better", "challenger_version": "retrained-x"},
    }


def test_a_choice_without_a_match_takes_its_default():
    published: list = []
    results = {"prepare": {"status": "insufficient_data", "run_id": "y", "rows": 3}}
    execution = run_state_machine(DEFINITION, {"trigger": "schedule"}, "y", _tasks(results, published))
    assert execution.status == "SUCCEEDED" and "Train" not in execution.visited
    assert json.loads(published[0]["Message"])["modelwatch_retraining"]["outcome"] == "not_enough_data"


def test_a_caught_error_lands_at_its_result_path_and_the_execution_fails():
    published: list = []
    results = {"prepare": {"status": "ready", "run_id": "z"}, "train": MemoryError("out of memory")}
    execution = run_state_machine(DEFINITION, {"trigger": "manual"}, "z", _tasks(results, published))
    assert execution.status == "FAILED" and execution.error == "RetrainingFailed"
    notice = json.loads(published[0]["Message"])["modelwatch_retraining"]
    assert notice["error"] == {"Error": "MemoryError", "Cause": "out of memory"}


def test_an_input_without_a_trigger_fails_before_any_work():
    published: list = []
    execution = run_state_machine(DEFINITION, {}, "w", _tasks({}, published))  # no "trigger" in the input
    # States.Runtime is not caught by States.ALL: nothing ran, nothing was published.
    assert execution.status == "FAILED" and execution.error == "States.Runtime" and not published


def test_unsupported_states_are_refused():
    definition = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1, "End": True}}}
    with pytest.raises(ValueError, match="not supported locally"):
        run_state_machine(definition, {}, "v", _tasks({}, []))


def test_a_holdout_that_cannot_decide_ends_as_not_enough_data_not_a_failure():
    published: list = []
    decision = {"promote": False, "outcome": "not_enough_data", "reason": "the holdout holds a single class (1)"}
    results = {
        "prepare": {"status": "ready", "run_id": "z"},
        "train": {"version": "retrained-z"},
        "evaluate": decision,
    }
    execution = run_state_machine(DEFINITION, {"trigger": "manual"}, "z", _tasks(results, published))
    assert execution.status == "SUCCEEDED"
    assert execution.visited[-5:] == ["Better", "NoticeUndecided", "Notify", "Release", "Done"]
    notice = json.loads(published[0]["Message"])["modelwatch_retraining"]
    assert notice["outcome"] == "not_enough_data" and notice["decision"] == decision
