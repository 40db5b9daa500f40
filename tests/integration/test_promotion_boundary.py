"""Retraining as a security boundary, on the embedded stack (which judges every call against the
function's role, as AWS does): the trainer's code cannot promote anything, the promote step
refuses what the run did not earn, one run holds retraining at a time, and a challenger is never
promoted over a champion it was not compared with."""

from __future__ import annotations

import io
import json

import pytest

from modelwatch.catalog import layout
from modelwatch.demo.data import demo_frame
from modelwatch.jobs.retraining_job import PromotionRefusedError
from tests.integration.conftest import predict_and_label
from tests.integration.test_retraining import _labelled_traffic, _publish_champion
from tests.integration.trainers import rogue

MANUAL = {"approval": '"manual"', "approval_timeout_hours": 2}


def test_a_trainer_cannot_write_the_pointer_a_decision_an_approval_or_the_registry(stack_factory):
    rogue.ATTEMPTS.clear()
    stack = stack_factory(min_rows=500, trainer='"tests.integration.trainers.rogue:fit"')
    _publish_champion(stack, "v1", flip_labels=False)
    _labelled_traffic(stack, 1200, seed=51)
    execution = stack.run_retraining("manual", name=rogue.RUN)
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert dict.fromkeys(("pointer", "decision", "approval", "registry", "lock"), "AccessDenied") == rogue.ATTEMPTS
    decision = execution.output["evaluated"]["value"]
    # Judged on the promote function's own holdout, the backwards model loses; the champion stays.
    assert decision["outcome"] == "reject" and decision["challenger"] < 0.5 < decision["champion"]
    assert stack.registry.current_version() == "v1"
    # The version it was published as carries what the promote step measured, not the trainer's word.
    manifest = stack.registry.manifest(f"retrained-{rogue.RUN}")
    assert manifest.library_versions["checked_as"].startswith("ONNX graph")
    assert manifest.validation_metrics["accuracy"] == pytest.approx(decision["challenger"])


@pytest.fixture
def waiting(stack_factory):
    """A run waiting for approval of a challenger that beats a broken champion."""
    stack = stack_factory(min_rows=500, **MANUAL)
    _publish_champion(stack, "v1-broken", flip_labels=True)
    _labelled_traffic(stack, 1200, seed=52)
    execution = stack.run_retraining("manual", name="run-waits")
    assert execution.status == "RUNNING" and execution.visited[-1] == "AwaitApproval"
    return stack, execution


def _promote(stack, **payload) -> dict:
    return stack.invoke("promote", {"step": "promote", "run_id": "run-waits"} | payload).result


def test_a_forged_approval_is_refused(waiting):
    stack, _ = waiting
    version = "retrained-run-waits"
    request = stack.objects(layout.APPROVALS.prefix)[layout.approval_key("run-waits")]
    stored = json.loads(request)["execution_arn"]
    forgeries = {
        "no approval": {"version": version},
        "not approved": {"version": version, "approval": {"decision": "rejected"}, "execution_arn": stored},
        "another execution": {
            "version": version,
            "approval": {"decision": "approved"},
            "execution_arn": stored.replace("run-waits", "run-other"),
        },
        "another challenger": {"version": "v1-broken", "approval": {"decision": "approved"}, "execution_arn": stored},
    }
    for name, payload in forgeries.items():
        with pytest.raises(PromotionRefusedError):
            _promote(stack, **payload)
        assert stack.registry.current_version() == "v1-broken", name
    # The person's approval, through the state machine, is honoured.
    done = stack.approve("run-waits", by="alice")
    assert done.status == "SUCCEEDED" and stack.registry.current_version() == version


