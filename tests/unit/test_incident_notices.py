"""One incident, one notice: the alarm plan groups alarms into incidents (per-feature drift scores
folded into one alarm), the notifier's incident state decides which notification is told, and a
notice says what happened, since when, against which threshold and what to do next."""

from __future__ import annotations

from modelwatch.alerts import incident_notice as render
from modelwatch.alerts.incident import Incident
from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog.metrics import DRIFT_SCORE, MAX_DRIFT_SCORE

AT, LATER = "2026-11-26T10:02:00.000+0000", "2026-11-26T11:02:00.000+0000"


def test_per_feature_drift_scores_are_one_alarm_on_the_highest_and_drift_alarms_share_an_incident(demo_spec):
    planned = planned_alarms(demo_spec)
    names = [p.name for p in planned]
    assert not [n for n in names if n.startswith("FeatureDriftScore-")]
    (folded,) = [p for p in planned if p.name == "FeatureDriftScore"]
    assert folded.rule.metric == MAX_DRIFT_SCORE.name and folded.folded_from == DRIFT_SCORE.name
    assert folded.dimensions == {"service": demo_spec.metrics.service, "window": "1d"}
    assert folded.rule.threshold == 0.3 and folded.rule.statistic == "Maximum"
    by_name = {p.name: p.incident for p in planned}
    assert by_name["FeatureDriftScore"] == by_name["DatasetDriftShare"] == by_name["LowAccuracy"] == "drift-1d"
    assert by_name["RetrainOnNewData"] == "drift-1d"  # a trigger of its own, in its window's incident
    assert by_name["HighPredictionLatency"] == "HighPredictionLatency"
    assert by_name["ModelLoadFailed"] == "ModelLoadFailed"


def test_a_rule_that_is_not_the_highest_over_features_stays_per_feature(demo_spec):
    rule = next(r for r in demo_spec.alerts if r.name == "FeatureDriftScore")
    spec = demo_spec.model_copy(
        update={"alerts": [*demo_spec.alerts[:0], rule.model_copy(update={"statistic": "Average"})]}
    )
    names = [p.name for p in planned_alarms(spec) if p.rule.name == "FeatureDriftScore"]
    assert names == [f"FeatureDriftScore-{f}" for f in demo_spec.features]


def _changed(incident: Incident, alarm: str, old: str, new: str, at: str = AT) -> Incident:
    return incident.alarm_changed(alarm, old, new, at, {"rule": alarm, "value": 1.0})


def test_the_first_alarm_opens_the_incident_others_join_it_and_the_last_ok_recovers_it():
    incident = _changed(Incident("drift-1d"), "A", "OK", "ALARM")
    (opened,) = incident.to_post()
    assert opened.kind == "opened" and incident.open and incident.number == "drift-1d#1"
    incident = incident.posted(opened)
    incident = _changed(incident, "B", "OK", "ALARM")
    incident = _changed(incident, "B", "OK", "ALARM")  # delivered twice
    assert incident.to_post() == [] and set(incident.raised) == {"A", "B"}
    incident = _changed(incident, "A", "ALARM", "OK", LATER)
    assert incident.to_post() == [] and incident.open
    incident = _changed(incident, "B", "ALARM", "OK", LATER)
    (recovered,) = incident.to_post()
    assert recovered.kind == "recovered" and not incident.open and incident.closed_at == LATER
    incident = incident.posted(recovered)
    assert _changed(incident, "B", "ALARM", "OK", LATER).to_post() == []  # again: already told
    reopened = _changed(incident, "A", "OK", "ALARM", LATER)
    assert [p.kind for p in reopened.to_post()] == ["opened"] and reopened.number == "drift-1d#2"


def test_a_notice_not_confirmed_posted_is_posted_on_the_retry_and_a_first_ok_is_never_told():
    incident = _changed(Incident("X"), "X", "OK", "ALARM")
    again = _changed(Incident.from_dict(incident.to_dict()), "X", "OK", "ALARM")  # Lambda's retry
    assert [p.kind for p in again.to_post()] == ["opened"]
    assert _changed(Incident("Y"), "Y", "INSUFFICIENT_DATA", "OK").to_post() == []


def test_retraining_in_an_open_incident_waits_for_the_recovery_unless_a_person_is_needed():
    incident = _changed(Incident("drift-1d"), "A", "OK", "ALARM")
    incident = incident.posted(incident.to_post()[0])
    promoted = {"run_id": "r1", "outcome": "promoted", "trigger": "ModelWatch-RetrainOnDrift"}
    folded = incident.retraining_finished(promoted).retraining_finished(promoted)
    assert folded.to_post() == [] and folded.retraining == (promoted,)
    waiting = folded.retraining_finished({"run_id": "r2", "outcome": "awaiting_approval"})
    assert [p.kind for p in waiting.to_post()] == ["update"]
    alone = Incident("drift-1d").retraining_finished(promoted)
    assert [p.kind for p in alone.to_post()] == ["standalone"]


