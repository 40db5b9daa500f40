"""`modelwatch serve`: the API on 127.0.0.1, through the functions' own handlers on the embedded
stack. Each HTTP request becomes the API Gateway v2 event the Lambda would get, invoked on the
request's own thread: concurrent requests run concurrently, each in an execution environment of its
own, as Lambda runs them (modelwatch_local.lambda_runtime)."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO

from modelwatch.catalog import layout
from modelwatch.catalog.functions import API_ROUTES
from modelwatch.serving.current_model import ModelUnavailableError
from modelwatch_local import lambda_api
from modelwatch_local.apigw import http_event, response_parts
from modelwatch_local.capture_mirror import CaptureMirror
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack

# The API's routes, as the function catalogue declares them (every route is a POST).
ROUTES = {("POST", route): function.name for route, function in API_ROUTES.items()}
MAX_READ = 16 << 20  # API Gateway's payload limit is 10 MB; read a little past it, then refuse
# The local server's own route, answered without a function: the deployed API has none (API
# Gateway is the platform's health), but a script or a container probe waiting for `serve` needs one.
HEALTH = ("GET", "/health")
JSON = {"Content-Type": "application/json"}


class _ApiServer(ThreadingHTTPServer):
    # socketserver's default backlog of 5 resets connections when a dozen clients connect at once.
    request_queue_size = 128
    daemon_threads = True


def api_server(stack: LocalStack, log: Callable[[str], None], port: int = 0) -> ThreadingHTTPServer:
    """The API on 127.0.0.1:`port` (0: any free port) over `stack`; `log` gets a line per request.
    Requests are answered concurrently, and a caller may invoke functions beside it."""
    return _ApiServer(("127.0.0.1", port), _make_handler(stack, log))


def _make_handler(stack: LocalStack, log: Callable[[str], None]) -> type[BaseHTTPRequestHandler]:
    class ApiHandler(BaseHTTPRequestHandler):
        server_version = "modelwatch-local"

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self, method: str) -> None:
            started = time.perf_counter()
            function = ROUTES.get((method, self.path.split("?")[0]))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, MAX_READ)) if length else b""
            if function is None and (method, self.path.split("?")[0]) == HEALTH:
                status, headers, data = _health(stack)
            elif function is None and lambda_api.handles(self.path):
                status, headers, data = lambda_api.answer(stack, method, self.path, body)
            elif function is None:
                status, headers, data = 404, JSON, b'{"message":"Not Found"}'
            else:
                event = http_event(method, self.path, dict(self.headers.items()), body, self.client_address[0])
                invocation = stack.invoke(function, event)
                stack.deliver_capture(function, invocation.stdout)
                status, headers, data = response_parts(invocation.result)
            self._answer(status, headers, data)
            log(f"{method} {self.path} {status} {(time.perf_counter() - started) * 1000:.1f} ms")

        def do_POST(self) -> None:
            self._route("POST")

        def do_GET(self) -> None:
            self._route("GET")

        def log_message(self, format: str, *args: object) -> None:  # replaced by the one-line log above
            pass

    return ApiHandler


def _line_writer(stream: TextIO) -> Callable[[str], None]:
    """Whole lines from concurrent request threads: print() writes a line and its newline in two
    calls, and two threads' lines ran together on one line of the log."""
    lock = threading.Lock()

    def write(line: str) -> None:
        with lock:
            stream.write(line + "\n")
            stream.flush()

    return write


def _health(stack: LocalStack) -> tuple[int, dict[str, str], bytes]:
    """200 with the version /predict serves (the registry's pointer, which the predict function
    follows), or 503 while there is none."""
    try:
        version = stack.registry.current_version()
    except ModelUnavailableError as error:
        return 503, JSON, json.dumps({"status": "unavailable", "message": str(error)}).encode()
    return 200, JSON, json.dumps({"status": "ok", "model_version": version}).encode()


def serve(
    port: int,
    model_dir: Path | None,
    spec: Path,
    out=sys.stdout,
    err=sys.stderr,
    capture_dir: Path | None = None,
) -> int:
    """`capture_dir`: where the capture objects are copied as they are filed, under their keys."""
    # Requests arrive in real time: the stack's clock runs with the wall clock, and the delivery
    # stream writes its buffer when its interval has passed, as deployed.
    stack = LocalStack(spec, clock=MovableClock(real_time=True))
    mirror = None if capture_dir is None else CaptureMirror(stack, capture_dir)
    if mirror is not None:
        stack.delivery_listeners.append(mirror.delivered)
    stack.run_delivery_timer()
    try:
        if model_dir is None:
            print("training the demo model ...", file=err, flush=True)
            manifest = stack.publish_demo_model("demo-1")
        else:
            manifest = stack.publish_model_dir(model_dir)
        server = api_server(stack, _line_writer(err), port)
        host, bound = server.server_address[:2]
        print(
            f"ModelWatch API on http://{host}:{bound}  "
            f"(model {manifest.version}: POST /predict, POST /feedback, GET /health)",
            file=out,
            flush=True,
        )
        print("Ctrl-C to stop", file=out, flush=True)

        def stop(signum: int, frame: object) -> None:
            # Our own handler: a process started in the background by a shell inherits SIGINT as
            # ignored and gets no KeyboardInterrupt. shutdown() waits for the serving loop, so it
            # runs beside it; the loop then returns normally.
            threading.Thread(target=server.shutdown, daemon=True).start()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            server.server_close()
        stack.flush_deliveries()  # what the delivery stream still buffers, as at its next interval
        captured = len(stack.objects(layout.CAPTURE.prefix, bodies=False))
        if mirror is None:
            print(f"stopped; {captured} capture objects were written to the in-memory S3", file=out, flush=True)
        else:
            # Once more: an object filed while a listener was still copying, or by a retry, is
            # not missed, and the folder holds the bucket's last state.
            mirror.sync()
            print(f"stopped; {mirror.files} capture objects were written to {capture_dir}", file=out, flush=True)
        return 0
    finally:
        stack.stop()
