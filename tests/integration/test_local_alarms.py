"""The spec's alarms on the embedded stack: the functions' EMF metrics are evaluated like
CloudWatch would, an alarm's change is published on the alerts topic in CloudWatch's format, and a
retraining trigger's change to ALARM starts the retraining state machine (the drift trigger's
judgement is DatasetDriftShare's, so that one alarm notifies and starts retraining)."""

from __future__ import annotations

import json
from datetime import timedelta

from modelwatch.alerts.alarm_message import AlarmNotice
from modelwatch.demo.data import demo_frame
from modelwatch_local.slack import SlackReceiver
from tests.integration.conftest import GOOD, predict_and_label


def _hour_of_traffic(stack, frame, per_hour: int = 200) -> None:
    stack.clock.advance(60)
    predict_and_label(stack, frame, range(per_hour))
    stack.clock.advance(3600 - 60)


def test_drift_raises_the_alarms_and_starts_retraining(stack_factory):
    stack = stack_factory(min_rows=300)
    slack = SlackReceiver()
    stack.connect_slack(slack.url)
    stack.publish_demo_model("v1")
    rounds = []
    for hour in range(4):
        _hour_of_traffic(stack, demo_frame(200, 500 + hour, drift=0.0 if hour < 2 else 0.9))
        stack.run_drift()
        rounds.append(stack.evaluate_alarms())
    changes = [(c.alarm_name, c.new) for r in rounds for c in r.changes]
    assert ("ModelWatch-DatasetDriftShare", "ALARM") in changes
    assert not any(name.startswith("ModelWatch-RetrainOnDrift") for name, _ in changes)  # no second alarm
    # Published in CloudWatch's format, which the Slack notifier reads.
    notices = [AlarmNotice.from_sns_message(m) for m in stack.alerts() if "AlarmName" in m]
    drift = next(n for n in notices if n.name == "ModelWatch-DatasetDriftShare" and n.state == "ALARM")
    assert drift.comparison == ">" and drift.threshold == 0.3 and drift.value is not None and drift.value > 0.3
    assert "DriftShare" in drift.metric and "window=1d" in drift.metric
    assert not any(n.name.startswith("ModelWatch-Retrain") for n in notices)  # triggers start, not notify
    # The drift alarm started the state machine, which trained on the labelled captures.
    (execution,) = [e for r in rounds for e in r.executions if e.name.startswith("ModelWatch-DatasetDriftShare")]
    assert execution.status == "SUCCEEDED" and "Promote" in execution.visited
    # The challenger learnt the drifted inputs and its baseline holds them: the next hour of the
    # same drifted traffic, served by it, is no longer drift.
    drift_changes = [change for change in changes if change[0] == "ModelWatch-DatasetDriftShare"]
    assert drift_changes[-1] == ("ModelWatch-DatasetDriftShare", "OK")
    assert stack.registry.current_version() == execution.output["evaluated"]["value"]["challenger_version"]
    # And on-call heard of it all in Slack, through the alerts topic and the notifier.
    # One incident, one notice: the drift check's alarms open it, the retraining they started is
    # told when it recovers; first OKs (the other alarms' first evaluation) are not sent.
    # (A segment value may flag a feature the whole window does not, here category a's income:
    # SegmentDrift is then an incident of its own, told apart.)
    told = [m for m in slack.received if "egment" not in m["text"]]
    texts = [m["text"] for m in told]
    slack.close()
    opened, recovered = texts
    assert opened.startswith(":red_circle: DatasetDriftShare") and "1d window" in opened
    assert recovered.startswith(":large_green_circle: Recovered: drift (1d window)")
    assert "Retraining (ModelWatch-DatasetDriftShare): Promoted" in json.dumps(told[1])


def test_a_stable_model_keeps_drift_alarms_ok(stack_factory):
    stack = stack_factory()
    stack.publish_demo_model("v1")
    for hour in range(3):
        _hour_of_traffic(stack, demo_frame(200, 600 + hour))
        stack.run_drift()
        round_ = stack.evaluate_alarms()
        assert stack.alarms.states["DatasetDriftShare"] == "OK", [c.reason for c in round_.changes]
    assert stack.alarms.states["RetrainOnNewData"] == "OK"
    assert stack.alarms.states["CaptureFailures"] == "OK"


def test_the_5xx_rate_alarm_is_the_deployed_metric_math_over_the_apis_request_and_5xx_counts(stack_factory):
    from modelwatch.catalog.metrics import API_5XX_RATE, API_ID_DIMENSION, API_REQUESTS, API_SERVER_ERRORS
    from modelwatch_local.alarms import LOCAL_API_ID

    stack = stack_factory()  # no model published: every prediction answers 503
    statuses = []
    for minute in range(2):  # 10 seconds into each of two minutes, one 5xx in ten requests
        stack.clock.advance(60 if minute else 10)
        statuses.append(stack.call("predict", "POST", "/predict", {"instances": [GOOD]}).status)
        statuses += [stack.call("feedback", "POST", "/feedback", {"items": "none"}).status for _ in range(9)]
    assert sorted({s // 100 for s in statuses}) == [4, 5] and sum(s >= 500 for s in statuses) == 2
    # API Gateway's own counts are recorded, per request, under the API's id.
    api = {API_ID_DIMENSION: LOCAL_API_ID}
    start, now = stack.clock() - timedelta(minutes=2), stack.clock() + timedelta(seconds=1)
    assert len(stack.metrics.values(API_REQUESTS.namespace, API_REQUESTS.name, api, start, now)) == 20
    assert sum(stack.metrics.values(API_SERVER_ERRORS.namespace, API_SERVER_ERRORS.name, api, start, now)) == 2
    changes = [c for c in stack.evaluate_alarms().changes if c.alarm.rule.metric == API_5XX_RATE.name]
    assert [(c.alarm_name, c.new) for c in changes] == [("ModelWatch-HighServerErrorRate", "ALARM")]
    # The notification is CloudWatch's for a metric math alarm: the catalogue's expression, 10%.
    (message,) = [m for m in stack.alerts() if m.get("AlarmName") == "ModelWatch-HighServerErrorRate"]
    notice = AlarmNotice.from_sns_message(message)
    assert notice.metric == f"{API_5XX_RATE.math.label}: {API_5XX_RATE.math.expression}"
    assert notice.value == 10 and "MetricName" not in message["Trigger"]
