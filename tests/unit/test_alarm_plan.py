"""One alarm per concern: a retraining trigger that judges what an [[alerts]] rule judges is that
rule's alarm (which then starts retraining too), a trigger no rule covers is an alarm of its own,
and a function's errors and throttles are alarmed only where no other alarm covers them."""

from __future__ import annotations

from modelwatch.alerts.plan import function_alarms, planned_alarms
from modelwatch.catalog.functions import FUNCTIONS
from modelwatch.catalog.metrics import API_5XX_RATE, LAMBDA_ERRORS, LAMBDA_THROTTLES
from modelwatch.spec import parse_spec


def _edited(spec, alerts=None, **retraining):
    document = spec.model_dump(mode="json")
    if alerts is not None:
        document["alerts"] = alerts
    document["retraining"] |= retraining
    return parse_spec(document, "<test>")


def test_triggers_a_rule_covers_are_that_rules_alarm(demo_spec):
    planned = {p.name: p for p in planned_alarms(demo_spec)}
    assert not {"RetrainOnDrift", "RetrainOnPerformance"} & set(planned)
    drift, accuracy = planned["DatasetDriftShare"], planned["LowAccuracy"]
    assert drift.action == accuracy.action == "notify"  # they still tell on-call
    assert [r.name for r in drift.retrains_on] == ["RetrainOnDrift"]
    assert [r.name for r in accuracy.retrains_on] == ["RetrainOnPerformance"]
    # No rule judges new labelled rows: that trigger is an alarm of its own, which only starts retraining.
    rows = planned["RetrainOnNewData"]
    assert rows.action == "retrain" and rows.starts_retraining and rows.incident == "drift-1d"
    starters = {p.name for p in planned.values() if p.starts_retraining}
    assert starters == {"DatasetDriftShare", "LowAccuracy", "RetrainOnNewData"}


def test_a_trigger_with_another_judgement_keeps_its_own_alarm(demo_spec):
    spec = _edited(demo_spec, performance={"metric": "accuracy", "below": 0.75})
    planned = {p.name: p for p in planned_alarms(spec)}
    assert planned["RetrainOnPerformance"].rule.threshold == 0.75
    assert planned["LowAccuracy"].retrains_on == ()  # the rule at 0.80 only notifies
    # The same threshold on another window is another series: not covered either.
    spec = _edited(demo_spec, window="1h")
    planned = {p.name: p for p in planned_alarms(spec)}
    assert planned["RetrainOnDrift"].dimensions["window"] == "1h" and not planned["DatasetDriftShare"].retrains_on


def test_a_drift_score_trigger_is_the_folded_rules_alarm(demo_spec):
    spec = _edited(demo_spec, drift={"metric": "max_drift_score", "above": 0.3})
    planned = {p.name: p for p in planned_alarms(spec)}
    assert "RetrainOnDrift" not in planned
    assert [r.name for r in planned["FeatureDriftScore"].retrains_on] == ["RetrainOnDrift"]


def test_function_failures_are_alarmed_where_nothing_else_covers_them(demo_spec):
    # The API's 5xx rate, the dead-letter queues and the failed executions cover every function.
    assert function_alarms(demo_spec) == {}
    each = function_alarms(demo_spec, each_function=True)
    assert set(each) == set(FUNCTIONS) and set(each.values()) == {(LAMBDA_ERRORS, LAMBDA_THROTTLES)}
    # Without a rule on the 5xx rate, the API functions' failures alarm on their own again.
    document = demo_spec.model_dump(mode="json")
    without_5xx = [a for a in document["alerts"] if a["metric"] != API_5XX_RATE.name]
    assert len(without_5xx) == len(document["alerts"]) - 1
    spec = _edited(demo_spec, alerts=without_5xx)
    assert set(function_alarms(spec)) == {name for name, f in FUNCTIONS.items() if f.on_request_path}
