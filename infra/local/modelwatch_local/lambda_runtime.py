"""Invoke a function's handler in this process the way Lambda does, keeping what it printed.

The handlers are the installed `functions` package (its parent folder plays Lambda's task root);
each function is imported once, like a warm execution environment, and imported again when the
platform's spec changes (another deployment: a cold start)."""

from __future__ import annotations

import contextlib
import importlib
import io
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.metrics.provider import cold_start

import functions
from modelwatch.catalog.functions import FUNCTIONS
from modelwatch.data_access.platform import current_platform

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


_SKIPPED_BY_CLOUDWATCH = "This metric doesn't meet the requirements and will be skipped by Amazon CloudWatch"
_loaded_with: dict[str, str] = {}  # function -> the spec its module was imported with
# (platform, function) pairs that have started an execution environment: a stack's first call of
# each function is its cold start. Powertools keeps one cold-start flag per process, and here
# every function shares this one, so the flag is raised again for each new environment (or the
# first function called in a process would take every cold start of every stack after it).
_started: set[tuple[int, str]] = set()


def _handler_module(function: str) -> ModuleType:
    name = FUNCTIONS[function].handler.rsplit(".", 1)[0]
    spec_path = current_platform().settings.spec_path
    module = importlib.import_module(name)
    if _loaded_with.setdefault(function, spec_path) != spec_path:
        module = importlib.reload(module)  # the handler binds its deployment's spec at import
        _loaded_with[function] = spec_path
    return module


def load_handler(function: str):
    """The function's handler, imported as Lambda would from the task root."""
    return _handler_module(function).handler


def invoke(function: str, event: dict[str, Any]) -> Invocation:
    handler = load_handler(function)
    environment = (id(current_platform()), function)
    if environment not in _started:
        _started.add(environment)
        cold_start.reset_cold_start_flag()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
        # A metric stamped with the simulated clock (days from the wall clock) is one CloudWatch
        # would skip, and Powertools says so; the local store stamps every datapoint itself.
        warnings.filterwarnings("ignore", message=_SKIPPED_BY_CLOUDWATCH)
        context = LambdaContext(
            function_name=f"modelwatch-{function}", memory_limit_in_mb=FUNCTIONS[function].memory_mb
        )
        result = handler(event, context)
    return Invocation(result, [line for line in buffer.getvalue().splitlines() if line.strip()])
