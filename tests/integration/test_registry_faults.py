"""The registry misbehaving under a warm predict function: SSM throttling or not answering, S3
slowing down, answering SlowDown or timing out, alone and together. Every answer is a 200 within
2 s from the last good model; once the registry recovers, the promoted version is served.

The faults sit in front of moto on the function's own request-path clients, so botocore's
retries, backoff and read timeouts are the ones deployed; a service that does not answer holds
the call for the client's read timeout, in real time."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from modelwatch.data_access.platform import REQUEST_PATH_BUDGET
from modelwatch_local.faults import SLOW_DOWN, THROTTLED, Fault, InjectedFaults, LateAnswer, NoAnswer
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT
from tests.integration.conftest import GOOD

ANSWER_WITHIN_SECONDS = 2.0
REQUESTS_PER_SCENARIO = 3  # the first one re-reads the pointer; the others are within its TTL


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(ROOT / "monitoring.toml")
    try:
        local.publish_demo_model("good")
        local.publish_demo_model("next", seed=21, promote=False)
        yield local
    finally:
        local.stop()


@pytest.fixture
def serving_good_with_next_promoted(stack: LocalStack) -> LocalStack:
    """A warm function serving "good", and "next" promoted: the next pointer check loads it from S3."""
    stack.registry.promote("good")
    assert [version for _, _, version in _serve(stack)] == ["good"] * REQUESTS_PER_SCENARIO
    stack.registry.promote("next")
    return stack


def _always(fault: Fault):
    return lambda request: fault


def _first_of_each_call(fault: Fault):
    """The first attempt of each call fails; botocore's retry gets through."""
    failed: set[int] = set()

    def decide(request) -> Fault | None:
        if id(request) in failed:
            return None
        failed.add(id(request))
        return fault

    return decide


SCENARIOS = {
    "ssm throttling": {("ssm", "GetParameter"): _always(THROTTLED)},
    "ssm not answering": {("ssm", "GetParameter"): _always(NoAnswer())},
    "s3 slow down": {("s3", "GetObject"): _always(SLOW_DOWN)},
    "s3 timing out": {("s3", "GetObject"): _always(NoAnswer())},
    "s3 answering late": {("s3", "GetObject"): _always(LateAnswer(0.6))},
    "ssm slow and s3 timing out": {
        ("ssm", "GetParameter"): _first_of_each_call(NoAnswer()),
        ("s3", "GetObject"): _always(NoAnswer()),
    },
}


def _served_model(stack: LocalStack):
    """The warm predict function's current model (one per platform)."""
    import functions.predict.handler as predict

    return predict._current_model(stack.platform)


def _serve(stack: LocalStack) -> list[tuple[int, float, str | None]]:
    stack.clock.advance(stack.platform.spec.serving.pointer_ttl_seconds + 1)
    answers = []
    for _ in range(REQUESTS_PER_SCENARIO):
        started = time.perf_counter()
        result = stack.call("predict", "POST", "/predict", {"features": GOOD}, deliver_capture=False)
        elapsed = time.perf_counter() - started
        version = result.body["predictions"][0]["model_version"] if result.status == 200 else None
        answers.append((result.status, elapsed, version))
    return answers


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_faulty_registry_keeps_the_last_good_model_serving_in_time(serving_good_with_next_promoted, scenario):
    stack = serving_good_with_next_promoted
    faults = [
        InjectedFaults(stack.platform.client(service, request_path=True), operation, decide)
        for (service, operation), decide in SCENARIOS[scenario].items()
    ]
    try:
        answers = _serve(stack)
        _served_model(stack).join_refresh()  # the refresh the faults held up ends before they do
    finally:
        for fault in faults:
            fault.remove()
    assert sum(sum(f.injected.values()) for f in faults) > 0
    if scenario == "ssm throttling":  # one pointer read: as many attempts as the budget says, no more
        assert faults[0].injected == {"ThrottlingException": REQUEST_PATH_BUDGET.attempts}
    assert all(status == 200 for status, _, _ in answers), answers
    assert max(elapsed for _, elapsed, _ in answers) < ANSWER_WITHIN_SECONDS, answers
    if scenario != "s3 answering late":  # slow but within the read timeout: "next" may load in time
        assert [version for _, _, version in answers] == ["good"] * REQUESTS_PER_SCENARIO, answers
    # The registry answers again: the next pointer check loads the promoted version.
    assert [version for _, _, version in _serve(stack)][-1] == "next"
