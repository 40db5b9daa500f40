"""Request attributes on the local stack: POST /predict takes a client id beside the features
(a bad one is a 422 naming the field and the rule, quarantined, never a 5xx), the capture keeps
it apart from the features, and a segment by it flags the one client whose inputs shifted, in
the drift function's drift.json, while the model never saw it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from modelwatch.catalog import layout
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.training.publish import build_model_folder
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT
from tests.integration.conftest import GOOD

START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
CLIENTS = ("acme", "zen", "kite")
CLIENT_SHARES = (0.5, 0.3, 0.2)
# The demo spec declares the client_id attribute (64 characters at most); this adds a segment by it.
BY_CLIENT = """
[[segments]]
name = "by_client"
by = ["client_id"]
max_values = 5
"""


def _with_clients(frame: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """The demo's training rows with the client each came from: the baseline then holds a slice
    per client (training data exported with the id of the application that made each request)."""
    rows = len(frame["age"])
    client = np.random.default_rng(seed).choice(np.array(CLIENTS, dtype=object), rows, p=CLIENT_SHARES)
    return frame | {"client_id": client}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("attributes")


@pytest.fixture(scope="module")
def stack(folder: Path) -> LocalStack:
    spec_path = folder / "monitoring.toml"
    spec_path.write_text((ROOT / "monitoring.toml").read_text() + BY_CLIENT)
    local = LocalStack(spec_path, clock=MovableClock(START))
    try:
        spec = local.platform.spec
        model = build_model_folder(
            spec,
            "v1",
            _with_clients(demo_frame(6000, 11), 1),
            _with_clients(demo_frame(3000, 12), 2),
            local.clock(),
        )
        model.write(folder / "model")
        local.publish_model_dir(folder / "model")
        yield local
    finally:
        local.stop()


def test_the_baseline_holds_a_slice_per_client_and_no_client_feature(stack, folder):
    baseline = json.loads((folder / "model" / "baseline.json").read_text())
    assert "client_id" not in baseline["columns"]
    assert set(baseline["segments"]["by_client"]["keys"]) == set(CLIENTS)


@pytest.mark.parametrize(
    ("attributes", "field", "rule"),
    [
        ({"tenant": "acme"}, "attributes.tenant", "extra_forbidden"),
        ({"client_id": 42}, "attributes.client_id", "string_type"),
        ({"client_id": "x" * 65}, "attributes.client_id", "string_too_long"),
        ("acme", "attributes", "model_attributes_type"),
    ],
)
def test_a_bad_attribute_is_a_422_naming_the_field_and_rule_and_is_quarantined(stack, attributes, field, rule):
    result = stack.call("predict", "POST", "/predict", {"features": GOOD, "attributes": attributes})
    assert result.status == 422, result.body
    assert [(e["field"], e["rule"]) for e in result.body["errors"]] == [(field, rule)]
    stack.flush_deliveries()
    quarantined = [
        json.loads(line) for body in stack.objects("quarantine/").values() for line in body.splitlines() if line
    ]
    assert any(field in {e["field"] for e in record["errors"]} for record in quarantined)


def test_the_capture_keeps_the_attributes_beside_the_features(stack):
    result = stack.call("predict", "POST", "/predict", {"features": GOOD, "attributes": {"client_id": "acme"}})
    assert result.status == 200, result.body
    (prediction,) = result.body["predictions"]
    stack.flush_deliveries()
    captured = [
        json.loads(line) for body in stack.objects("capture/model_version=v1/").values() for line in body.splitlines()
    ]
    (mine,) = [c for c in captured if c["request_id"] == prediction["request_id"]]
    assert mine["attributes"] == {"client_id": "acme"}
    assert "client_id" not in mine["features"]


def _send_clients_traffic(stack: LocalStack, version: str) -> dict:
    """An hour in which each client sends its own batches, kite's customers 15 years older; the
    drift function's 1h drift.json after it."""
    stack.clock.advance(600)
    rows = {"acme": 1500, "zen": 900, "kite": 600}
    for seed, (client, count) in enumerate(rows.items(), start=40):
        frame = demo_frame(count, seed)
        if client == "kite":
            frame["age"] = np.clip(frame["age"] + 15, 18, 100)
        for first in range(0, count, 100):
            body = {"instances": demo_records(frame, range(first, first + 100)), "attributes": {"client_id": client}}
            result = stack.call("predict", "POST", "/predict", body)
            assert result.status == 200, result.body
    stack.clock.advance(3600)
    end = stack.clock().replace(minute=0, second=0, microsecond=0)
    stack.run_drift(end)
    (document,) = [
        json.loads(body)
        for key, body in stack.objects(layout.REPORTS.prefix).items()
        if key.startswith(f"{layout.REPORTS.prefix}{version}/1h/") and key.endswith("drift.json")
    ]
    return document


def _by_client(document: dict) -> dict[str, dict]:
    assert "client_id" not in {f["name"] for f in document["features"]}  # the model never read it
    return {s["values"]["client_id"]: s for s in document["segments"] if s["segment"] == "by_client"}


def test_a_segment_by_client_flags_the_one_client_whose_inputs_shifted(stack):
    """The drift function's segment by client_id names kite, and kite alone, with age, each
    client judged against its own slice of the baseline."""
    document = _send_clients_traffic(stack, "v1")
    by_client = _by_client(document)
    assert set(by_client) >= set(CLIENTS)
    assert document["segment_drift"] is True
    assert "age" in by_client["kite"]["drifted_features"], by_client["kite"]
    assert by_client["kite"]["values"] == {"client_id": "kite"} and by_client["kite"]["current_rows"] == 600
    assert not by_client["acme"]["drifted_features"] and not by_client["zen"]["drifted_features"]
    assert by_client["kite"]["reference_rows"] < document["reference_rows"]  # kite's own slice of the baseline


def test_without_client_ids_in_the_training_data_each_client_is_judged_against_the_whole_baseline(tmp_path):
    """The demo model trained on rows without a client id: its baseline has no slice per client,
    so each client's window is judged against the whole baseline, and kite is still named."""
    spec_path = tmp_path / "monitoring.toml"
    spec_path.write_text((ROOT / "monitoring.toml").read_text() + BY_CLIENT)
    stack = LocalStack(spec_path, clock=MovableClock(START))
    try:
        # v2: the module's stack, in the same in-process AWS, holds v1 (a version is written once).
        stack.publish_demo_model("v2")
        document = _send_clients_traffic(stack, "v2")
    finally:
        stack.stop()
    by_client = _by_client(document)
    assert set(by_client) >= set(CLIENTS)
    assert "age" in by_client["kite"]["drifted_features"], by_client["kite"]
    assert not by_client["acme"]["drifted_features"] and not by_client["zen"]["drifted_features"]
    assert all(by_client[c]["reference_rows"] == document["reference_rows"] for c in CLIENTS)
