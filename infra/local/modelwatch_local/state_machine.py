"""Runs a Standard Step Functions state machine locally, as the service would, for the states and
fields ModelWatch's definitions use: Task (Lambda invoke, SNS publish), Pass, Choice
(StringEquals, BooleanEquals), Succeed and Fail; Parameters and ResultSelector with JsonPath and
States.JsonToString; ResultPath; Catch.

Callback tasks (Resource ending in .waitForTaskToken): the task runs with $$.Task.Token in its
context, then the execution pauses (RUNNING) until send_task_success or send_task_failure
returns that token; with TimeoutSeconds, once the clock passes the deadline the task fails with
States.Timeout. As in the service, a token is used once: sending a closed or timed-out task's
token is TaskTimedOut, an unknown one InvalidToken. Anything else is refused rather than
guessed at."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_INTRINSIC = re.compile(r"^States\.JsonToString\((.+)\)$")
MAX_STEPS = 1000
CALLBACK = ".waitForTaskToken"

# A task's resource and its resolved parameters -> its result; raise to fail the task.
TaskRunner = Callable[[str, dict[str, Any]], Any]


class StateError(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


class CallbackError(Exception):
    """What SendTaskSuccess / SendTaskFailure answer for a token nobody waits on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class Waiting:
    """A callback task waiting for its token: where the execution resumes."""

    token: str
    state: str
    document: Any
    deadline: datetime | None


@dataclass
class Execution:
    name: str
    status: str = "RUNNING"  # SUCCEEDED | FAILED (RUNNING while a callback task waits)
    output: Any = None
    error: str | None = None
    cause: str | None = None
    visited: list[str] = field(default_factory=list)
    waiting: Waiting | None = None
    input: Any = None


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


def run_state_machine(
    definition: dict[str, Any],
    execution_input: Any,
    name: str,
    tasks: TaskRunner,
    clock: Callable[[], datetime] | None = None,
) -> Execution:
    """One execution, run until it ends or a callback task waits (then resume it through a
    LocalStateMachine)."""
    return LocalStateMachine(definition, tasks, clock).start(execution_input, name)


