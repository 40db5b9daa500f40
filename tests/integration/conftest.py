"""An embedded stack (moto + the functions' own code) with the demo model published."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelwatch.demo.data import demo_records
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def stack():
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    local = LocalStack(ROOT / "monitoring.toml")
    try:
        local.publish_demo_model("v1")
        yield local
    finally:
        local.stop()


GOOD = {"age": 35, "income": 42000.5, "score": 700, "category": "a", "region": "north"}


def stack_with_spec(tmp_path: Path, start: datetime, **retraining: object) -> LocalStack:
    """A stack whose spec's [retraining] section has `retraining` changed (values as TOML text)."""
    text = (ROOT / "monitoring.toml").read_text()
    for key, value in retraining.items():
        text, found = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.MULTILINE)
        if not found:  # a key the demo spec leaves at its default: added to [retraining]
            text = text.replace("\n[retraining]\n", f"\n[retraining]\n{key} = {value}\n", 1)
    spec = tmp_path / "monitoring.toml"
    spec.write_text(text)
    return LocalStack(spec_path=spec, clock=MovableClock(start))


@pytest.fixture
def stack_factory(tmp_path):
    made: list[LocalStack] = []

    def make(**retraining: object) -> LocalStack:
        made.append(stack_with_spec(tmp_path, START, **retraining))
        return made[-1]

    yield make
    for stack in reversed(made):
        stack.stop()


def predict_and_label(stack: LocalStack, frame: dict, rows: range) -> None:
    """Predict `rows` of a demo frame through the API, 100 a request, and send each its true label."""
    for first in range(rows.start, rows.stop, 100):
        batch = range(first, min(first + 100, rows.stop))
        result = stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, batch)})
        assert result.status == 200, result.body
        items = [
            {"request_id": p["request_id"], "label": int(frame["label"][i])}
            for i, p in zip(batch, result.body["predictions"], strict=True)
        ]
        assert stack.call("feedback", "POST", "/feedback", {"items": items}).status == 200


def issued_request_id(stack: LocalStack) -> str:
    """A request id the stack's predict function issued (feedback names only those), one per stack."""
    found = getattr(stack, "_test_issued_request_id", None)
    if found is None:
        result = stack.call("predict", "POST", "/predict", {"features": GOOD})
        assert result.status == 200, result.body
        found = result.body["predictions"][0]["request_id"]
        stack._test_issued_request_id = found
    return found
