"""An embedded stack (moto + the functions' own code) with the demo model published."""

from __future__ import annotations

import warnings

import pytest

from modelwatch_local.stack import LocalStack


@pytest.fixture(scope="module")
def stack():
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    local = LocalStack()
    local.publish_demo_model("v1")
    yield local
    local.stop()


GOOD = {"age": 35, "income": 42000.5, "score": 700, "category": "a", "region": "north"}
