"""The catalogues hold what the functions really do: on the local stack, every metric a function
emits is in the metric catalogue with its unit and dimensions and names that function as its
emitter, and every object a function writes lies in an area the function catalogue grants it."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from modelwatch.alerts.consumed import sent_metric_names
from modelwatch.catalog.functions import FUNCTIONS
from modelwatch.catalog.layout import DEFAULT_MODEL_PREFIX
from modelwatch.catalog.metrics import metric_named
from modelwatch.demo.data import demo_frame
from modelwatch_local.slack import SlackReceiver
from tests.integration.conftest import GOOD, predict_and_label


def _record(stack) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    """EMF documents and written keys, per function, for every invocation from now on."""
    emitted: dict[str, list[dict]] = defaultdict(list)
    written: dict[str, list[str]] = defaultdict(list)
    running: list[str] = []
    invoke, s3 = stack.invoke, stack.s3
    put_object, copy_object = s3.put_object, s3.copy_object

    def recording_invoke(function: str, event: Any):
        running.append(function)
        try:
            invocation = invoke(function, event)
        finally:
            running.pop()
        emitted[function] += [json.loads(line) for line in invocation.stdout if '"_aws"' in line]
        return invocation

    def recording_put(**kwargs: Any):
        if running:
            written[running[-1]].append(kwargs["Key"])
        return put_object(**kwargs)

    def recording_copy(**kwargs: Any):
        if running:
            written[running[-1]].append(kwargs["Key"])
        return copy_object(**kwargs)

    stack.invoke, s3.put_object, s3.copy_object = recording_invoke, recording_put, recording_copy
    return emitted, written


def test_what_the_functions_emit_and_write_is_in_their_catalogues(stack_factory):
    stack = stack_factory(min_rows=200)
    stack.publish_demo_model("v1")
    slack = SlackReceiver()
    stack.connect_slack(slack.url)
    emitted, written = _record(stack)
    try:
        frame = demo_frame(400, 5, drift=0.9)
        for hour in range(2):
            stack.clock.advance(3600)
            predict_and_label(stack, frame, range(hour * 200, (hour + 1) * 200))
        stack.call("predict", "POST", "/predict", {"features": {**GOOD, "age": "old"}})  # a 422
        stack.call("feedback", "POST", "/feedback", b"{", headers={"content-type": "application/json"})
        stack.clock.advance(3600)
        stack.run_drift()
        stack.evaluate_alarms()
        stack.run_retraining("manual", name="catalogue-check")
        # The approval function runs only with approval = "manual": its callback task, as the
        # state machine invokes it (modelwatch.jobs.retraining_approval).
        stack.invoke(
            "approval",
            {
                "run_id": "catalogue-check",
                "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:local:catalogue-check",
                "task_token": "token",
                "timeout_seconds": 3600,
                "stack_name": "modelwatch-local",
                "topic_arn": stack.alerts_topic,
                "notice": {"modelwatch_retraining": {"outcome": "awaiting_approval", "run_id": "catalogue-check"}},
            },
        )
    finally:
        slack.close()

    # Every function ran; those whose metrics nothing reads (modelwatch.alerts.consumed) print no
    # document, or only the metrics that are read.
    assert set(emitted) <= set(FUNCTIONS) and {"predict", "capture", "drift", "retrain"} <= set(emitted)
    sent = sent_metric_names(stack.platform.spec)
    seen = set()
    for function, documents in emitted.items():
        for document in documents:
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for entry in directive["Metrics"]:
                    metric = metric_named(entry["Name"])
                    seen.add(metric.name)
                    assert entry.get("Unit", "None") == metric.unit, entry  # no unit: EMF's None
                    assert metric.is_drift_metric or metric.name in sent, metric.name
                    assert function in metric.emitted_by, (function, metric.name)
                    for dimensions in directive["Dimensions"]:
                        assert set(dimensions) == set(metric.dimensions), (metric.name, dimensions)
    # (ColdStart too, but only on a process's first invocation of a function: not asserted here.)
    assert {"PredictionLatency", "Predictions", "DriftScore"} <= seen
    assert {"RetrainingPromote", "RetrainingReject"} & seen  # the manual run's outcome

    for function, keys in written.items():
        definition = FUNCTIONS[function]
        allowed = tuple(DEFAULT_MODEL_PREFIX if a.bucket == "models" else a.prefix for a in definition.writes)
        assert keys and all(key.startswith(allowed) for key in keys), (function, keys, allowed)
    assert {"capture", "drift", "retrain"} <= set(written)
    assert "feedback" not in written  # it logs feedback; the capture function stores it in batches
