"""Retraining with the team's own training code (`[retraining] trainer`), on the embedded stack:
the trainer's model goes through the import's conversion and parity check, and is promoted only
when it is significantly better than the champion."""

from __future__ import annotations

from modelwatch.demo.data import demo_frame
from modelwatch.retraining.trainer import train_with_trainer
from modelwatch_local.stack import LocalStack
from tests.integration.test_retraining import _labelled_traffic, _publish_champion

FIXED = '"tests.integration.trainers.fixed:fit"'
FOREST = '"tests.integration.trainers.forest:fit"'


def test_a_trainer_fitting_a_clearly_better_model_is_promoted(stack_factory):
    stack: LocalStack = stack_factory(min_rows=500, trainer=FOREST)
    _publish_champion(stack, "v1-broken", flip_labels=True)  # mostly wrong: the data shows it
    _labelled_traffic(stack, 1200, seed=41)
    execution = stack.run_retraining("manual", name="run-forest")
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    decision = execution.output["evaluated"]["value"]
    assert decision["outcome"] == "promote", decision
    assert decision["test"]["name"] == "mcnemar_exact" and decision["test"]["pvalue"] < 0.05
    assert decision["challenger"] > 0.6 > decision["champion"]
    assert stack.registry.current_version() == "retrained-run-forest"
    manifest = stack.registry.manifest("retrained-run-forest")
    assert manifest.library_versions["source"] == "Pipeline"  # the trainer's model, converted
    assert manifest.training_rows == 960 and manifest.validation_metrics["accuracy"] > 0.6


def test_a_trainer_returning_the_champions_own_model_is_rejected(stack_factory):
    stack: LocalStack = stack_factory(min_rows=500, trainer=FIXED)
    spec = stack.platform.spec
    # The champion is what this trainer returns, published the way a retraining run publishes it.
    champion = train_with_trainer(
        spec, "tests.integration.trainers.fixed:fit", "v1", demo_frame(100, 1), demo_frame(1000, 22), stack.clock()
    )
    stack.registry.publish(champion)
    stack.registry.promote("v1")
    _labelled_traffic(stack, 1200, seed=42)
    execution = stack.run_retraining("schedule", name="run-fixed")
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    decision = execution.output["evaluated"]["value"]
    assert decision["outcome"] == "reject" and decision["challenger"] == decision["champion"]
    assert decision["test"] == {"statistic": 0.0, "pvalue": 1.0, "name": "mcnemar_exact"}
    assert stack.registry.current_version() == "v1"
    (notice,) = stack.alerts()
    assert notice["modelwatch_retraining"]["outcome"] == "rejected"
    report = stack.objects("retraining/runs/run-fixed/decision.json")["retraining/runs/run-fixed/decision.json"]
    assert b'"outcome": "reject"' in report
