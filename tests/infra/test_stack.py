"""The synthesized CloudFormation: alarms and dashboard from the spec, least privilege, private
and encrypted storage, cdk-nag and cfn-lint clean."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

from modelwatch.catalog.functions import ZIP_FUNCTIONS
from modelwatch.catalog.metrics import FOLDED_OVER_FEATURES
from modelwatch.spec import load_spec
from tests.conftest import ROOT
from tests.infra.conftest import synthesize
from tests.infra.template_queries import role_statements

SPEC = load_spec(ROOT / "monitoring.toml")


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def _alarms(template: dict) -> dict[str, dict]:
    return {p["AlarmName"]: p for p in _resources(template, "AWS::CloudWatch::Alarm").values()}


def test_every_spec_alert_is_an_alarm_with_its_numbers(template):
    alarms = _alarms(template)
    for rule in SPEC.alerts:
        names = [n for n in alarms if n == f"ModelWatch-{rule.name}" or n.startswith(f"ModelWatch-{rule.name}-")]
        assert names, rule.name
        for name in names:
            alarm = alarms[name]
            assert alarm["Threshold"] == rule.threshold
            assert alarm["EvaluationPeriods"] == rule.evaluation_periods
            assert alarm["ComparisonOperator"] == rule.comparison
            assert alarm["TreatMissingData"] == rule.treat_missing_data
            assert alarm.get("EvaluateLowSampleCountPercentile") == rule.evaluate_low_sample_count_percentile
            if rule.metric == "Api5xxRate":
                (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
                assert "errors / requests" in expression["Expression"]
                stats = {
                    m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]
                    for m in alarm["Metrics"]
                    if "MetricStat" in m
                }
                assert set(stats) == {"5xx", "Count"} and all(
                    s["Period"] == rule.period_seconds for s in stats.values()
                )
                continue
            # A rule on every feature's drift score is one alarm on the highest of them.
            metric = FOLDED_OVER_FEATURES[rule.metric].name if rule.metric in FOLDED_OVER_FEATURES else rule.metric
            assert alarm["MetricName"] == metric and alarm["Namespace"] == SPEC.metrics.namespace
            assert alarm["Period"] == rule.period_seconds
            statistic = alarm.get("ExtendedStatistic") or alarm.get("Statistic")
            assert statistic == rule.statistic


def test_the_seed_rules_translate_exactly(template):
    alarms = _alarms(template)
    latency = alarms["ModelWatch-HighPredictionLatency"]
    assert (latency["ExtendedStatistic"], latency["Threshold"], latency["Period"], latency["EvaluationPeriods"]) == (
        "p95",
        500,
        60,
        5,
    )
    confidence = alarms["ModelWatch-LowPredictionConfidence"]
    assert confidence["ExtendedStatistic"] == "p50" and confidence["Threshold"] == 0.6
    assert confidence["Period"] * confidence["EvaluationPeriods"] == 15 * 60
    errors = alarms["ModelWatch-HighServerErrorRate"]
    assert errors["Threshold"] == 5 and errors["EvaluationPeriods"] * 60 == 120
    # "drift score > 0.3" of any feature: one alarm (one incident, one notice), not one per feature.
    assert not [name for name in alarms if name.startswith("ModelWatch-FeatureDriftScore-")]
    drift_score = alarms["ModelWatch-FeatureDriftScore"]
    assert (drift_score["MetricName"], drift_score["Statistic"], drift_score["Threshold"]) == (
        "MaxDriftScore",
        "Maximum",
        0.3,
    )


SMOKE_ALARM = "ModelWatch-Smoke"
# The demo spec's triggers no [[alerts]] rule covers (the others are the rules' own alarms).
RETRAINING_TRIGGERS = {"ModelWatch-RetrainOnNewData"}


def _check_alarm_actions(template: dict) -> None:
    topics = {p["DisplayName"]: k for k, p in _resources(template, "AWS::SNS::Topic").items()}
    alerts, operations = topics["ModelWatch alerts"], topics["ModelWatch alerting failures"]
    for name, alarm in _alarms(template).items():
        if name in RETRAINING_TRIGGERS:  # those start the state machine, whose notice says what it did
            continue
        # The notifier's own failures, and the delivery path's (events lost on the way: dead-letter
        # errors, failed executions, undelivered retraining starts), go by email only (the
        # operations topic), not through the notifier.
        delivery_path = name.endswith(("-DeadLetterErrors", "-ExecutionsFailed")) or name.startswith(
            ("ModelWatch-retraining-start-", "ModelWatch-drift-schedule-")
        )
        expected = operations if name.startswith("ModelWatch-notify-") or delivery_path else alerts
        if name == SMOKE_ALARM:  # the smoke test's notice goes both ways
            assert alarm["AlarmActions"] == [{"Ref": alerts}, {"Ref": operations}]
            continue
        assert alarm["AlarmActions"] == [{"Ref": expected}], name


def test_every_alarm_notifies_the_topic_and_function_failures_are_covered(template):
    """By default no function has Errors or Throttles alarms of its own: the 5xx-rate alarm, the
    dead-letter queues' and the failed executions' alarms cover each (modelwatch.alerts.plan)."""
    _check_alarm_actions(template)
    assert not [n for n in _alarms(template) if n.endswith(("-Errors", "-Throttles"))]


def test_alarm_each_function_restores_every_functions_errors_and_throttles(switched):
    template = switched[1].to_json()
    _check_alarm_actions(template)
    names = set(_alarms(template))
    for function in ("predict", "feedback", "capture", "drift", "notify", "retrain", "approval"):
        assert {f"ModelWatch-{function}-Errors", f"ModelWatch-{function}-Throttles"} <= names


def test_retraining_starts_on_schedule_and_on_the_specs_trigger_alarms(template):
    """A trigger that judges what a rule judges starts retraining from that rule's alarm; only the
    trigger no rule covers (new labelled rows) is an alarm of its own."""
    alarms = _alarms(template)
    assert set(alarms) >= RETRAINING_TRIGGERS
    assert not {"ModelWatch-RetrainOnPerformance", "ModelWatch-RetrainOnDrift"} & set(alarms)
    performance = alarms["ModelWatch-LowAccuracy"]  # [retraining] performance: accuracy below 0.80 on 1d
    assert (performance["MetricName"], performance["Statistic"], performance["ComparisonOperator"]) == (
        "Accuracy",
        "Minimum",
        "LessThanThreshold",
    )
    assert performance["Threshold"] == SPEC.retraining.performance.below
    assert {"Name": "window", "Value": SPEC.retraining_window} in performance["Dimensions"]
    drift = alarms["ModelWatch-DatasetDriftShare"]
    assert drift["MetricName"] == "DriftShare" and drift["Threshold"] == SPEC.retraining.drift.above
    assert alarms["ModelWatch-RetrainOnNewData"]["Threshold"] == SPEC.retraining.new_labeled_rows
    (machine_id,) = [
        k
        for k, m in _resources(template, "AWS::StepFunctions::StateMachine").items()
        if m["StateMachineName"] == "ModelWatch-retraining"
    ]
    rules = [
        r
        for r in _resources(template, "AWS::Events::Rule").values()
        if any(t["Arn"] == {"Ref": machine_id} for t in r.get("Targets", []))
    ]
    schedules = [r["ScheduleExpression"] for r in rules if "ScheduleExpression" in r]
    assert schedules == [SPEC.retraining.schedule]
    (on_alarm,) = [r["EventPattern"] for r in rules if "EventPattern" in r]
    by_name = {p["AlarmName"]: k for k, p in _resources(template, "AWS::CloudWatch::Alarm").items()}
    starters = ("ModelWatch-LowAccuracy", "ModelWatch-DatasetDriftShare", "ModelWatch-RetrainOnNewData")
    assert on_alarm["detail-type"] == ["CloudWatch Alarm State Change"]
    assert sorted(r["Fn::GetAtt"][0] for r in on_alarm["resources"]) == sorted(by_name[n] for n in starters)
    assert on_alarm["detail"] == {"state": {"value": ["ALARM"]}}


def test_retraining_runs_the_shared_definition_with_a_container_image(template):
    from modelwatch.jobs.retraining_machine import retraining_definition

    machine = next(
        m
        for m in _resources(template, "AWS::StepFunctions::StateMachine").values()
        if m["StateMachineName"] == "ModelWatch-retraining"
    )
    # The definition is a join of JSON text and references (the function's and topic's ARNs).
    parts = machine["DefinitionString"]["Fn::Join"][1]
    states = json.loads("".join(p if isinstance(p, str) else "ref" for p in parts))["States"]
    assert set(states) == set(retraining_definition("f", "t", promote_arn="p", timeout=timedelta(1))["States"])
    images = [f for f in _resources(template, "AWS::Lambda::Function").values() if f.get("PackageType") == "Image"]
    # The retrain function (the trainer) and the promote function (every deciding step): one
    # recipe, each image naming its own handler.
    commands = sorted(image["ImageConfig"]["Command"] for image in images)
    assert commands == [["functions.promote.handler.handler"], ["functions.retrain.handler.handler"]]
    assert all(image["Architectures"] == ["arm64"] and image["Timeout"] == 900 for image in images)


def test_only_the_promote_role_may_move_the_pointer_and_the_trainer_writes_only_its_challenger(template):
    """The retrain function runs the team's code: its role may write the run's challenger and
    nothing else (no pointer, registry, decision, approval or lock); the pointer is written by the
    promote function's role alone."""
    writers = set()
    roles = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    for logical in roles:
        actions = [
            (action, json.dumps(statement["Resource"]))
            for statement in role_statements(template, logical)
            for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        ]
        if any(action == "ssm:PutParameter" for action, _ in actions):
            writers.add(logical)
        if logical.startswith("RetrainRole"):
            puts = [resource for action, resource in actions if action == "s3:PutObject"]
            assert puts and all("/retraining/challengers/*" in resource for resource in puts), puts
            assert not any(action.startswith(("ssm:Put", "states:Send", "lambda:Invoke")) for action, _ in actions)
    assert len(writers) == 1 and next(iter(writers)).startswith("PromoteRole"), writers


