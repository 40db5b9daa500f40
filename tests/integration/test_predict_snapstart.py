"""The predict function under SnapStart: the model is loaded before the snapshot, and a restored
environment checks the registry pointer before it answers, however old the snapshot."""

from __future__ import annotations

from modelwatch.data_access.platform import Platform, install_platform
from modelwatch_local import snapstart
from modelwatch_local.lambda_runtime import load_handler
from tests.integration.conftest import GOOD


def _fresh_platform(stack) -> Platform:
    """A new execution environment: nothing loaded, same AWS."""
    fresh = Platform(stack.environment, stack.clock)
    fresh._clients = stack.platform._clients
    install_platform(fresh)
    return fresh


def test_the_snapshot_holds_the_loaded_model(stack):
    load_handler("predict")
    from functions.predict.handler import _current_model

    fresh = _fresh_platform(stack)
    try:
        snapstart.take_snapshot()
        loaded = _current_model(fresh)._served
        assert loaded is not None and loaded.manifest.version == stack.registry.current_version()
    finally:
        install_platform(stack.platform)


def test_a_restored_environment_serves_what_was_promoted_after_the_snapshot(stack):
    load_handler("predict")
    serving = stack.registry.current_version()
    _fresh_platform(stack)
    try:
        snapstart.take_snapshot()
        stack.publish_demo_model("v-after-snapshot", seed=61)  # promoted while the snapshot waits
        stack.clock.advance(1)  # well inside the pointer's TTL
        snapstart.restore()
        result = stack.call("predict", "POST", "/predict", {"features": GOOD})
        assert result.status == 200, result.body
        assert result.body["predictions"][0]["model_version"] == "v-after-snapshot"
    finally:
        install_platform(stack.platform)
        stack.registry.promote(serving)


def test_a_snapshot_before_any_model_is_published_still_succeeds(stack, caplog):
    # The functions' logger level is process-wide and set by whoever configured it first (the
    # demo story sets POWERTOOLS_LOG_LEVEL=CRITICAL for its own run): the warning is asked for here.
    caplog.set_level("WARNING", logger=stack.platform.spec.metrics.service)
    load_handler("predict")
    serving = stack.registry.current_version()
    _fresh_platform(stack)
    stack.platform.client("ssm").delete_parameter(Name=stack.platform.settings.pointer_parameter)  # a first deploy
    try:
        snapstart.take_snapshot()  # must not fail the version's publication
        assert any("no model to load before the snapshot" in r.getMessage() for r in caplog.records)
        stack.registry.promote(serving)
        snapstart.restore()
        result = stack.call("predict", "POST", "/predict", {"features": GOOD})
        assert result.status == 200 and result.body["predictions"][0]["model_version"] == serving
    finally:
        install_platform(stack.platform)
        stack.registry.promote(serving)