def test_a_second_run_ends_with_a_notice_and_a_stale_challenger_is_never_promoted(waiting):
    stack, _ = waiting
    stack.alerts()
    # A second trigger while the first run holds retraining: it ends at once, and says why.
    second = stack.run_retraining("RetrainOnDrift", name="run-second")
    assert second.status == "SUCCEEDED" and "Train" not in second.visited
    (busy,) = stack.alerts()
    assert busy["modelwatch_retraining"]["outcome"] == "busy"
    assert "run-waits is in progress" in busy["modelwatch_retraining"]["prepared"]["reason"]
    # Meanwhile a person rolls out a fix; the approval arrives later: the challenger was compared
    # with v1-broken, not with the fix, so the fix stays.
    _publish_champion(stack, "v2-hotfix", flip_labels=False)
    approved = stack.approve("run-waits", by="alice")
    assert approved.status == "SUCCEEDED" and approved.visited[-4:] == ["NoticeStale", "Notify", "Release", "Done"]
    assert stack.registry.current_version() == "v2-hotfix"
    (stale,) = stack.alerts()
    assert stale["modelwatch_retraining"]["outcome"] == "stale"
    assert "now v2-hotfix" in stale["modelwatch_retraining"]["promotion"]["reason"]
    # The lock was let go: the next trigger runs.
    assert "Train" in stack.run_retraining("manual", name="run-third").visited


def test_a_champion_that_cannot_be_scored_is_not_passed_over(stack_factory):
    stack = stack_factory(min_rows=500)
    _publish_champion(stack, "v1", flip_labels=False)
    _labelled_traffic(stack, 1200, seed=53)
    # The champion's artifact no longer matches its manifest's hash: it cannot be loaded to compare.
    manifest = stack.registry.manifest("v1")
    stack.s3.put_object(Bucket=stack.registry.bucket, Key=manifest.artifact.key, Body=b"not the graph")
    execution = stack.run_retraining("manual", name="run-unscored")
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    decision = execution.output["evaluated"]["value"]
    assert decision["outcome"] == "reject" and "the champion v1 could not be compared" in decision["reason"]
    assert stack.registry.current_version() == "v1"


def _poisoned_traffic(stack, rows: int, seed: int) -> None:
    """Real predictions whose labels someone with /feedback access sent backwards."""
    frame = demo_frame(rows, seed)
    poisoned = frame | {"label": 1 - frame["label"]}
    for hour in range(2):
        stack.clock.advance(3600)
        predict_and_label(stack, poisoned, range(hour * rows // 2, (hour + 1) * rows // 2))
    stack.clock.advance(3600)


def _poisoned_run(stack_factory, source: str) -> tuple[str, str]:
    """(the decision's outcome, the current version after it) of a run on poisoned labels."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    stack = stack_factory(min_rows=500, holdout_source=f'"{source}"')
    _publish_champion(stack, "v1", flip_labels=False)
    _poisoned_traffic(stack, 1200, seed=54)
    if source == "trusted":
        curated = demo_frame(600, 55)
        body = io.BytesIO()
        pacsv.write_csv(pa.table({k: curated[k] for k in (*stack.platform.spec.features, "label")}), body)
        stack.s3.put_object(Bucket=stack.platform.settings.data_bucket, Key="holdout/curated.csv", Body=body.getvalue())
    execution = stack.run_retraining("manual", name=f"run-{source}")
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    return execution.output["evaluated"]["value"]["outcome"], stack.registry.current_version()


def test_poisoned_labels_steer_a_holdout_cut_from_them(stack_factory):
    """What the issue warned of: labels sent backwards through /feedback make a backwards
    challenger look better on a holdout cut from those same labels."""
    assert _poisoned_run(stack_factory, "labels") == ("promote", "retrained-run-labels")


def test_a_trusted_holdout_is_not_steered_by_poisoned_labels(stack_factory):
    """With holdout_source = "trusted", the team's own file decides, and the champion stays."""
    assert _poisoned_run(stack_factory, "trusted") == ("reject", "v1")


def test_a_trusted_holdout_that_is_missing_trains_nothing(stack_factory):
    stack = stack_factory(min_rows=500, holdout_source='"trusted"')
    _publish_champion(stack, "v1", flip_labels=False)
    _labelled_traffic(stack, 1200, seed=56)
    execution = stack.run_retraining("manual", name="run-no-holdout")
    assert execution.status == "SUCCEEDED" and "Train" not in execution.visited
    assert "holdout/ holds no rows" in execution.output["prepared"]["value"]["reason"]
