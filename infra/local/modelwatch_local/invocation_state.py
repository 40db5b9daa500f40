"""What the functions keep per process, kept per invocation: in Lambda a process (an execution
environment) runs one invocation at a time, so Python's stdout and a few of Powertools' own
variables may hold one invocation's state; the local runtime runs invocations concurrently in one
process (modelwatch_local.lambda_runtime), so each of them is made to read and write its own.

- stdout: routed to the output of the invocation running in the writing thread (`print`,
  Powertools' EMF, the capture lines), and the stream Powertools Logger's handler bound when it
  was made is routed the same way.
- Powertools' metrics cold-start flag (`cold_start.is_cold_start`: one per process, read and
  lowered by `log_metrics` at the end of the handler): with one flag, a warm invocation ending
  beside an environment's first would take its ColdStart document.
- Powertools' event handler's current event and Lambda context: `resolve` puts them on the
  `BaseRouter` class, shared by every resolver in the process; two API invocations at once would
  each route and validate whichever request came last.

Each is a context variable: an invocation runs in its caller's thread, and a thread starts with a
context of its own. Outside the runtime's invocations each behaves as Powertools' own does (a
process-wide flag; the last event a resolver was given, per thread). The Powertools parts depend
on its internals (3.x); `install` checks they are where it expects them, and the concurrency
tests check the result.
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import threading
from abc import ABCMeta
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, TextIO

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.metrics.provider import cold_start

# -- output ---------------------------------------------------------------------------------------
_output: contextvars.ContextVar[io.StringIO | None] = contextvars.ContextVar("invocation_output", default=None)


class InvocationOutput:
    """A stream that writes to the output of the invocation running in the writer's context, and
    outside invocations to the stream it stands in for. (contextlib.redirect_stdout swaps the one
    sys.stdout of every thread at once.)"""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def _target(self) -> TextIO:
        buffer = _output.get()
        return self.stream if buffer is None else buffer

    def write(self, text: str) -> int:
        return self._target().write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        self._target().writelines(lines)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno ...: the stream's own
        return getattr(self.stream, name)


_stdout_lock = threading.Lock()


def route_stdout() -> None:
    """`sys.stdout` as an InvocationOutput over whatever it is now. Called before every invocation:
    whoever replaced it since (pytest between tests, a caller's redirect_stdout) gets wrapped too."""
    if isinstance(sys.stdout, InvocationOutput):
        return
    with _stdout_lock:
        if not isinstance(sys.stdout, InvocationOutput):
            sys.stdout = InvocationOutput(sys.stdout)


def route_logging(module: ModuleType) -> None:
    """Powertools Logger's stream handler writes to the stream it found when the service's first
    Logger was made (perhaps before any invocation), not to `sys.stdout` at each line: that stream
    is wrapped, so a line reaches the invocation that logged it, as it reaches that invocation's
    log stream in Lambda."""
    for value in list(vars(module).values()):
        if isinstance(value, Logger):
            handler = value.registered_handler
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler.stream, InvocationOutput):
                handler.setStream(InvocationOutput(handler.stream))


# -- Powertools' metrics cold-start flag ------------------------------------------------------------
_cold_start: contextvars.ContextVar[bool | None] = contextvars.ContextVar("cold_start", default=None)


class _ColdStartPerInvocation(ModuleType):
    """The `cold_start` module, whose `is_cold_start` is the running invocation's flag (its own
    module-wide value outside invocations, which `reset_cold_start_flag` still sets)."""

    @property
    def is_cold_start(self) -> bool:
        flag = _cold_start.get()
        return bool(self.__dict__["is_cold_start"]) if flag is None else flag

    @is_cold_start.setter
    def is_cold_start(self, value: bool) -> None:
        if _cold_start.get() is None:
            self.__dict__["is_cold_start"] = value
        else:
            _cold_start.set(value)


# -- Powertools' event handler: the current event and Lambda context ----------------------------------
_ROUTER_STATE = ("current_event", "lambda_context")
_router_values: dict[str, contextvars.ContextVar[Any]] = {
    name: contextvars.ContextVar(f"router_{name}") for name in _ROUTER_STATE
}


def _router_property(name: str) -> property:
    variable = _router_values[name]

    def get(_: object) -> Any:
        try:
            return variable.get()
        except LookupError:  # as the class attribute it replaces: none before the first resolve
            raise AttributeError(name) from None

    def put(_: object, value: Any) -> None:
        variable.set(value)

    return property(get, put)


class _RouterStatePerInvocation(ABCMeta):
    """BaseRouter's metaclass, so that `BaseRouter.current_event = ...` (on the class, as
    `resolve` writes it) sets the running context's value instead of the class's."""

    current_event = _router_property("current_event")
    lambda_context = _router_property("lambda_context")


# -- installing -----------------------------------------------------------------------------------
_installed = False


def install() -> None:
    """Make the Powertools state above per invocation (once per process)."""
    global _installed
    if _installed:
        return
    if "is_cold_start" not in vars(cold_start) or type(BaseRouter) is not ABCMeta:
        raise RuntimeError("Powertools' cold-start flag or event handler is not where the local runtime expects it")
    for name in _ROUTER_STATE:
        earlier = vars(BaseRouter).get(name)
        if earlier is not None:  # an event resolved before, outside the runtime: it stays this thread's
            _router_values[name].set(earlier)
    cold_start.__class__ = _ColdStartPerInvocation
    for name in _ROUTER_STATE:
        setattr(BaseRouter, name, _router_property(name))  # read and written through instances
    BaseRouter.__class__ = _RouterStatePerInvocation  # written through the class
    _installed = True


@contextmanager
def invocation(output: io.StringIO, cold: bool) -> Iterator[None]:
    """The scope of one invocation in this thread: what it prints goes to `output`, and its
    cold-start flag is `cold`. The event handler's state is set by `resolve` itself."""
    printed, flag = _output.set(output), _cold_start.set(cold)
    try:
        yield
    finally:
        _cold_start.reset(flag)
        _output.reset(printed)
