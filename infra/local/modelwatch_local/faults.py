"""Faults put in front of moto on a botocore client: a service that answers an error (S3's 503
SlowDown, SSM's ThrottlingException), answers late, or does not answer until the client's read
timeout. The client's own retry and timeout settings then act as they would against AWS.

A `before-send` handler registered first answers before moto's stubber; botocore parses its
answer as the service's, so retries, backoff and the retry quota are botocore's own. botocore
calls every `before-send` handler, so a refused request is pointed at an address moto does not
serve while moto's handler runs (a refused write must not happen), and put back by a handler
registered last, for the retry."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ReadTimeoutError


@dataclass(frozen=True)
class ErrorAnswer:
    """The service answers this error (in its protocol's format)."""

    status: int
    code: str
    message: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NoAnswer:
    """The service accepts the connection and never answers: the client waits its read timeout."""


@dataclass(frozen=True)
class LateAnswer:
    """The service answers normally after `seconds`."""

    seconds: float


Fault = ErrorAnswer | NoAnswer | LateAnswer
UNSERVED_URL = "https://refused.invalid/"  # matches none of moto's services
SLOW_DOWN = ErrorAnswer(503, "SlowDown", "Please reduce your request rate.")
INTERNAL_ERROR = ErrorAnswer(500, "InternalError", "We encountered an internal error. Please try again.")
THROTTLED = ErrorAnswer(400, "ThrottlingException", "Rate exceeded")


class _RawBody(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:  # what AWSResponse reads its content from
        yield self.getvalue()


def _error_body(protocol: str, error: ErrorAnswer) -> bytes:
    if protocol in ("json", "rest-json"):
        return json.dumps({"__type": error.code, "message": error.message}).encode()
    return f"<Error><Code>{error.code}</Code><Message>{error.message}</Message></Error>".encode()


class InjectedFaults:
    """Answers `operation` calls of `client` with whatever `decide(request)` returns (None: the
    call goes through to moto). Counts the faults it injected; `remove()` takes it out."""

    def __init__(self, client: Any, operation: str, decide: Callable[[AWSPreparedRequest], Fault | None]) -> None:
        self.client, self.decide = client, decide
        self.injected: dict[str, int] = {}
        self._lock = threading.Lock()
        self._event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
        self._protocol = client.meta.service_model.protocol
        self._refused: dict[int, str] = {}  # id of a refused request -> its URL
        client.meta.events.register_first(self._event, self._before_send)
        # On the unqualified event: botocore calls a qualified event's handlers (even its last
        # ones) before the unqualified event's, where moto's stubber is.
        client.meta.events.register_last("before-send", self._restore)

    def remove(self) -> None:
        self.client.meta.events.unregister(self._event, self._before_send)
        self.client.meta.events.unregister("before-send", self._restore)

    def _restore(self, request: AWSPreparedRequest, **_: Any) -> None:
        url = self._refused.pop(id(request), None)
        if url is not None:
            request.url = url

    def _before_send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        fault = self.decide(request)
        if fault is None:
            return None
        with self._lock:
            name = type(fault).__name__ if not isinstance(fault, ErrorAnswer) else fault.code
            self.injected[name] = self.injected.get(name, 0) + 1
        if isinstance(fault, LateAnswer):
            time.sleep(fault.seconds)
            return None
        if isinstance(fault, NoAnswer):
            time.sleep(self.client.meta.config.read_timeout)
            raise ReadTimeoutError(endpoint_url=request.url)
        original = request.url
        with self._lock:
            self._refused[id(request)] = original
        request.url = UNSERVED_URL
        content_type = "application/x-amz-json-1.1" if self._protocol == "json" else "application/xml"
        headers = {"Content-Type": content_type, **dict(fault.headers)}
        body = _RawBody(_error_body(self._protocol, fault))
        return AWSResponse(original, fault.status, headers, body)
