"""Lean by default, each cut a context switch: X-Ray off (`tracing`, `traceBackground`), one
customer-managed key (`separateInputsKey`), no Lambda platform lines (`lambdaPlatformLogs`), the
lean access log (`accessLogFields`); `alarmEachFunction` is in test_stack.py. Each is checked in
the default template and in `switched`, which turns every one of them the other way."""

from __future__ import annotations

import json

import pytest

from modelwatch.catalog import delivery
from modelwatch.catalog.functions import FUNCTIONS
from modelwatch_infra.api import FULL_ACCESS_LOG_FIELDS, LEAN_ACCESS_LOG_FIELDS
from modelwatch_infra.functions import tracing_of
from modelwatch_infra.log_guard import dropped_log_lines
from modelwatch_infra.settings import DeploymentSettings
from modelwatch_infra.stack import new_app
from tests.infra.conftest import ON_CALL
from tests.infra.template_queries import function_resource


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def _settings(**context: str) -> DeploymentSettings:
    return DeploymentSettings.from_context(new_app({**ON_CALL, **context}))


@pytest.mark.parametrize(
    ("context", "traced"),
    [
        ({}, set()),
        ({"tracing": "true"}, {n for n, f in FUNCTIONS.items() if f.on_request_path}),
        ({"traceBackground": "true"}, {n for n, f in FUNCTIONS.items() if not f.on_request_path}),
    ],
)
def test_each_tracing_switch_turns_x_ray_on_for_its_part(context, traced):
    settings = _settings(**context)
    modes = {name: tracing_of(definition, settings).name for name, definition in FUNCTIONS.items()}
    assert modes == {name: "ACTIVE" if name in traced else "PASS_THROUGH" for name in FUNCTIONS}


def test_x_ray_is_off_by_default_and_on_when_asked(template, switched):
    for built, mode, machines_traced in ((template, "PassThrough", False), (switched[1].to_json(), "Active", True)):
        for name in FUNCTIONS:
            assert function_resource(built, name)[1]["TracingConfig"]["Mode"] == mode, name
        machines = _resources(built, "AWS::StepFunctions::StateMachine").values()
        assert machines and all(
            m.get("TracingConfiguration", {}).get("Enabled", False) is machines_traced for m in machines
        )


def _keys(template: dict) -> dict[str, dict]:
    return _resources(template, "AWS::KMS::Key")


def test_one_key_encrypts_the_topics_and_what_holds_inputs(template):
    (logical, key), *others = _keys(template).items()
    assert not others and "raw inputs" in key["Description"]
    statements = {s.get("Sid") for s in key["KeyPolicy"]["Statement"]}
    assert {delivery.alarm_key_statement()["Sid"], "LogsEncryptThisAccountsLogGroups"} <= statements
    uses = {json.dumps(t["KmsMasterKeyId"]) for t in _resources(template, "AWS::SNS::Topic").values()}
    capture = function_resource(template, "capture")[1]
    queue = template["Resources"][capture["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]]["Properties"]
    group = template["Resources"][capture["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    uses |= {json.dumps(queue["KmsMasterKeyId"]), json.dumps(group["KmsKeyId"])}
    assert uses == {json.dumps({"Fn::GetAtt": [logical, "Arn"]})}


def test_separate_inputs_key_keeps_a_key_of_their_own(switched):
    keys = _keys(switched[1].to_json())
    assert len(keys) == 2
    (inputs,) = [k for k in keys.values() if "raw inputs" in k["Description"]]
    (topics,) = [k for k in keys.values() if "raw inputs" not in k["Description"]]
    assert {s.get("Sid") for s in inputs["KeyPolicy"]["Statement"]} >= {"LogsEncryptThisAccountsLogGroups"}
    assert delivery.alarm_key_statement()["Sid"] not in {s.get("Sid") for s in inputs["KeyPolicy"]["Statement"]}
    assert "LogsEncryptThisAccountsLogGroups" not in {s.get("Sid") for s in topics["KeyPolicy"]["Statement"]}


def test_lambdas_platform_lines_are_off_by_default_and_every_printed_line_kept(template, switched):
    for name in FUNCTIONS:
        config = function_resource(template, name)[1]["LoggingConfig"]
        assert (config["LogFormat"], config["SystemLogLevel"], config["ApplicationLogLevel"]) == (
            "JSON",
            "WARN",
            "INFO",
        )
        assert "LogFormat" not in function_resource(switched[1].to_json(), name)[1]["LoggingConfig"]  # Text
    assert dropped_log_lines(template) == [] and dropped_log_lines(switched[1].to_json()) == []


def _access_log_fields(template: dict) -> dict[str, str]:
    (stage,) = _resources(template, "AWS::ApiGatewayV2::Stage").values()
    return json.loads(stage["AccessLogSettings"]["Format"])


def test_the_access_log_is_lean_by_default_and_full_when_asked(template, switched):
    assert _access_log_fields(template) == LEAN_ACCESS_LOG_FIELDS
    assert _access_log_fields(switched[1].to_json()) == FULL_ACCESS_LOG_FIELDS
    # Who, what, when and why of a request no function saw; nothing else.
    assert set(LEAN_ACCESS_LOG_FIELDS) < set(FULL_ACCESS_LOG_FIELDS) | {"time"}


def test_a_setting_out_of_its_values_is_refused():
    with pytest.raises(ValueError, match="accessLogFields must be lean or full"):
        _settings(accessLogFields="some")
    with pytest.raises(ValueError, match="tracing must be true or false"):
        _settings(tracing="yes")
