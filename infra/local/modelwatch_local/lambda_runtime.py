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
