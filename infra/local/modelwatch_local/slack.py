"""A Slack incoming webhook stand-in on 127.0.0.1: it keeps every message posted to it, and can
fail the first `failures` posts with a 500 to exercise the notifier's retries, or answer each
post as `outage()` says while Slack is down: a 500, a 429 with Retry-After, or no answer at all
(the post is held past the client's timeout and not kept, as a gateway timing out before Slack)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class SlackDown:
    """How Slack answers one post while it is down."""

    status: int | None  # None: no answer until `hold_seconds` have passed, then the connection closes
    retry_after_seconds: int | None = None
    hold_seconds: float = 0.0


class SlackReceiver:
    def __init__(self, failures: int = 0, outage: Callable[[], SlackDown | None] = lambda: None) -> None:
        self.failures, self.attempts = failures, 0
        self.outage = outage
        self.received: list[dict[str, Any]] = []
        self.refused: dict[str, int] = {}  # how each refused post was answered -> count
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.attempts += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                down = receiver.outage()
                if down is None and receiver.attempts <= receiver.failures:
                    down = SlackDown(500)
                if down is not None:
                    self._refuse(down)
                    return
                receiver.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def _refuse(self, down: SlackDown) -> None:
                answer = "timeout" if down.status is None else str(down.status)
                receiver.refused[answer] = receiver.refused.get(answer, 0) + 1
                if down.status is None:
                    time.sleep(down.hold_seconds)
                    self.close_connection = True
                    return
                self.send_response(down.status)
                if down.retry_after_seconds is not None:
                    self.send_header("Retry-After", str(down.retry_after_seconds))
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass  # no access log on the console

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
