"""One synthesized template per test session (asset bundling skipped: these tests read the
template; the package-size test bundles for real)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


# Every deployment names someone who gets email when the alerting path itself fails.
ON_CALL = {"alertEmails": "oncall@example.com"}


def synthesize(context: dict | None = None, nag: bool = True, bundle: bool = False, outdir: str | None = None):
    import aws_cdk as cdk
    from aws_cdk.assertions import Template
    from cdk_nag import AwsSolutionsChecks

    from modelwatch_infra.stack import build, new_app

    skip = {} if bundle else {"aws:cdk:bundling-stacks": []}
    app = new_app({**skip, **ON_CALL, **(context or {})}, outdir)
    stack = build(app)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()  # raises when cdk-nag reports an unacknowledged finding
    return stack, Template.from_stack(stack), assembly


@pytest.fixture(scope="session")
def synthesized():
    return synthesize()


@pytest.fixture(scope="session")
def template(synthesized):
    return synthesized[1].to_json()


# Every switch of the lean defaults turned the other way (the behaviour before them), in one
# template: X-Ray everywhere, every function's errors and throttles alarmed, a key of its own for
# the inputs, Lambda's platform lines, the full access log. cdk-nag must pass it as well.
SWITCHED = {
    "tracing": "true",
    "traceBackground": "true",
    "alarmEachFunction": "true",
    "separateInputsKey": "true",
    "lambdaPlatformLogs": "true",
    "accessLogFields": "full",
}


@pytest.fixture(scope="session")
def switched():
    return synthesize(SWITCHED)
