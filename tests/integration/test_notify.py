"""The Slack notifier against a local HTTP receiver, with real alarm notifications of both forms."""

from __future__ import annotations

import json

import pytest

from modelwatch.catalog.functions import SLACK_SECRET
from modelwatch_local.lambda_runtime import invoke
from modelwatch_local.slack import SlackReceiver

SINGLE_METRIC = {
    "AlarmName": "demo-classifier-HighPredictionLatency",
    "AlarmDescription": "p95 prediction latency above 500 ms for 5 minutes",
    "AWSAccountId": "123456789012",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 5 out of the last 5 datapoints [612.3 (26/11/26 10:04:00), 588.1 (26/11/26 "
    "10:03:00)] were greater than the threshold (500.0) (minimum 5 datapoints for OK -> ALARM transition).",
    "StateChangeTime": "2026-11-26T10:05:12.345+0000",
    "Region": "US East (N. Virginia)",
    "OldStateValue": "OK",
    "Trigger": {
        "MetricName": "PredictionLatency",
        "Namespace": "ModelWatch",
        "StatisticType": "ExtendedStatistic",
        "ExtendedStatistic": "p95",
        "Dimensions": [{"value": "demo-classifier", "name": "service"}],
        "Period": 60,
        "EvaluationPeriods": 5,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 500.0,
        "TreatMissingData": "notBreaching",
    },
}
METRIC_MATH = {
    "AlarmName": "demo-classifier-HighServerErrorRate",
    "AlarmDescription": "More than 5% of requests failed with a 5xx for 2 minutes",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 2 datapoints [7.5 (26/11/26 10:01:00), 6.2 (26/11/26 10:00:00)] were "
    "greater than the threshold (5.0).",
    "StateChangeTime": "2026-11-26T10:02:00.000+0000",
    "Region": "US East (N. Virginia)",
    "OldStateValue": "OK",
    "Trigger": {
        "Period": 60,
        "EvaluationPeriods": 2,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 5.0,
        "Metrics": [
            {
                "Expression": "100 * errors / MAX([requests, 1])",
                "Id": "rate",
                "Label": "5xx rate (%)",
                "ReturnData": True,
            },
            {
                "Id": "errors",
                "MetricStat": {
                    "Metric": {
                        "Dimensions": [{"value": "abc", "name": "ApiId"}],
                        "MetricName": "5xx",
                        "Namespace": "AWS/ApiGateway",
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
            {
                "Id": "requests",
                "MetricStat": {
                    "Metric": {
                        "Dimensions": [{"value": "abc", "name": "ApiId"}],
                        "MetricName": "Count",
                        "Namespace": "AWS/ApiGateway",
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
        ],
    },
}


@pytest.fixture
def slack(stack, monkeypatch):
    def make(failures: int = 0) -> SlackReceiver:
        receiver = SlackReceiver(failures)
        name = f"modelwatch/slack-{id(receiver)}"
        stack.platform.client("secretsmanager").create_secret(
            Name=name, SecretString=json.dumps({"webhook_url": receiver.url})
        )
        monkeypatch.setitem(stack.environment, SLACK_SECRET, name)
        monkeypatch.setitem(stack.environment, "MODELWATCH_NOTIFY_BACKOFF_SECONDS", "0.01")
        made.append(receiver)
        return receiver

    made: list[SlackReceiver] = []
    yield make
    for receiver in made:
        receiver.close()


def _sns(*messages: dict) -> dict:
    return {
        "Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(m), "Subject": "ALARM"}} for m in messages]
    }


def test_both_alarm_forms_become_block_kit_messages(slack):
    receiver = slack()
    assert invoke("notify", _sns(SINGLE_METRIC, METRIC_MATH)).result == {"sent": 2}
    latency, errors = receiver.received
    text = json.dumps(latency, ensure_ascii=False)
    assert latency["blocks"][0]["text"]["text"] == "ALARM: demo-classifier-HighPredictionLatency"
    assert "612.3" in text and "> 500" in text and "PredictionLatency (p95)" in text and "OK → *ALARM*" in text
    buttons = {e["text"]["text"]: e["url"] for e in latency["blocks"][-1]["elements"]}
    assert "#dashboards/dashboard/" in buttons["Dashboard"] and "prefix=reports/" in buttons["Drift reports"]
    assert "5xx rate (%): 100 * errors / MAX([requests, 1])" in json.dumps(errors) and "7.5" in json.dumps(errors)


def test_a_receiver_that_fails_twice_still_gets_the_message(slack):
    receiver = slack(failures=2)
    assert invoke("notify", _sns(SINGLE_METRIC)).result == {"sent": 1}
    assert receiver.attempts == 3 and len(receiver.received) == 1


def test_a_receiver_that_keeps_failing_fails_the_invocation_for_the_dead_letter_queue(slack):
    receiver = slack(failures=10)
    with pytest.raises(Exception, match="Slack answered 500"):
        invoke("notify", _sns(SINGLE_METRIC))
    assert receiver.attempts == 3 and not receiver.received


RETRAINING_NOTICES = [
    {
        "modelwatch_retraining": {
            "outcome": "promoted",
            "run_id": "run-1",
            "trigger": "ModelWatch-RetrainOnDrift",
            "decision": {
                "promote": True,
                "metric": "accuracy",
                "champion_version": "v1",
                "champion": 0.61,
                "challenger_version": "retrained-run-1",
                "challenger": 0.74,
                "holdout_rows": 2400,
                "reason": "challenger accuracy 0.7400 >= champion 0.6100 + 0",
            },
        }
    },
    {
        "modelwatch_retraining": {
            "outcome": "not_enough_data",
            "run_id": "run-2",
            "trigger": "schedule",
            "prepared": {"rows": 412, "min_rows": 1000, "status": "insufficient_data"},
        }
    },
    {
        "modelwatch_retraining": {
            "outcome": "failed",
            "run_id": "run-3",
            "trigger": "manual",
            "error": {"Error": "RuntimeError", "Cause": "training ran out of memory"},
        }
    },
]


def test_retraining_notices_become_block_kit_messages(slack):
    receiver = slack()
    assert invoke("notify", _sns(*RETRAINING_NOTICES)).result == {"sent": 3}
    promoted, skipped, failed = receiver.received
    assert promoted["blocks"][0]["text"]["text"] == "Retraining: promoted"
    text = json.dumps(promoted)
    assert "Promoted retrained-run-1" in text and "ModelWatch-RetrainOnDrift" in text
    assert "challenger 0.7400, champion 0.6100 on 2,400 rows" in text
    assert "412 labelled rows in the lookback window, 1,000 needed" in skipped["text"]
    assert failed["text"].startswith(":red_circle: Retraining failed") and "ran out of memory" in failed["text"]


def test_an_alarms_first_ok_is_not_sent(slack):
    receiver = slack()
    first_ok = SINGLE_METRIC | {"OldStateValue": "INSUFFICIENT_DATA", "NewStateValue": "OK"}
    recovered = SINGLE_METRIC | {"OldStateValue": "ALARM", "NewStateValue": "OK"}
    assert invoke("notify", _sns(first_ok, recovered)).result == {"sent": 1}
    (message,) = receiver.received
    assert message["blocks"][0]["text"]["text"] == "OK: demo-classifier-HighPredictionLatency"
