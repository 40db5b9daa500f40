"""The state machines deployed are the ones the local runtime runs: the template's
DefinitionString, resolved, is the ASL text the core writes (a null ResultPath stays null), with
AWS's retry of transient Lambda errors on every Lambda task and a ResultWriter on the map."""

from __future__ import annotations

import json

from modelwatch.jobs.asl import TRANSIENT_LAMBDA_ERRORS, asl_text
from modelwatch.jobs.backfill_machine import backfill_definition
from modelwatch.jobs.retraining_approval import approval_step
from modelwatch.jobs.retraining_machine import retraining_definition, run_limit
from modelwatch.spec import load_spec
from modelwatch_infra.delivery_graph import Template, _states
from tests.conftest import ROOT


def _deployed(template: dict) -> dict[str, dict]:
    resolved = Template(template)
    return {
        str(props["StateMachineName"]): json.loads(resolved.resolve(props["DefinitionString"]))
        for _, props in resolved.of_type("AWS::StepFunctions::StateMachine")
    }


def _arn(template: dict, kind: str, prefix: str) -> str:
    resolved = Template(template)
    (logical,) = [k for k, _ in resolved.of_type(kind) if k.startswith(prefix)]
    return resolved.ref(logical) if kind == "AWS::SNS::Topic" else resolved.arn(logical)


def test_the_deployed_asl_is_the_text_the_local_runtime_runs(template):
    deployed = _deployed(template)
    resolved = Template(template)
    (bucket,) = [resolved.ref(k) for k, _ in resolved.of_type("AWS::S3::Bucket") if k.startswith("StorageData")]
    capture = _arn(template, "AWS::Lambda::Function", "CaptureFunction")
    retrain = _arn(template, "AWS::Lambda::Function", "RetrainFunction")
    topic = _arn(template, "AWS::SNS::Topic", "AlertingAlerts")
    spec = load_spec(ROOT / "monitoring.toml")
    approval = approval_step(spec, _arn(template, "AWS::Lambda::Function", "ApprovalFunction"), "ModelWatch")
    assert deployed["ModelWatch-backfill"] == json.loads(asl_text(backfill_definition(bucket, capture)))
    promote = _arn(template, "AWS::Lambda::Function", "PromoteFunction")
    definition = retraining_definition(retrain, topic, approval, promote_arn=promote, timeout=run_limit(spec))
    assert deployed["ModelWatch-retraining"] == json.loads(asl_text(definition))
    # The publish steps keep their input (ResultPath null), as the local runtime runs them.
    publishes = [s for s in _states(deployed["ModelWatch-retraining"]) if s.get("Resource", "").endswith("publish")]
    assert publishes and all("ResultPath" in s and s["ResultPath"] is None for s in publishes)


def test_every_lambda_task_retries_transient_lambda_errors_and_the_map_writes_its_results(template):
    for name, definition in _deployed(template).items():
        tasks = [s for s in _states(definition) if "lambda:invoke" in s.get("Resource", "")]
        assert tasks, name
        for task in tasks:
            retried = {error for rule in task.get("Retry", []) for error in rule["ErrorEquals"]}
            assert set(TRANSIENT_LAMBDA_ERRORS) <= retried, (name, task)
    (mapped,) = [s for s in _states(_deployed(template)["ModelWatch-backfill"]) if s.get("Type") == "Map"]
    assert mapped["ResultWriter"]["Resource"] == "arn:aws:states:::s3:putObject"