class LocalStateMachine:
    """A state machine's executions, and the callback tokens they wait on."""

    def __init__(
        self, definition: dict[str, Any], tasks: TaskRunner, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.definition, self.tasks = definition, tasks
        self.clock = clock or (lambda: datetime.now(UTC))
        self.executions: dict[str, Execution] = {}
        self._closed_tokens: set[str] = set()

    def start(self, execution_input: Any, name: str) -> Execution:
        if name in self.executions:
            raise ValueError(f"ExecutionAlreadyExists: {name}")
        execution = self.executions[name] = Execution(name, input=execution_input)
        return self._run(execution, execution_input, self.definition["StartAt"])

    def send_task_success(self, token: str, output: Any) -> Execution:
        """SendTaskSuccess: `output` is a JSON text, as the API takes it (Step Functions parses it
        into the task's result); a parsed value is taken as is."""
        if isinstance(output, str):
            output = json.loads(output)
        execution, waiting = self._waiting_on(token)
        state = self.definition["States"][waiting.state]
        return self._after_task(execution, state, waiting.document, output)

    def send_task_failure(self, token: str, error: str, cause: str = "") -> Execution:
        execution, waiting = self._waiting_on(token)
        return self._fail_task(execution, waiting, StateError(error, cause))

    def time_out_waiting_tasks(self) -> list[Execution]:
        """What the service does as time passes: each callback task past its deadline fails with
        States.Timeout (and its execution goes on from there)."""
        now = self.clock()
        timed_out = []
        for execution in list(self.executions.values()):
            waiting = execution.waiting
            if waiting is not None and waiting.deadline is not None and now >= waiting.deadline:
                self._fail_task(execution, waiting, StateError("States.Timeout", "the task timed out"))
                timed_out.append(execution)
        return timed_out

    def _waiting_on(self, token: str) -> tuple[Execution, Waiting]:
        self.time_out_waiting_tasks()
        if token in self._closed_tokens:
            raise CallbackError("TaskTimedOut", "the task token has expired or its task was already closed")
        for execution in self.executions.values():
            if execution.waiting is not None and execution.waiting.token == token:
                waiting, execution.waiting = execution.waiting, None
                self._closed_tokens.add(token)
                return execution, waiting
        raise CallbackError("InvalidToken", "the task token is not valid")

    def _fail_task(self, execution: Execution, waiting: Waiting, failure: StateError) -> Execution:
        execution.waiting = None
        self._closed_tokens.add(waiting.token)
        state = self.definition["States"][waiting.state]
        return self._caught(execution, state, waiting.document, failure)

    def _caught(self, execution: Execution, state: dict[str, Any], document: Any, failure: StateError) -> Execution:
        handler = next((c for c in state.get("Catch", []) if _catches(c, failure.error)), None)
        if handler is None:
            execution.status, execution.error, execution.cause = "FAILED", failure.error, failure.cause
            return execution
        document = _place(document, handler.get("ResultPath", "$"), {"Error": failure.error, "Cause": failure.cause})
        return self._run(execution, document, handler["Next"])

    def _after_task(self, execution: Execution, state: dict[str, Any], document: Any, result: Any) -> Execution:
        document = self._with_result(execution, state, document, result)
        if state.get("End"):
            execution.status, execution.output = "SUCCEEDED", document
            return execution
        return self._run(execution, document, state["Next"])

    def _with_result(self, execution: Execution, state: dict[str, Any], document: Any, result: Any) -> Any:
        if state["Type"] == "Task" and "ResultSelector" in state:
            result = _resolve(state["ResultSelector"], result, self._context(execution))
        return _place(document, state.get("ResultPath", "$"), result)

    def _context(self, execution: Execution, token: str | None = None) -> dict[str, Any]:
        context: dict[str, Any] = {
            "Execution": {"Name": execution.name, "Id": self._arn(execution), "Input": execution.input}
        }
        if token is not None:
            context["Task"] = {"Token": token}
        return context

    @staticmethod
    def _arn(execution: Execution) -> str:
        return f"arn:aws:states:us-east-1:123456789012:execution:local:{execution.name}"

    def _run(self, execution: Execution, document: Any, current: str) -> Execution:
        for _ in range(MAX_STEPS):
            state = self.definition["States"][current]
            execution.visited.append(current)
            kind = state["Type"]
            if kind == "Succeed":
                execution.status, execution.output = "SUCCEEDED", document
                return execution
            if kind == "Fail":
                execution.status, execution.error, execution.cause = "FAILED", state.get("Error"), state.get("Cause")
                return execution
            if kind == "Choice":
                current = _choose(state, document, self._context(execution))
                continue
            callback = kind == "Task" and state["Resource"].endswith(CALLBACK)
            token = uuid.uuid4().hex if callback else None
            context = self._context(execution, token)
            try:
                if kind == "Pass":
                    result = _resolve(state["Parameters"], document, context) if "Parameters" in state else document
                elif kind == "Task":
                    result = self.tasks(state["Resource"], _resolve(state.get("Parameters", {}), document, context))
                else:
                    raise ValueError(f"state type {kind} is not supported locally")
            except StateError as failure:
                return self._caught(execution, state, document, failure)
            if token is not None:
                timeout = state.get("TimeoutSeconds")
                deadline = None if timeout is None else self.clock() + timedelta(seconds=timeout)
                execution.waiting = Waiting(token, current, document, deadline)
                return execution  # RUNNING until the token comes back, or the deadline passes
            document = self._with_result(execution, state, document, result)
            if state.get("End"):
                execution.status, execution.output = "SUCCEEDED", document
                return execution
            current = state["Next"]
        raise RuntimeError(f"execution {execution.name} did not finish within {MAX_STEPS} states")


def _catches(catcher: dict[str, Any], error: str) -> bool:
    # As in Step Functions, States.ALL does not catch States.Runtime: such errors always fail.
    if error == "States.Runtime":
        return False
    return "States.ALL" in catcher["ErrorEquals"] or error in catcher["ErrorEquals"]
