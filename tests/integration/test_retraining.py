"""The retraining state machine on the embedded stack: labelled captures become a challenger,
which is promoted only when it beats the champion on the same recent holdout; every outcome,
failure included, is published on the alerts topic."""

from __future__ import annotations

import numpy as np

from modelwatch.demo.data import demo_frame
from modelwatch.training.publish import build_model_folder
from modelwatch_local.stack import LocalStack
from tests.integration.conftest import predict_and_label


def _publish_champion(stack: LocalStack, version: str, flip_labels: bool) -> None:
    """A champion trained on the demo data; with flipped labels, one that is mostly wrong."""
    train, holdout = demo_frame(3000, 21), demo_frame(1000, 22)
    if flip_labels:
        train, holdout = (frame | {"label": 1 - frame["label"]} for frame in (train, holdout))
    folder = build_model_folder(stack.platform.spec, version, train, holdout, stack.clock())
    stack.registry.publish(folder)
    stack.registry.promote(version)


def _labelled_traffic(stack: LocalStack, rows: int, seed: int) -> None:
    """`rows` predictions over two hours, every one labelled with its true outcome."""
    frame = demo_frame(rows, seed)
    per_hour = rows // 2
    for hour in range(2):
        stack.clock.advance(3600)
        predict_and_label(stack, frame, range(hour * per_hour, (hour + 1) * per_hour))
    stack.clock.advance(3600)  # the last hour is complete: retraining reads whole hours


def test_a_better_challenger_is_promoted_with_its_own_baseline(stack_factory):
    stack = stack_factory(min_rows=500)
    _publish_champion(stack, "v1-broken", flip_labels=True)
    _labelled_traffic(stack, 1200, seed=31)
    execution = stack.run_retraining("manual", name="run-promote")
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.visited[:5] == ["Prepare", "EnoughData", "Train", "Evaluate", "Better"]
    decision = execution.output["evaluated"]["value"]
    assert decision["promote"] is True and decision["champion_version"] == "v1-broken"
    assert decision["challenger"] > 0.6 > decision["champion"]
    assert decision["holdout_rows"] == 240  # the most recent 20% of 1,200 labelled rows
    assert stack.registry.current_version() == "retrained-run-promote"
    manifest = stack.registry.manifest("retrained-run-promote")
    assert manifest.training_rows == 960 and manifest.baseline_key is not None
    # The new version serves at once (the pointer is re-read after its TTL).
    stack.clock.advance(stack.platform.spec.serving.pointer_ttl_seconds + 1)
    served = stack.call(
        "predict",
        "POST",
        "/predict",
        {"features": {"age": 40, "income": 50000.0, "score": 640, "category": "a", "region": "east"}},
    )
    assert served.body["predictions"][0]["model_version"] == "retrained-run-promote"
    (notice,) = stack.alerts()
    assert notice["modelwatch_retraining"]["outcome"] == "promoted"
    assert notice["modelwatch_retraining"]["trigger"] == "manual"
    assert notice["modelwatch_retraining"]["decision"]["challenger_version"] == "retrained-run-promote"


def test_a_challenger_that_does_not_beat_the_champion_is_kept_out(stack_factory):
    stack = stack_factory(min_rows=500, min_improvement=0.2)
    _publish_champion(stack, "v1", flip_labels=False)
    _labelled_traffic(stack, 1200, seed=32)
    execution = stack.run_retraining("schedule", name="run-reject")
    assert execution.status == "SUCCEEDED"
    decision = execution.output["evaluated"]["value"]
    assert decision["promote"] is False, decision
    assert decision["outcome"] == "reject" and decision["reason"].startswith(("too small", "not significant"))
    assert stack.registry.current_version() == "v1"
    assert "retrained-run-reject" in {m.version for m in [stack.registry.manifest("retrained-run-reject")]}
    (notice,) = stack.alerts()
    assert notice["modelwatch_retraining"]["outcome"] == "rejected"


