"""The notifier against a local Slack receiver and the notices topic (what the email
subscriptions receive), with real alarm notifications of both forms: one notice per incident
(modelwatch.alerts.incident), saying what happened, since when, against which threshold, and what
to do next; a drift incident's from the check's own drift.json. Every notice is one email too,
with or without Slack, and never twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from modelwatch.catalog import layout
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


@pytest.fixture(autouse=True)
def no_incidents(stack):
    """Each test starts with nothing remembered (the stack is the module's)."""

    def clear() -> None:
        s3, bucket = stack.s3, stack.platform.settings.data_bucket
        for key in stack.objects(layout.INCIDENTS.prefix, bodies=False):
            s3.delete_object(Bucket=bucket, Key=key)

    clear()
    stack.emails()  # what earlier tests emailed
    yield
    clear()


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


def _text(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_both_alarm_forms_become_notices_with_since_value_threshold_and_next_step(slack):
    receiver = slack()
    assert invoke("notify", _sns(SINGLE_METRIC, METRIC_MATH)).result == {"sent": 2}
    latency, errors = receiver.received
    assert latency["text"] == (
        ":red_circle: HighPredictionLatency: PredictionLatency 612.300 ms since 2026-11-26 10:03 UTC"
    )
    text = _text(latency)
    assert "threshold is > 500.000 ms" in text and "alarm at 2026-11-26 10:05 UTC" in text
    assert "*Next step*" in text and "modelwatch promote" in text and "--stack demo-classifier" in text
    buttons = {e["text"]["text"]: e["url"] for e in latency["blocks"][-1]["elements"]}
    assert "#dashboards/dashboard/" in buttons["Dashboard"]
    assert errors["text"].startswith(":red_circle: HighServerErrorRate: Api5xxRate 7.500% since 2026-11-26 10:00")
    assert "Logs Insights" in _text(errors)


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
            "trigger": "ModelWatch-DatasetDriftShare",
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
    assert "Promoted retrained-run-1" in text and "ModelWatch-DatasetDriftShare" in text
    assert "challenger 0.7400, champion 0.6100 on 2,400 rows" in text
    assert "412 labelled rows in the lookback window, 1,000 needed" in skipped["text"]
    assert failed["text"].startswith(":red_circle: Retraining failed") and "ran out of memory" in failed["text"]


def test_an_alarms_first_ok_is_not_sent_and_its_recovery_is_once(slack):
    receiver = slack()
    first_ok = SINGLE_METRIC | {"OldStateValue": "INSUFFICIENT_DATA", "NewStateValue": "OK"}
    recovered = SINGLE_METRIC | {
        "OldStateValue": "ALARM",
        "NewStateValue": "OK",
        "StateChangeTime": "2026-11-26T10:20:00.000+0000",
        "NewStateReason": "Threshold Crossed: 1 datapoint [212.5 (26/11/26 10:19:00)] was not greater than the "
        "threshold (500.0).",
    }
    assert invoke("notify", _sns(first_ok, SINGLE_METRIC, SINGLE_METRIC, recovered, recovered)).result == {"sent": 2}
    opened, ok = receiver.received
    assert opened["text"].startswith(":red_circle: HighPredictionLatency")  # once, though delivered twice
    assert ok["text"] == ":large_green_circle: Recovered: HighPredictionLatency at 2026-11-26 10:20 UTC"
    assert "now 212.500 ms" in _text(ok) and "after 17 min" in _text(ok)


def test_a_refused_model_names_the_last_good_version_to_promote(stack, slack):
    receiver = slack()
    ssm, pointer = stack.platform.client("ssm"), stack.platform.settings.pointer_parameter
    good = stack.registry.current_version()
    ssm.put_parameter(Name=pointer, Value="v2-tampered", Type="String", Overwrite=True)
    try:
        load_failed = SINGLE_METRIC | {
            "AlarmName": "ModelWatch-ModelLoadFailed",
            "AlarmDescription": "[critical] A model version failed to load",
            "NewStateReason": "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (26/11/26 10:04:00)] was "
            "greater than the threshold (0.0).",
            "Trigger": SINGLE_METRIC["Trigger"] | {"MetricName": "ModelLoadFailed", "Threshold": 0.0},
        }
        assert invoke("notify", _sns(load_failed)).result == {"sent": 1}
    finally:
        ssm.put_parameter(Name=pointer, Value=good, Type="String", Overwrite=True)
    (notice,) = receiver.received
    text = _text(notice)
    assert f"`modelwatch promote {good} --stack ModelWatch`" in text
    assert "v2-tampered" in text and "since 2026-11-26 10:04 UTC" in notice["text"]


END = "2026-11-26T10:00:00Z"


def _drift_document(version: str, share: float, drifted: dict[str, float]) -> dict:
    """A drift.json as the drift check writes it (the fields a notice reads)."""
    names = ("age", "income", "score", "category", "region")
    features = []
    for name in names:
        statistic = drifted.get(name, 0.01)
        p_value = 1e-9 if name in drifted else 0.4
        features.append(
            {
                "name": name,
                "method": "jensenshannon" if name in ("category", "region") else "wasserstein",
                "statistic": statistic,
                "p_value": p_value,
                "p_value_adjusted": p_value * 5,
                "score": p_value * 5,
                "threshold": 0.05,
                "compared": "p_value",
                "effect": 0.9 if name == "income" else statistic,
                "min_effect": 0.1,
                "decided_by": "both" if name in drifted else "p_value",
                "drifted": name in drifted,
            }
        )
    return {
        "model": "demo-classifier",
        "model_version": version,
        "window": "1d",
        "window_start": "2026-11-25T10:00:00+00:00",
        "window_end": "2026-11-26T10:00:00+00:00",
        "current_rows": 16800,
        "reference_rows": 2666,
        "drift_share": share,
        "share_threshold": 0.5,
        "drifted_features": len(drifted),
        "evaluated_features": 5,
        "features": features,
        "performance": {"accuracy": 0.788, "roc_auc": 0.9},
        "estimated_performance": {"accuracy": 0.918, "roc_auc": 0.97},
        "labeled_rows": 4200,
        "concept_drift": {"drifted": False},
    }


def _drift_alarm(rule: str, metric: str, value: float, old: str, new: str, at: str) -> dict:
    return {
        "AlarmName": f"ModelWatch-{rule}",
        "AlarmDescription": f"[warning] {rule}",
        "NewStateValue": new,
        "OldStateValue": old,
        "NewStateReason": f"Threshold Crossed: 1 out of the last 1 datapoints [{value} (26/11/26 10:00:00)] was "
        "greater than the threshold (0.3).",
        "StateChangeTime": at,
        "Region": "us-east-1",
        "Trigger": {
            "MetricName": metric,
            "Namespace": "ModelWatch",
            "Statistic": "MAXIMUM",
            "Dimensions": [{"value": "demo-classifier", "name": "service"}, {"value": "1d", "name": "window"}],
            "Period": 3600,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0.3,
        },
    }


def test_a_drift_incident_is_one_notice_from_its_report_and_one_recovery(stack, slack):
    receiver = slack()
    s3, bucket = stack.s3, stack.platform.settings.data_bucket
    opened_key = layout.report_prefix("v1", "1d", datetime(2026, 11, 26, 10, tzinfo=UTC)) + "drift.json"
    recovered_key = layout.report_prefix("v2", "1d", datetime(2026, 11, 26, 11, tzinfo=UTC)) + "drift.json"
    drifted = _drift_document("v1", 0.8, {"age": 0.57, "income": 0.41, "score": 0.35, "region": 0.2})
    s3.put_object(Bucket=bucket, Key=opened_key, Body=json.dumps(drifted).encode())
    s3.put_object(Bucket=bucket, Key=recovered_key, Body=json.dumps(_drift_document("v2", 0.0, {})).encode())
    at, later = "2026-11-26T10:02:00.000+0000", "2026-11-26T11:02:00.000+0000"
    promoted = RETRAINING_NOTICES[0]
    try:
        invoke("notify", _sns(_drift_alarm("DatasetDriftShare", "DriftShare", 0.8, "OK", "ALARM", at)))
        invoke("notify", _sns(_drift_alarm("FeatureDriftScore", "MaxDriftScore", 0.57, "OK", "ALARM", at)))
        invoke("notify", _sns(promoted, promoted))  # folded: it comes with the recovery
        invoke("notify", _sns(_drift_alarm("DatasetDriftShare", "DriftShare", 0.0, "ALARM", "OK", later)))
        assert len(receiver.received) == 1  # FeatureDriftScore is still raised
        invoke("notify", _sns(_drift_alarm("FeatureDriftScore", "MaxDriftScore", 0.05, "ALARM", "OK", later)))
    finally:
        for key in (opened_key, recovered_key):
            s3.delete_object(Bucket=bucket, Key=key)
    opened, recovered = receiver.received
    # By email too: the same two notices, the report's links written out.
    emailed_opened, emailed_recovered = stack.emails()
    assert (
        emailed_opened["subject"] == "DatasetDriftShare: v1, 1d window: drift share 0.80 (income, age, score, region)"
    )
    assert "\nThis check's report: https://us-east-1.console.aws.amazon.com/s3/object/" in emailed_opened["body"]
    assert "Drifted features, largest effect first" in emailed_opened["body"]
    assert emailed_recovered["subject"] == "Recovered: drift (1d window) since 2026-11-26 10:02 UTC"
    assert "Promoted retrained-run-1" in emailed_recovered["body"]
    assert opened["text"] == (
        ":red_circle: DatasetDriftShare: v1, 1d window: drift share 0.80 (income, age, score, region)"
    )
    text = _text(opened)
    # Ranked by effect; each with its method, effect against min_effect, and adjusted p-value.
    assert text.index("*income*") < text.index("*age*") < text.index("*score*") < text.index("*region*")
    assert "*age*: wasserstein 0.570 (drift from 0.100), p 5e-09 < 0.050" in text
    assert "*income*: wasserstein 0.900 (drift from 0.100)" in text
    assert "16,800 (baseline 2,666)" in text and "2026-11-25 10:00 UTC → 2026-11-26 10:00 UTC" in text
    assert "accuracy 0.788 labelled, 0.918 estimated" in text and "4,200 labelled rows" in text
    buttons = {e["text"]["text"]: e["url"] for e in opened["blocks"][-1]["elements"]}
    assert buttons["This check's report"].endswith(quote(opened_key.replace("drift.json", "report.html"), safe=""))
    assert recovered["text"] == ":large_green_circle: Recovered: drift (1d window) since 2026-11-26 10:02 UTC"
    text = _text(recovered)
    assert "after 60 min" in text and "Promoted retrained-run-1" in text and "v2" in text
    # The folded per-feature alarm, which joined the incident silently, names its features.
    assert "MaxDriftScore 0.570 (alarm when > 0.300): DriftScore of age 0.570, income 0.410, score 0.350" in text


def test_each_notice_is_one_plain_text_email_with_the_title_as_its_subject(stack, slack):
    receiver = slack()
    invoke("notify", _sns(SINGLE_METRIC))
    (email,) = stack.emails()
    (posted,) = receiver.received
    assert email["subject"] == "HighPredictionLatency: PredictionLatency 612.300 ms since 2026-11-26 10:03 UTC"
    assert posted["text"].endswith(email["subject"])
    body = email["body"]
    assert body.startswith(email["subject"] + "\n\n")
    assert "threshold is > 500.000 ms" in body and "Next step: " in body and "modelwatch promote" in body
    assert "*" not in body and "`" not in body  # Slack's mrkdwn, read as plain text
    assert "\nDashboard: https://us-east-1.console.aws.amazon.com/cloudwatch/" in body


# The latency alarm's recovery when its latest period had no datapoint (missing counts as OK).
RECOVERED_WITHOUT_DATAPOINT = SINGLE_METRIC | {
    "OldStateValue": "ALARM",
    "NewStateValue": "OK",
    "StateChangeTime": "2026-11-26T10:20:00.000+0000",
    "NewStateReason": "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
    "was treated as [NonBreaching].",
}


def test_without_slack_every_notice_still_goes_by_email(stack, monkeypatch):
    monkeypatch.setitem(stack.environment, SLACK_SECRET, "")  # Slack not configured
    recovered = RECOVERED_WITHOUT_DATAPOINT
    assert invoke("notify", _sns(SINGLE_METRIC, recovered, *RETRAINING_NOTICES[1:])).result == {"sent": 4}
    subjects = [e["subject"] for e in stack.emails()]
    assert subjects == [
        "HighPredictionLatency: PredictionLatency 612.300 ms since 2026-11-26 10:03 UTC",
        "Recovered: HighPredictionLatency at 2026-11-26 10:20 UTC",
        "Retraining not enough data: Nothing trained: 412 labelled rows in the lookback window, 1,000 needed",
        "Retraining failed: Failed: RuntimeError: training ran out of memory",
    ]


def test_a_recovery_without_a_datapoint_says_so(stack, monkeypatch):
    monkeypatch.setitem(stack.environment, SLACK_SECRET, "")
    recovered = RECOVERED_WITHOUT_DATAPOINT
    invoke("notify", _sns(SINGLE_METRIC, recovered))
    _, email = stack.emails()
    assert "now —" not in email["body"]
    assert "no datapoint in its latest period, which this alarm counts as not breaching" in email["body"]


def test_while_slack_fails_the_email_goes_once_and_the_retry_posts_to_slack_only(stack, slack):
    receiver = slack(failures=10)
    with pytest.raises(Exception, match="Slack answered 500"):
        invoke("notify", _sns(SINGLE_METRIC))
    assert len(stack.emails()) == 1 and not receiver.received  # email does not wait for Slack
    receiver.failures = 0
    assert invoke("notify", _sns(SINGLE_METRIC)).result == {"sent": 1}  # Lambda's retry
    assert stack.emails() == [] and len(receiver.received) == 1


def test_an_approval_notice_emails_its_commands(stack, monkeypatch):
    monkeypatch.setitem(stack.environment, SLACK_SECRET, "")
    waiting = {
        "modelwatch_retraining": {
            "outcome": "awaiting_approval",
            "run_id": "run-9",
            "trigger": "manual",
            "timeout_hours": 24,
            "decision": {"challenger_version": "retrained-run-9", "reason": "accuracy 0.80 >= 0.75"},
            "approve": "modelwatch approve run-9 --stack ModelWatch",
            "reject": 'modelwatch reject run-9 --stack ModelWatch --reason "..."',
        }
    }
    invoke("notify", _sns(waiting))
    (email,) = stack.emails()
    assert email["subject"] == "ModelWatch retraining: approval needed for run-9"
    assert "Approve: modelwatch approve run-9 --stack ModelWatch" in email["body"]