DOCUMENT = {
    "model": "demo-classifier",
    "model_version": "v1",
    "window": "1d",
    "window_start": "2026-11-25T10:00:00+00:00",
    "window_end": "2026-11-26T10:00:00+00:00",
    "current_rows": 16800,
    "reference_rows": 2666,
    "drift_share": 0.4,
    "share_threshold": 0.5,
    "drifted_features": 2,
    "evaluated_features": 5,
    "features": [
        {"name": "age", "method": "wasserstein", "statistic": 0.31, "score": 0.31, "threshold": 0.1, "drifted": True},
        {
            "name": "category",
            "method": "chisquare",
            "statistic": 91.0,
            "score": 1e-9,
            "p_value": 1e-9,
            "threshold": 0.01,
            "compared": "p_value",
            "drifted": True,
        },
        {"name": "income", "method": "wasserstein", "statistic": 0.02, "score": 0.02, "threshold": 0.1},
    ],
    "performance": {"accuracy": 0.81},
    "estimated_performance": {"accuracy": 0.9},
    "labeled_rows": 1000,
    "concept_drift": {"drifted": False},
}


def test_a_drift_notice_ranks_features_without_ranking_a_p_value_and_tolerates_missing_effects():
    incident = Incident("drift-1d").alarm_changed(
        "ModelWatch-FeatureDriftScore",
        "OK",
        "ALARM",
        AT,
        {
            "rule": "FeatureDriftScore",
            "metric_name": "MaxDriftScore",
            "value": 0.31,
            "threshold": 0.3,
            "comparison": ">",
            "folded_from": "DriftScore",
        },
    )
    notice = render.drift_opened(incident, DOCUMENT, [("report", "https://example/r")], "*Next step*: look.")
    assert notice.title == "FeatureDriftScore: v1, 1d window: drift share 0.40 (category, age)"
    text = notice.summary + "\n".join(notice.details)
    assert "*category*: chisquare p 1e-09 < 0.010" in text and "*age*: wasserstein score 0.310 > 0.100" in text
    assert "MaxDriftScore 0.310 (alarm when > 0.300): DriftScore of age 0.310" in text
    assert dict(notice.fields)["Performance"] == "accuracy 0.810 labelled, 0.900 estimated (1,000 labelled rows)"
    subject, body = notice.email()
    assert subject == notice.title and "report: https://example/r" in body and "*" not in body


def test_an_alarm_notice_says_since_when_against_what_and_the_next_step():
    reason = (
        "Threshold Crossed: 5 out of the last 5 datapoints [612.3 (26/11/26 10:04:00), 588.1 (26/11/26 10:00:00)] "
        "were greater than the threshold (500.0)."
    )
    assert render.breaching_since(reason) == "2026-11-26T10:00:00+00:00"
    entry = {
        "alarm": "ModelWatch-ModelLoadFailed",
        "rule": "ModelLoadFailed",
        "metric_name": "ModelLoadFailed",
        "value": 1.0,
        "threshold": 0.0,
        "comparison": ">",
        "at": AT,
        "since": "2026-11-26T10:00:00+00:00",
        "refused": "v2",
        "last_good": "v1",
        **render.metric_facts("ModelLoadFailed"),
    }
    step = render.next_step("ModelLoadFailed", "ModelWatch", "v1", "v2")
    notice = render.alarm_opened(entry, "[critical] a version failed to load", step, [])
    assert notice.title == "ModelLoadFailed: ModelLoadFailed 1.000 since 2026-11-26 10:00 UTC"
    assert "`modelwatch promote v1 --stack ModelWatch`" in step and "publish v2 again" in step
    assert dict(notice.fields)["Still served"] == "v1"


def test_an_email_subject_is_one_ascii_line_of_at_most_100_characters():
    assert (
        render.email_subject("Drift (1d window) since —\n2026 → now …") == "Drift (1d window) since - 2026 -> now ..."
    )
    long = render.email_subject("DatasetDriftShare: " + "feature, " * 30)
    assert len(long) == 100 and long.endswith("...")
    assert render.email_subject("café ✓").isascii() and render.email_subject("") == "ModelWatch notice"


def test_an_email_reads_slacks_markup_as_plain_text():
    notice = render.Notice(
        "ALARM", "T: x", "*bold* and `code`", [("Alarm", "_A_")], ["*Next step*: do it"], [("Dashboard", "https://d")]
    )
    subject, body = notice.email()
    assert subject == "T: x"
    assert body == "T: x\n\nbold and code\n\nAlarm: A\n\nNext step: do it\n\nDashboard: https://d\n"


def test_a_channel_that_has_a_notice_is_not_sent_it_again():
    incident = _changed(Incident("HighPredictionLatency"), "A", "OK", "ALARM")
    (opened,) = incident.to_post()
    emailed = incident.delivered(opened, "email")
    assert emailed.delivered_to(opened, "email") and not emailed.delivered_to(opened, "slack")
    assert emailed.to_post() == [opened] and emailed.delivered(opened, "email") == emailed
    assert emailed.delivered(opened, "slack").posted(opened).to_post() == []
