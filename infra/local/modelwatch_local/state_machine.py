"""Runs a Standard Step Functions state machine locally, as the service would, for the states and
fields ModelWatch's definitions use: Task (Lambda invoke, SNS publish), Pass, Choice
(StringEquals, BooleanEquals), Succeed and Fail; Parameters and ResultSelector with JsonPath and
States.JsonToString; ResultPath; Catch. Anything else is refused rather than guessed at."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_INTRINSIC = re.compile(r"^States\.JsonToString\((.+)\)$")
MAX_STEPS = 1000

# A task's resource and its resolved parameters -> its result; raise to fail the task.
TaskRunner = Callable[[str, dict[str, Any]], Any]


class StateError(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


@dataclass
class Execution:
    name: str
    status: str = "RUNNING"  # SUCCEEDED | FAILED
    output: Any = None
    error: str | None = None
    cause: str | None = None
    visited: list[str] = field(default_factory=list)


def _path(document: Any, path: str, context: dict[str, Any]) -> Any:
    if path.startswith("$$"):
        document, path = context, path[1:]
    if path == "$":
        return document
    if not path.startswith("$."):
        raise ValueError(f"JsonPath {path!r} is not supported locally")
    for part in path[2:].split("."):
        if not isinstance(document, dict) or part not in document:
            raise StateError("States.Runtime", f"the JsonPath {path} could not be found in the input")
        document = document[part]
    return document


def _resolve(template: Any, document: Any, context: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        resolved = {}
        for key, value in template.items():
            if key.endswith(".$"):
                intrinsic = _INTRINSIC.match(value)
                if intrinsic:
                    resolved[key[:-2]] = json.dumps(_path(document, intrinsic.group(1).strip(), context))
                else:
                    resolved[key[:-2]] = _path(document, value, context)
            else:
                resolved[key] = _resolve(value, document, context)
        return resolved
    if isinstance(template, list):
        return [_resolve(v, document, context) for v in template]
    return template


def _place(document: Any, result_path: str | None, result: Any) -> Any:
    if result_path is None:
        return document
    if result_path == "$":
        return result
    if not result_path.startswith("$."):
        raise ValueError(f"ResultPath {result_path!r} is not supported locally")
    placed = copy.deepcopy(document) if isinstance(document, dict) else {}
    target = placed
    *parents, last = result_path[2:].split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = result
    return placed


def _choose(state: dict[str, Any], document: Any, context: dict[str, Any]) -> str:
    for rule in state["Choices"]:
        value = _path(document, rule["Variable"], context)
        if "StringEquals" in rule:
            matched = value == rule["StringEquals"]
        elif "BooleanEquals" in rule:
            matched = value is rule["BooleanEquals"]
        else:
            raise ValueError(f"choice rule {sorted(rule)} is not supported locally")
        if matched:
            return rule["Next"]
    if "Default" not in state:
        raise StateError("States.NoChoiceMatched", "no choice rule matched and there is no Default")
    return state["Default"]


def run_state_machine(definition: dict[str, Any], execution_input: Any, name: str, tasks: TaskRunner) -> Execution:
    execution = Execution(name)
    context = {"Execution": {"Name": name, "Input": execution_input}}
    document, current = execution_input, definition["StartAt"]
    for _ in range(MAX_STEPS):
        state = definition["States"][current]
        execution.visited.append(current)
        kind = state["Type"]
        if kind == "Succeed":
            execution.status, execution.output = "SUCCEEDED", document
            return execution
        if kind == "Fail":
            execution.status, execution.error, execution.cause = "FAILED", state.get("Error"), state.get("Cause")
            return execution
        if kind == "Choice":
            current = _choose(state, document, context)
            continue
        try:
            if kind == "Pass":
                result = _resolve(state["Parameters"], document, context) if "Parameters" in state else document
            elif kind == "Task":
                result = tasks(state["Resource"], _resolve(state.get("Parameters", {}), document, context))
                if "ResultSelector" in state:
                    result = _resolve(state["ResultSelector"], result, context)
            else:
                raise ValueError(f"state type {kind} is not supported locally")
        except StateError as failure:
            handler = next((c for c in state.get("Catch", []) if _catches(c, failure.error)), None)
            if handler is None:
                execution.status, execution.error, execution.cause = "FAILED", failure.error, failure.cause
                return execution
            document = _place(
                document, handler.get("ResultPath", "$"), {"Error": failure.error, "Cause": failure.cause}
            )
            current = handler["Next"]
            continue
        document = _place(document, state.get("ResultPath", "$"), result)
        if state.get("End"):
            execution.status, execution.output = "SUCCEEDED", document
            return execution
        current = state["Next"]
    raise RuntimeError(f"execution {name} did not finish within {MAX_STEPS} states")


def _catches(catcher: dict[str, Any], error: str) -> bool:
    # As in Step Functions, States.ALL does not catch States.Runtime: such errors always fail.
    if error == "States.Runtime":
        return False
    return "States.ALL" in catcher["ErrorEquals"] or error in catcher["ErrorEquals"]