def test_the_dashboard_has_every_panel(template):
    (dashboard,) = _resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["DashboardBody"])
    for title in (
        "Predictions per minute",
        "Share of drifted features",
        "p95 latency (ms)",
        "Confidence distribution",
        "Drift score per feature",
        "Predicted classes over time",
        "API requests, 4xx and 5xx",
        "Function errors and throttles",
        "Cold starts",
        "Duration (ms)",
        "Memory used by the prediction function (MB)",
        "Capture failures",
        "Accuracy: labelled and estimated",
        "Business KPIs",
        "Data quality",
        "Alarms",
        "Retraining: challengers promoted and rejected",
    ):
        assert title in body, title
    for feature in SPEC.features:
        assert f'\\"feature\\",\\"{feature}\\"' in body or f'"feature","{feature}"' in body.replace("\\", ""), feature


def test_no_statement_allows_everything_or_a_whole_service(template):
    for kind in ("AWS::IAM::Policy", "AWS::IAM::Role"):
        for name, properties in _resources(template, kind).items():
            documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
            if "PolicyDocument" in properties:
                documents.append(properties["PolicyDocument"])
            for document in documents:
                for statement in document["Statement"]:
                    actions = statement.get("Action", [])
                    for action in [actions] if isinstance(actions, str) else actions:
                        assert action != "*" and not re.fullmatch(r"[a-z0-9-]+:\*", action), (name, action)


