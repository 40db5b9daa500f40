"""Invoke a function's handler in this process the way Lambda does, keeping what it printed."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CODE_ROOT = Path(__file__).resolve().parents[3]  # the repo: Lambda's task root for our functions


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
    environment = {
        "LAMBDA_TASK_ROOT": str(CODE_ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": f"modelwatch-{function}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": f"functions.{function}.handler.handler",
    }
    if trace_header is not None:
        environment["_X_AMZN_TRACE_ID"] = trace_header
    return environment


@dataclass
class Invocation:
    result: Any
    stdout: list[str]


def load_handler(function: str):
    """`functions/<function>/handler.py`'s `handler`, imported as Lambda would from the task root."""
    if str(CODE_ROOT) not in sys.path:
        sys.path.insert(0, str(CODE_ROOT))
    return importlib.import_module(f"functions.{function}.handler").handler


def invoke(function: str, event: dict[str, Any]) -> Invocation:
    handler = load_handler(function)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        result = handler(event, LambdaContext(function_name=f"modelwatch-{function}"))
    return Invocation(result, [line for line in buffer.getvalue().splitlines() if line.strip()])
