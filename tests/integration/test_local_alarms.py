"""The spec's alarms on the embedded stack: the functions' EMF metrics are evaluated like
CloudWatch would, an alarm's change is published on the alerts topic in CloudWatch's format, and a
retraining trigger's change to ALARM starts the retraining state machine."""

from __future__ import annotations

from modelwatch.alerts.alarm_message import AlarmNotice
from modelwatch.demo.data import demo_frame
from modelwatch_local.slack import SlackReceiver
from tests.integration.conftest import predict_and_label


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
    assert ("ModelWatch-RetrainOnDrift", "ALARM") in changes
    # Published in CloudWatch's format, which the Slack notifier reads.
    notices = [AlarmNotice.from_sns_message(m) for m in stack.alerts() if "AlarmName" in m]
    drift = next(n for n in notices if n.name == "ModelWatch-DatasetDriftShare" and n.state == "ALARM")
    assert drift.comparison == ">" and drift.threshold == 0.3 and drift.value is not None and drift.value > 0.3
    assert "DriftShare" in drift.metric and "window=1d" in drift.metric
    assert not any(n.name.startswith("ModelWatch-Retrain") for n in notices)  # triggers start, not notify
    # The drift trigger started the state machine, which trained on the labelled captures.
    (execution,) = [e for r in rounds for e in r.executions if e.name.startswith("ModelWatch-RetrainOnDrift")]
    assert execution.status == "SUCCEEDED" and "Promote" in execution.visited
    # The challenger learnt the drifted inputs and its baseline holds them: the next hour of the
    # same drifted traffic, served by it, is no longer drift.
    assert changes[-1] == ("ModelWatch-RetrainOnDrift", "OK")
    assert ("ModelWatch-DatasetDriftShare", "OK") in changes[changes.index(("ModelWatch-DatasetDriftShare", "ALARM")) :]
    assert stack.registry.current_version() == execution.output["trained"]["value"]["version"]
    # And on-call heard of it all in Slack, through the alerts topic and the notifier.
    texts = [m["text"] for m in slack.received]
    slack.close()
    assert any(t.startswith(":red_circle: ALARM: ModelWatch-DatasetDriftShare") for t in texts)
    assert any(t.startswith(":white_check_mark: Retraining promoted") for t in texts)
    assert not any(
        "INSUFFICIENT_DATA" in t or t.startswith(":large_green_circle: OK: ModelWatch-HighMissingRate") for t in texts
    )  # first OKs are not sent


def test_a_stable_model_keeps_drift_alarms_ok(stack_factory):
    stack = stack_factory()
    stack.publish_demo_model("v1")
    for hour in range(3):
        _hour_of_traffic(stack, demo_frame(200, 600 + hour))
        stack.run_drift()
        round_ = stack.evaluate_alarms()
        assert stack.alarms.states["DatasetDriftShare"] == "OK", [c.reason for c in round_.changes]
    assert stack.alarms.states["RetrainOnDrift"] == "OK"
    assert stack.alarms.states["CaptureFailures"] == "OK"