def test_buckets_are_private_encrypted_and_tls_only(template):
    buckets = _resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3  # data, models, access logs
    policies = {p["Bucket"]["Ref"]: p["PolicyDocument"] for p in _resources(template, "AWS::S3::BucketPolicy").values()}
    for logical, bucket in buckets.items():
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        denies = [
            s
            for s in policies[logical]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert denies, logical


def test_api_is_authorized_throttled_and_logged(template):
    routes = _resources(template, "AWS::ApiGatewayV2::Route")
    assert {r["RouteKey"] for r in routes.values()} == {"POST /predict", "POST /feedback"}
    assert all(r["AuthorizationType"] == "AWS_IAM" for r in routes.values())
    (stage,) = _resources(template, "AWS::ApiGatewayV2::Stage").values()
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0 and stage["AccessLogSettings"]["DestinationArn"]


def test_each_route_has_its_own_callers_policy(template):
    """With IAM, /feedback is authorized apart from /predict: one managed policy per route, each
    allowing POST on its own route only, named in the stack's outputs."""
    policies = {
        p["Description"]: p["PolicyDocument"]["Statement"]
        for p in _resources(template, "AWS::IAM::ManagedPolicy").values()
        if p.get("Description", "").startswith("ModelWatch: call POST")
    }
    assert set(policies) == {"ModelWatch: call POST /predict", "ModelWatch: call POST /feedback"}
    for description, statements in policies.items():
        ((statement),) = statements
        route = description.rsplit(" ", 1)[1]
        assert statement["Action"] == "execute-api:Invoke"
        resource = json.dumps(statement["Resource"])
        assert resource.endswith(f'/$default/POST{route}"]]}}') and "*" not in resource, resource
    assert {"PredictCallersPolicy", "FeedbackCallersPolicy"} <= set(template["Outputs"])


def test_functions_are_arm64_python_312_with_retained_logs(template):
    functions = _resources(template, "AWS::Lambda::Function")
    ours = {k: f for k, f in functions.items() if f.get("Handler", "").startswith("functions.")}
    assert len(ours) == len(ZIP_FUNCTIONS)  # every zip-packaged function of the catalogue
    for function in ours.values():
        assert function["Runtime"] == "python3.12" and function["Architectures"] == ["arm64"]
    assert all("RetentionInDays" in g for g in _resources(template, "AWS::Logs::LogGroup").values())


def _integration_targets(template: dict) -> set[str]:
    """What each API route invokes: the logical id of a function or of an alias."""
    targets = set()
    for integration in _resources(template, "AWS::ApiGatewayV2::Integration").values():
        uri = integration["IntegrationUri"]
        targets.add(uri["Ref"] if "Ref" in uri else uri["Fn::GetAtt"][0])
    return targets


def test_predict_snap_starts_behind_a_live_alias(template):
    functions = _resources(template, "AWS::Lambda::Function")
    (snap_started,) = [k for k, f in functions.items() if f.get("SnapStart") == {"ApplyOn": "PublishedVersions"}]
    assert functions[snap_started]["Handler"] == "functions.predict.handler.handler"
    (alias_id, alias), *others = _resources(template, "AWS::Lambda::Alias").items()
    assert not others and alias["Name"] == "live"
    version = _resources(template, "AWS::Lambda::Version")[alias["FunctionVersion"]["Fn::GetAtt"][0]]
    assert version["FunctionName"] == {"Ref": snap_started}
    # The API calls the alias, so callers get the snapshotted version, never $LATEST.
    assert alias_id in _integration_targets(template)


def test_snap_start_can_be_turned_off():
    _, template, _ = synthesize({"snapStart": "false"}, nag=False)
    resources = template.to_json()
    assert not _resources(resources, "AWS::Lambda::Alias")
    assert not any("SnapStart" in f for f in _resources(resources, "AWS::Lambda::Function").values())


def test_cfn_lint_finds_no_errors(synthesized, tmp_path):
    _, template, _ = synthesized
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template.to_json()))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), "--format", "parseable", str(path)], capture_output=True, text=True)
    # Exit code bits: 1 the tool failed, 2 errors, 4 warnings, 8 informational.
    assert not result.returncode & 1, result.stderr
    errors = [line for line in result.stdout.splitlines() if re.search(r":E\d{4}:", line)]
    assert not result.returncode & 2 and not errors, "\n".join(errors)


