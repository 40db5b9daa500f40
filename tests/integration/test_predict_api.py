"""POST /predict through API Gateway v2 events on the embedded stack."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modelwatch.registry.manifest import sha256_hex
from tests.integration.conftest import GOOD


def test_single_record_is_scored_captured_and_measured(stack):
    result = stack.call("predict", "POST", "/predict", {"features": GOOD})
    assert result.status == 200, result.body
    (prediction,) = result.body["predictions"]
    assert prediction["model_version"] == "v1"
    assert set(prediction["probabilities"]) == {"0", "1"}
    assert prediction["confidence"] == max(prediction["probabilities"].values())
    assert sum(prediction["probabilities"].values()) == pytest.approx(1, abs=1e-5)
    metrics = result.metrics()
    for name in ("PredictionLatency", "Confidence"):
        assert name in metrics, name
    # A clean record: no input-problem counts (they are sent when there are some, below).
    assert not {"MissingValues", "OutOfRange", "UnseenCategory"} & set(metrics)
    assert metrics["Confidence"][0][1] == [prediction["confidence"]]
    ((dimensions, values),) = metrics[f"Predictions.{prediction['prediction']}"]
    assert values == [1.0]
    assert dimensions == {"service": "demo-classifier"}
    # One EMF document per request (besides Powertools' cold-start one), holding nothing per
    # record that the capture line holds (the feature values are read from there), and nothing
    # as a metric that nothing reads: the model's own latency is a property, the version is named
    # by the capture count, and the process's peak memory stands in for Lambda's REPORT line.
    (document,) = [d for d in result.emf() if "ColdStart" not in d]
    assert not [name for name in metrics if name.startswith(("FeatureValue", "ModelLatency"))]
    assert "request_ids" not in document and "model_version" not in document and "CaptureRecordsSent.v1" in metrics
    assert isinstance(document["ModelLatency"], float) and document["max_memory_mb"] > 0
    # Request ids and inputs never become dimensions.
    for series in metrics.values():
        for dims, _ in series:
            assert set(dims) <= {"service", "model_version", "class", "feature", "function_name"}
    stack.flush_deliveries()  # the delivery stream's buffer interval passing
    captured = [
        json.loads(line) for body in stack.objects("capture/model_version=v1/").values() for line in body.splitlines()
    ]
    mine = [c for c in captured if c["request_id"] == prediction["request_id"]]
    assert mine and mine[0]["features"]["age"] == 35.0 and mine[0]["prediction"] == prediction["prediction"]
    assert set(mine[0]) == {
        "request_id",
        "timestamp",
        "model_version",
        "features",
        "prediction",
        "probabilities",
        "confidence",
    }


def test_batch_and_data_quality_signals_are_served_not_rejected(stack):
    odd = GOOD | {"age": 140, "region": "mars", "income": None}
    result = stack.call("predict", "POST", "/predict", {"instances": [GOOD, odd]})
    assert result.status == 200, result.body
    first, second = result.body["predictions"]
    assert first["warnings"] == []
    assert set(second["warnings"]) == {
        "age: outside the allowed range",
        "region: category not in the schema",
        "income: missing",
    }
    metrics = result.metrics()
    # Counted in the request's document; the alarms judge the drift check's hourly rates, so the
    # counts are properties there, not metrics (modelwatch.alerts.consumed).
    (document,) = [d for d in result.emf() if "ColdStart" not in d]
    assert (document["OutOfRange"], document["UnseenCategory"], document["MissingValues"]) == (1, 1, 1)
    assert not {"OutOfRange", "UnseenCategory", "MissingValues"} & set(metrics)
    assert sorted(metrics["Confidence"][0][1]) == sorted([first["confidence"], second["confidence"]])


@pytest.mark.parametrize(
    ("body", "headers", "status", "field", "rule"),
    [
        (b"{not json", None, 400, "body", "json"),
        (b"", None, 400, "body", "required"),
        (
            json.dumps({"features": GOOD}).encode(),
            {"content-type": "text/plain"},
            415,
            "header.content-type",
            "media_type",
        ),
        (b'{"features": {"age": NaN}}', None, 422, "features.age", "finite_number"),
        (b'{"features": {"age": Infinity}}', None, 422, "features.age", "finite_number"),
        ({"features": GOOD | {"age": "old"}}, None, 422, "features.age", "float_type"),
        ({"features": GOOD | {"height": 2}}, None, 422, "features.height", "extra_forbidden"),
        ({"features": {k: v for k, v in GOOD.items() if k != "age"}}, None, 422, "features.age", "missing"),
        ({"instances": []}, None, 422, "instances", "too_short"),
        ({"instances": [GOOD] * 101}, None, 422, "instances", "too_long"),
        ({"features": GOOD, "instances": [GOOD]}, None, 422, "body", "value_error"),
        ({"features": GOOD | {"category": 7}}, None, 422, "features.category", "string_type"),
        ([GOOD], None, 422, "body", "object_type"),
        (b"null", None, 422, "body", "object_type"),
    ],
)
def test_bad_input_names_the_field_and_rule_and_is_quarantined(stack, body, headers, status, field, rule):
    before = len(stack.objects("quarantine/"))
    result = stack.call("predict", "POST", "/predict", body, headers=headers)
    assert result.status == status, result.body
    assert any(e["field"] == field and e["rule"] == rule for e in result.body["errors"]), result.body
    stack.flush_deliveries()  # the delivery stream's buffer interval passing
    quarantined = stack.objects("quarantine/")
    assert len(quarantined) == before + 1
    # Counted by API Gateway's own 4xx metric (the dashboard's); ValidationErrors is no metric by default.
    assert "ValidationErrors" not in result.metrics()


def test_oversize_body_is_413(stack):
    huge = json.dumps({"features": GOOD | {"category": "x" * 2_000_000}}).encode()
    result = stack.call("predict", "POST", "/predict", huge)
    assert result.status == 413
    assert result.body["errors"][0]["rule"] == "max_bytes"


def test_promotion_is_picked_up_after_the_ttl(stack):
    ttl = stack.platform.spec.serving.pointer_ttl_seconds
    assert stack.call("predict", "POST", "/predict", {"features": GOOD}).body["predictions"][0]["model_version"] == "v1"
    stack.publish_demo_model("v2", seed=21)
    # Within the TTL the function keeps the version it has.
    assert stack.call("predict", "POST", "/predict", {"features": GOOD}).body["predictions"][0]["model_version"] == "v1"
    stack.clock.advance(ttl + 1)
    assert stack.call("predict", "POST", "/predict", {"features": GOOD}).body["predictions"][0]["model_version"] == "v2"


def _promote_tampered(stack, version: str) -> None:
    manifest = stack.publish_demo_model(version, seed=31, promote=False)
    bucket = stack.platform.settings.model_bucket
    artifact = stack.s3.get_object(Bucket=bucket, Key=manifest.artifact.key)["Body"].read()
    tampered = artifact[:-1] + bytes([artifact[-1] ^ 1])
    assert sha256_hex(tampered) != manifest.artifact.sha256
    stack.s3.put_object(Bucket=bucket, Key=manifest.artifact.key, Body=tampered)
    stack.registry.promote(version)
    stack.clock.advance(stack.platform.spec.serving.pointer_ttl_seconds + 1)


def test_a_tampered_artifact_is_refused_and_reported(stack):
    serving = stack.call("predict", "POST", "/predict", {"features": GOOD}).body["predictions"][0]["model_version"]
    _promote_tampered(stack, "v3-tampered")
    try:
        result = stack.call("predict", "POST", "/predict", {"features": GOOD})
        # The last verified model keeps serving, and the failure is a metric and a log line.
        assert result.status == 200
        assert result.body["predictions"][0]["model_version"] == serving
        assert "ModelLoadFailed" in result.metrics()
    finally:
        stack.registry.promote(serving)


def test_no_verified_model_at_all_is_503_not_a_traceback(stack):
    from modelwatch.data_access.platform import Platform, install_platform

    serving = stack.registry.current_version()
    _promote_tampered(stack, "v4-tampered")
    fresh = Platform(stack.environment, stack.clock)  # a cold start: nothing loaded yet
    fresh._clients = stack.platform._clients
    install_platform(fresh)
    try:
        result = stack.call("predict", "POST", "/predict", {"features": GOOD})
        assert result.status == 503
        assert result.body["errors"][0]["field"] == "model"
        assert "ModelLoadFailed" in result.metrics()
    finally:
        install_platform(stack.platform)
        stack.registry.promote(serving)


def test_onnx_predictions_equal_scikit_learn_within_1e_5(stack):
    from modelwatch.demo.data import demo_frame
    from modelwatch.serving.onnx_model import OnnxClassifier
    from modelwatch.training.pipeline import feature_matrix, train

    spec = stack.platform.spec
    model = train(spec, demo_frame(4000, 5), demo_frame(1000, 6))
    test = demo_frame(2000, 7)
    records = feature_matrix(spec, test).to_dict("records")
    records[0]["age"] = None  # a missing number goes through the pipeline's imputer
    records[1]["region"] = "mars"  # an unseen category is ignored by the encoder
    served = OnnxClassifier.for_spec(model.onnx_bytes, spec, model.classes)
    frame = feature_matrix(spec, {k: np.array([r[k] for r in records], dtype=object) for k in records[0]})
    expected = model.pipeline.predict_proba(frame)
    np.testing.assert_allclose(served.predict_proba(records), expected, atol=1e-5)


def test_a_missing_artifact_is_reported_not_served(stack, caplog):
    from modelwatch.data_access.platform import Platform, install_platform

    serving = stack.registry.current_version()
    manifest = stack.publish_demo_model("v5-missing", seed=51, promote=False)
    stack.s3.delete_object(Bucket=stack.platform.settings.model_bucket, Key=manifest.artifact.key)
    stack.registry.promote("v5-missing")
    fresh = Platform(stack.environment, stack.clock)
    fresh._clients = stack.platform._clients
    install_platform(fresh)
    try:
        result = stack.call("predict", "POST", "/predict", {"features": GOOD})
        assert result.status == 503 and "ModelLoadFailed" in result.metrics()
        assert any(
            "v5-missing: artifact" in r.getMessage() or "v5-missing: artifact" in str(r.__dict__)
            for r in caplog.records
        )
    finally:
        install_platform(stack.platform)
        stack.registry.promote(serving)


def test_a_replaced_baseline_is_refused_by_the_drift_check(stack_factory):
    """The baseline is hashed in the manifest: a drift check never compares windows with a
    baseline someone replaced (it fails, and the drift function's error alarm says so)."""
    import pytest

    from modelwatch.serving.current_model import ModelUnavailableError

    stack = stack_factory()
    manifest = stack.publish_demo_model("v-hashed")
    assert manifest.baseline_sha256 is not None
    bucket = stack.platform.settings.model_bucket
    stack.s3.put_object(Bucket=bucket, Key=manifest.baseline_key, Body=b'{"rows": 0, "columns": {}}')
    with pytest.raises(ModelUnavailableError, match="baseline SHA-256"):
        stack.run_drift()


def test_a_record_without_its_features_wrapper_is_one_error_saying_to_wrap_it(stack):
    """The fields are right, only the envelope is missing: one 422 naming the rule, not one
    "extra input" per field (and one per missing field of the wrapper)."""
    result = stack.call("predict", "POST", "/predict", dict(GOOD))
    assert result.status == 422, result.body
    (error,) = result.body["errors"]
    assert error["field"] == "body" and error["rule"] == "features_wrapper", error
    assert 'wrapped in "features"' in error["message"] and "age" in error["message"]
    # A body that is no record at all keeps its field-by-field errors.
    other = stack.call("predict", "POST", "/predict", {"colour": "red"})
    assert other.status == 422 and all(e["rule"] != "features_wrapper" for e in other.body["errors"])