def test_too_few_labelled_rows_train_nothing(stack_factory):
    stack = stack_factory()  # min_rows 1000
    _publish_champion(stack, "v1", flip_labels=False)
    _labelled_traffic(stack, 400, seed=33)
    execution = stack.run_retraining("RetrainOnDrift", name="run-few")
    assert execution.status == "SUCCEEDED"
    assert "Train" not in execution.visited
    (notice,) = stack.alerts()
    assert notice["modelwatch_retraining"]["outcome"] == "not_enough_data"
    assert notice["modelwatch_retraining"]["prepared"]["rows"] == 400
    assert stack.registry.current_version() == "v1"


def test_a_failing_step_fails_the_execution_and_says_so(stack_factory, monkeypatch):
    from modelwatch.jobs import challenger_training

    stack = stack_factory(min_rows=500)
    _publish_champion(stack, "v1", flip_labels=False)
    _labelled_traffic(stack, 1200, seed=34)

    def broken(*args):
        raise RuntimeError("training ran out of memory")

    monkeypatch.setattr(challenger_training, "build_model_folder", broken)
    execution = stack.run_retraining("manual", name="run-fail")
    assert execution.status == "FAILED" and execution.error == "RetrainingFailed"
    (notice,) = stack.alerts()
    assert notice["modelwatch_retraining"]["outcome"] == "failed"
    assert notice["modelwatch_retraining"]["error"] == {"Error": "RuntimeError", "Cause": "training ran out of memory"}
    assert stack.registry.current_version() == "v1"
    # A failed run lets go of the lock: the next trigger runs.
    assert execution.visited[-2:] == ["ReleaseAfterFailure", "Failed"]
    assert "Train" in stack.run_retraining("manual", name="run-after").visited


def test_training_rows_come_from_captures_joined_with_their_labels(stack_factory):
    from modelwatch.retraining.tables import from_parquet

    stack = stack_factory(min_rows=500)
    _publish_champion(stack, "v1", flip_labels=False)
    _labelled_traffic(stack, 1000, seed=35)
    execution = stack.run_retraining("manual", name="run-rows")
    assert execution.output["prepared"]["value"]["rows"] == 1000
    spec = stack.platform.spec
    train = from_parquet(
        stack.objects("retraining/runs/run-rows/train.parquet")["retraining/runs/run-rows/train.parquet"],
        spec.numeric_features,
    )
    frame = demo_frame(1000, 35)
    assert len(train["age"]) == 800
    np.testing.assert_array_equal(np.sort(train["age"]), np.sort(frame["age"][:800]))
    assert sorted(set(train["label"])) == ["0", "1"]


def test_a_window_over_max_training_rows_is_sampled_from_every_hour(stack_factory):
    """600 labelled predictions over four hours, at most 200 kept: the run's sample has 200 rows
    (train and holdout), drawn from every hour, however many the window holds."""
    from modelwatch.jobs.retraining_job import RetrainingJob
    from modelwatch.retraining.tables import from_parquet

    stack = stack_factory(min_rows=100, max_training_rows=200)
    stack.publish_demo_model("v1")
    frame = demo_frame(600, 36)
    for hour in range(4):
        stack.clock.advance(3600)
        predict_and_label(stack, frame, range(hour * 150, (hour + 1) * 150))
    stack.clock.advance(3600)
    spec = stack.platform.spec
    job = RetrainingJob(stack.s3, stack.platform.settings.data_bucket, spec, stack.registry, stack.clock)
    prepared = job.prepare("run-sampled")
    assert (prepared["status"], prepared["rows"], prepared["sampled_rows"]) == ("ready", 600, 200)
    stored = stack.objects("retraining/runs/run-sampled/")
    train, holdout = (
        from_parquet(stored[f"retraining/runs/run-sampled/{name}.parquet"], spec.numeric_features)
        for name in ("train", "holdout")
    )
    assert (len(train["income"]), len(holdout["income"])) == (160, 40)
    row_of = {income: i for i, income in enumerate(frame["income"])}
    hours = [row_of[income] // 150 for income in np.concatenate([train["income"], holdout["income"]])]
    assert sorted(set(hours)) == [0, 1, 2, 3]
    assert min(hours[160:]) >= max(hours[:160])  # the holdout is the sample's latest rows