def test_jwt_authorization_is_an_option():
    _, template, _ = synthesize(
        {"apiAuth": "jwt", "jwtIssuer": "https://issuer.example", "jwtAudience": "modelwatch"}, nag=False
    )
    routes = template.to_json()
    kinds = {
        r["Properties"]["AuthorizationType"]
        for r in routes["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }
    assert kinds == {"JWT"}


def test_jwt_scopes_authorize_feedback_apart_from_predict():
    context = {"apiAuth": "jwt", "jwtIssuer": "https://issuer.example", "jwtAudience": "modelwatch"}
    scopes = {"jwtPredictScope": "modelwatch/predict", "jwtFeedbackScope": "modelwatch/label"}
    _, template, _ = synthesize(context | scopes, nag=False)
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"].get("AuthorizationScopes")
        for r in template.to_json()["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }
    assert routes == {"POST /predict": ["modelwatch/predict"], "POST /feedback": ["modelwatch/label"]}


def test_changing_a_threshold_in_the_spec_changes_the_alarm(tmp_path):
    document = tomllib.loads((ROOT / "monitoring.toml").read_text())
    text = (ROOT / "monitoring.toml").read_text().replace("threshold = 500", "threshold = 750", 1)
    spec = tmp_path / "edited.toml"
    spec.write_text(text)
    assert document["alerts"][0]["threshold"] == 500
    _, template, _ = synthesize({"spec": str(spec)}, nag=False)
    assert _alarms(template.to_json())["ModelWatch-HighPredictionLatency"]["Threshold"] == 750


def test_cdk_nag_reports_nothing_unacknowledged(tmp_path):
    # The session fixture would already have failed; this names the check and keeps its report.
    synthesize(outdir=str(tmp_path))
    report = tmp_path / "validation-report.json"
    if report.exists():
        document = json.loads(report.read_text())
        assert all(not plugin["violations"] for plugin in document["pluginReports"]), document


def _deployed_configuration(template: dict, logical_id: str) -> dict:
    """Everything CloudWatch is told about one alarm, in the terms the local plan uses."""
    alarm = template["Resources"][logical_id]["Properties"]
    (topic,) = [
        k for k, p in _resources(template, "AWS::SNS::Topic").items() if p["DisplayName"] == "ModelWatch alerts"
    ]
    (http_api,) = _resources(template, "AWS::ApiGatewayV2::Api")
    starters = [
        resource
        for rule in _resources(template, "AWS::Events::Rule").values()
        for resource in rule.get("EventPattern", {}).get("resources", [])
    ]
    starts_retraining = {"Fn::GetAtt": [logical_id, "Arn"]} in starters
    if alarm.get("AlarmActions") == [{"Ref": topic}] and alarm.get("OKActions") == [{"Ref": topic}]:
        action = "notify"
    elif not alarm.get("AlarmActions") and starts_retraining:
        action = "retrain"
    else:
        action = "unknown"
    math = None
    if "Metrics" in alarm:
        (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
        inputs = {}
        for query in alarm["Metrics"]:
            if "MetricStat" not in query:
                continue
            stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
            # The API's id is the deployed API's (a reference); locally it is the local API's.
            assert all(d["Value"] == {"Ref": http_api} for d in metric["Dimensions"])
            dimensions = tuple(d["Name"] for d in metric["Dimensions"])
            inputs[query["Id"]] = (metric["Namespace"], metric["MetricName"], dimensions, stat["Stat"], stat["Period"])
            assert query["ReturnData"] is False
        assert expression.get("ReturnData", True) is True
        math = {"expression": expression["Expression"], "label": expression.get("Label"), "inputs": inputs}
    return {
        "namespace": alarm.get("Namespace"),
        "metric": alarm.get("MetricName"),
        "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
        "statistic": alarm.get("ExtendedStatistic") or alarm.get("Statistic"),
        "period": alarm.get("Period"),
        "math": math,
        "evaluation_periods": alarm["EvaluationPeriods"],
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm"),
        "comparison": alarm["ComparisonOperator"],
        "threshold": alarm["Threshold"],
        "treat_missing_data": alarm.get("TreatMissingData", "missing"),  # CloudWatch's default
        "evaluate_low_sample_count_percentile": alarm.get("EvaluateLowSampleCountPercentile"),
        "action": action,
        "starts_retraining": starts_retraining,
    }


def _local_configuration(alarm) -> dict:
    """The same, from the plan the local evaluator judges (modelwatch_local.alarms reads these)."""
    rule, math = alarm.rule, alarm.math
    return {
        "namespace": None if math else SPEC.metrics.namespace,
        "metric": None if math else rule.metric,
        "dimensions": alarm.dimensions,
        "statistic": None if math else rule.statistic,
        "period": None if math else rule.period_seconds,
        "math": math
        and {
            "expression": math.expression,
            "label": math.label,
            "inputs": {
                i.id: (i.namespace, i.name, i.dimensions, i.statistic, rule.period_seconds) for i in math.inputs
            },
        },
        "evaluation_periods": rule.evaluation_periods,
        "datapoints_to_alarm": rule.datapoints_to_alarm,
        "comparison": rule.comparison,
        "threshold": rule.threshold,
        "treat_missing_data": rule.treat_missing_data,
        "evaluate_low_sample_count_percentile": rule.evaluate_low_sample_count_percentile,
        "action": alarm.action,
        "starts_retraining": alarm.starts_retraining,
    }


def test_the_local_runtime_evaluates_exactly_the_deployed_spec_alarms(template):
    """Parity of the whole configuration, alarm by alarm: statistic, period, evaluation periods,
    datapoints to alarm, comparison, threshold, missing data, low-sample percentiles, namespace,
    dimensions, metric math (expression and inputs) and what the alarm does."""
    from modelwatch_local.alarms import AlarmEvaluator
    from modelwatch_local.metrics import MetricStore

    deployed = {
        properties["AlarmName"]: logical_id
        for logical_id, properties in _resources(template, "AWS::CloudWatch::Alarm").items()
        if not properties.get("Namespace", "").startswith("AWS/")  # AWS's own metrics (Lambda, SQS, Logs)
        and properties["AlarmName"] != SMOKE_ALARM  # not a spec rule: `modelwatch smoke` sets it
    }
    local = AlarmEvaluator(SPEC, MetricStore())
    assert {f"ModelWatch-{a.name}" for a in local.planned} == set(deployed)
    assert any(a.math for a in local.planned) and any(a.action == "retrain" for a in local.planned)
    assert any(a.action == "notify" and a.starts_retraining for a in local.planned)
    for alarm in local.planned:
        name = f"ModelWatch-{alarm.name}"
        assert _deployed_configuration(template, deployed[name]) == _local_configuration(alarm), name
