"""Invoke a function's handler in this process the way Lambda does, keeping what it printed.

The handlers are the installed `functions` package (its parent folder plays Lambda's task root).
A function's handler module is imported once per execution environment, which then stays warm;
a deployment whose spec differs gets environments imported afresh (a cold start).

What runs concurrently. Lambda answers concurrent requests to a function from separate execution
environments, each serving one invocation at a time; so does this runtime, with threads: `invoke`
may be called from several threads at once. Each environment has its own copy of the handler
module, and with it the handler's module-level state, which is per environment in Lambda and would
mix if two invocations shared it: Powertools' metric set (flushed as the invocation's EMF document
at its end), the API resolver's routes and context, the Logger and Tracer objects, the served
model and the other caches. A function's first environment holds the module `sys.modules` holds
(the one `load_handler` returns and tests look into); another is made only when every environment
of the function is busy: the module executed again, outside `sys.modules`, as a cold start of its
own. (A SnapStart function's extra environment does not register its snapshot hooks: in Lambda it
would be restored from the version's one snapshot, here the first environment's.) So sequential
calls all run in the first environment, and N concurrent calls of a function in up to N.

What each invocation keeps to itself, whatever runs beside it (modelwatch_local.invocation_state):
its output (print, Powertools' EMF, the capture lines and Powertools Logger's lines), Powertools'
metrics cold-start flag, and the event and context Powertools' event handler keeps per process;
and the function whose role judges its AWS calls (`access.acting_function`).

What is serialized: an environment's invocations (it serves one at a time, as in Lambda), and
environments' inits (one import at a time: they share the interpreter's import state, and the
GIL would run them one after another anyway). What all environments share, as they would not in
Lambda: the rest of the process (the core library and `functions.shared`, which hold no
per-invocation state), the platform and its AWS clients (botocore clients are thread-safe; the
local platform creates them under a lock), and Powertools Logger's one `logging.Logger` per
service: the keys `inject_lambda_context` appends (function_request_id, cold_start) are whichever
invocation set them last, though each line lands in the output of the invocation that logged it.
Output from threads a function starts itself (the served model's background refresh) belongs to
no invocation: it goes to the process's stdout.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import re
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import snapshot_restore_py

import functions
from modelwatch.catalog.functions import FUNCTIONS
from modelwatch.data_access.platform import current_platform
from modelwatch_local import invocation_state

invocation_state.install()

TASK_ROOT = Path(functions.__file__).resolve().parent.parent  # holds functions/, as /var/task does


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def lambda_environment(function: str, trace_header: str | None = None) -> dict[str, str]:
    """The variables the Lambda runtime sets for our code, for a process that stands in for one.

    They matter beyond show: the X-Ray SDK behind Powertools' Tracer checks LAMBDA_TASK_ROOT and,
    outside Lambda, builds a centralized-sampling client at import (about 100 ms) that a real
    cold start never pays. `trace_header` is the per-invocation `_X_AMZN_TRACE_ID` of an active
    tracing function.
    """
    definition = FUNCTIONS[function]
    environment = {
        "LAMBDA_TASK_ROOT": str(TASK_ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": f"modelwatch-{function}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(definition.memory_mb),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": definition.handler,
    }
    if trace_header is not None:
        environment["_X_AMZN_TRACE_ID"] = trace_header
    return environment


@dataclass
class Invocation:
    result: Any
    stdout: list[str]
    request_id: str = ""  # the context's aws_request_id
    log_stream: str = ""  # its execution environment's, as Lambda names one stream per environment
    started: float = 0.0  # time.perf_counter() when the handler was called ...
    ended: float = 0.0  # ... and when it returned


# -- warnings -------------------------------------------------------------------------------------
# Warnings Powertools issues in a local run for reasons the local stack itself causes, which in
# Lambda would land in the function's log group, never in `modelwatch serve`'s terminal:
# - a metric stamped with the simulated clock (days from the wall clock) is one CloudWatch would
#   skip, and Powertools warns so; the local store stamps every datapoint itself;
# - an invocation that sends no metric (a [metrics] series nothing reads is a property, not a
#   metric) meets Powertools' "No application metrics to publish" where a handler flushes
#   Powertools' own metric set (a cold start's, an extra execution environment's).
# Each is ignored by its message, not by category: any other warning still shows. The filters are
# put in the process's list, not in a catch_warnings block per invocation: catch_warnings saves and
# restores that one list, and concurrent invocations would restore it under each other's feet.
_SKIPPED_BY_CLOUDWATCH = "This metric doesn't meet the requirements and will be skipped by Amazon CloudWatch"
_NO_METRICS = "No application metrics to publish"
LOCAL_RUN_WARNINGS = (_SKIPPED_BY_CLOUDWATCH, _NO_METRICS)
_FILTERS = [("ignore", re.compile(message, re.IGNORECASE), Warning, None, 0) for message in LOCAL_RUN_WARNINGS]
_warnings_lock = threading.Lock()


def _ignore_local_run_warnings() -> None:
    """Checked on every invocation: a caller's catch_warnings (pytest's around each test) may have
    put back a list without them."""
    if all(entry in warnings.filters for entry in _FILTERS):
        return
    with _warnings_lock:
        for message, entry in zip(LOCAL_RUN_WARNINGS, _FILTERS, strict=True):
            if entry not in warnings.filters:
                warnings.filterwarnings("ignore", message=message)


# -- execution environments -----------------------------------------------------------------------
@dataclass(eq=False)
class ExecutionEnvironment:
    function: str
    number: int  # 1: the function's first, whose module is the one in sys.modules
    module: ModuleType
    spec_path: str  # the deployment's spec it was imported with
    # The stacks (platforms) it has served: its first call on each is a cold start, as a new
    # deployment's first call is (stacks in one process share the module).
    started_on: set[int] = field(default_factory=set)

    @property
    def log_stream(self) -> str:
        return f"local/[$LATEST]{self.number:032x}"


def _module_name(function: str) -> str:
    return FUNCTIONS[function].handler.rsplit(".", 1)[0]


class _Environments:
    """Every function's execution environments: the first (the module in sys.modules) and the
    idle extra ones, each serving one invocation at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the bookkeeping below, held briefly
        self._init_lock = threading.Lock()  # imports, one at a time
        self._first: dict[str, ExecutionEnvironment] = {}
        self._first_claimed: set[str] = set()  # functions whose first environment is in use
        self._idle: dict[str, list[ExecutionEnvironment]] = {}  # extra environments not in use
        self._made: dict[str, int] = {}  # environments made per function, for their numbers

    def acquire(self, function: str, spec_path: str) -> ExecutionEnvironment:
        """An environment of `function` for `spec_path`'s deployment, for one invocation; the
        caller gives it back with `release`. A warm one when one is free, else a new one."""
        number = 1
        with self._lock:
            first = self._first.get(function)
            first_free = function not in self._first_claimed
            # An extra environment of an earlier deployment is gone: Lambda does not keep them.
            idle = [env for env in self._idle.get(function, []) if env.spec_path == spec_path]
            self._idle[function] = idle
            if first_free and first is not None and first.spec_path == spec_path:
                self._first_claimed.add(function)
                return first
            if idle:
                return idle.pop()
            if first_free:
                self._first_claimed.add(function)
            else:
                number = self._made[function] = self._made.get(function, 1) + 1
        if first_free:
            try:
                return self._init_first(function, spec_path)
            except BaseException:
                self._release_first(function)
                raise
        return self._make_extra(function, spec_path, number)

    def release(self, environment: ExecutionEnvironment) -> None:
        with self._lock:
            if self._first.get(environment.function) is environment:
                self._first_claimed.discard(environment.function)
            else:
                self._idle.setdefault(environment.function, []).append(environment)

    def first_module(self, function: str, spec_path: str) -> ModuleType:
        """The first environment's module, imported (or imported again for another deployment)
        when it is not in use."""
        with self._lock:
            first = self._first.get(function)
            claimed = function in self._first_claimed
            if not claimed:
                self._first_claimed.add(function)
        if claimed:
            if first is not None and first.spec_path != spec_path:
                raise RuntimeError(f"{function} is running for another deployment's spec")
            with self._init_lock:  # an import in progress has finished once this is held
                return importlib.import_module(_module_name(function))
        try:
            return self._init_first(function, spec_path).module
        finally:
            self._release_first(function)

    def _release_first(self, function: str) -> None:
        with self._lock:
            self._first_claimed.discard(function)

    def _init_first(self, function: str, spec_path: str) -> ExecutionEnvironment:
        """The first environment, claimed by the caller: imported, or imported again when its
        deployment's spec changed (the handler binds its deployment's spec at import)."""
        with self._init_lock:
            first = self._first.get(function)
            module = importlib.import_module(_module_name(function))
            if first is None:
                first = ExecutionEnvironment(function, 1, module, spec_path)
            elif first.spec_path != spec_path:
                module = importlib.reload(module)
                first = ExecutionEnvironment(function, 1, module, spec_path)
            invocation_state.route_logging(module)
            with self._lock:
                self._first[function] = first
            return first

    def _make_extra(self, function: str, spec_path: str, number: int) -> ExecutionEnvironment:
        """Another environment: the handler module executed again as a module of its own."""
        name = _module_name(function)
        with self._init_lock:
            found = importlib.util.find_spec(name)
            if found is None or found.loader is None:
                raise ImportError(f"no handler module {name}")
            module = importlib.util.module_from_spec(found)
            found.loader.exec_module(module)
            _drop_snapshot_hooks(module)
            invocation_state.route_logging(module)
        return ExecutionEnvironment(function, number, module, spec_path)


