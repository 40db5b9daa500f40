"""Faults the demo injects into the local stack, to show the monitoring catch them.

A slowed-down model: every inference takes `delay_ms` longer, as the prediction function's own
clocks measure it (the request's PredictionLatency and the model's ModelLatency both grow). The
delay is added to those clocks rather than slept, so a simulated minute of 200 slow requests
costs no wall time: the function measures what a slow model would give it, and the metrics, the
alarm and the dashboard see exactly that.

A tampered model push: a version published whole (its manifest records the artifact's
SHA-256), whose artifact is then overwritten, as a compromised pipeline or a hand-edited bucket
would do; the serving path must refuse it."""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from modelwatch.serving import onnx_model

# The modules whose `time.perf_counter` times a prediction: the scoring core and the handler.
TIMED_MODULES = ("modelwatch.serving.prediction", "functions.predict.handler")


@contextlib.contextmanager
def slowed_model(delay_ms: float) -> Iterator[None]:
    """While active, each model inference "takes" `delay_ms` more on the function's clocks."""
    offset = [0.0]

    def perf_counter() -> float:
        return time.perf_counter() + offset[0]

    original_run = onnx_model._OnnxGraph._run

    def slow_run(self: Any, records: Any) -> Any:
        result = original_run(self, records)
        offset[0] += delay_ms / 1000
        return result

    clock = SimpleNamespace(perf_counter=perf_counter)
    modules = [importlib.import_module(name) for name in TIMED_MODULES]
    saved = [module.time for module in modules]
    onnx_model._OnnxGraph._run = slow_run  # type: ignore[method-assign]
    try:
        for module in modules:
            module.time = clock  # type: ignore[attr-defined]
        yield
    finally:
        onnx_model._OnnxGraph._run = original_run  # type: ignore[method-assign]
        for module, saved_time in zip(modules, saved, strict=True):
            module.time = saved_time  # type: ignore[attr-defined]


def tamper_artifact(s3: Any, bucket: str, key: str) -> None:
    """Overwrite a published artifact with other bytes: its SHA-256 no longer matches the manifest.
    Deployed, the model bucket's policy refuses this unconditional overwrite; moto does not apply
    bucket policies, so here it stands for a pipeline that uploaded other bytes than it hashed."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=body + b"\x00tampered")