def _drop_snapshot_hooks(module: ModuleType) -> None:
    """The SnapStart hooks an extra environment's module registered at import: Lambda restores
    every environment of a version from one snapshot, taken once (the first environment's)."""
    for registry in (snapshot_restore_py._before_snapshot_registry, snapshot_restore_py._after_restore_registry):
        registry[:] = [entry for entry in registry if getattr(entry[0], "__globals__", None) is not vars(module)]


_environments = _Environments()


def _handler_module(function: str) -> ModuleType:
    return _environments.first_module(function, current_platform().settings.spec_path)


def load_handler(function: str) -> Callable[[dict[str, Any], Any], Any]:
    """The function's handler, imported as Lambda would from the task root (its first
    environment's)."""
    return _handler_module(function).handler


def invoke(function: str, event: dict[str, Any]) -> Invocation:
    """One invocation of `function` in a free execution environment (a new one when all are busy),
    with what it printed; safe to call from several threads at once."""
    platform = current_platform()
    environment = _environments.acquire(function, platform.settings.spec_path)
    try:
        return _run(environment, id(platform), event)
    finally:
        _environments.release(environment)


def _run(environment: ExecutionEnvironment, platform: int, event: dict[str, Any]) -> Invocation:
    cold = platform not in environment.started_on
    environment.started_on.add(platform)
    invocation_state.route_stdout()
    _ignore_local_run_warnings()
    definition = FUNCTIONS[environment.function]
    context = LambdaContext(function_name=f"modelwatch-{definition.name}", memory_limit_in_mb=definition.memory_mb)
    output = io.StringIO()
    with invocation_state.invocation(output, cold):
        started = time.perf_counter()
        try:
            result = environment.module.handler(event, context)
        except Exception as error:
            # A failed invocation's log keeps what it printed, and CloudWatch extracts its EMF
            # documents all the same (Powertools flushes them as the handler raises).
            setattr(error, _PRINTED, _lines(output))
            raise
        finally:
            ended = time.perf_counter()
    return Invocation(result, _lines(output), context.aws_request_id, environment.log_stream, started, ended)


_PRINTED = "_modelwatch_local_printed"


def _lines(output: io.StringIO) -> list[str]:
    return [line for line in output.getvalue().splitlines() if line.strip()]


def printed_by(error: BaseException) -> list[str]:
    """What a failed invocation printed before it raised `error` (its log lines)."""
    return list(getattr(error, _PRINTED, []))
