"""`modelwatch demo`'s notices, as Slack and the email subscriptions received them (alerts.md):
one incident, one notice, both ways. The quiet period sends none; the data-drift incident (every
drift alarm of the check, and the retraining it starts) is one notice when it opens and one when
it recovers, in Slack and by email alike."""

from __future__ import annotations

import json

import pytest

from modelwatch_local.story import NORMAL_HOURS, run
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-notices")
    result = run(out, ROOT / "monitoring.toml", say=lambda line: None, seed=1, normal_hours=NORMAL_HOURS)
    return result, result.events


def _phase_events(events: list[dict], name: str) -> list[dict]:
    """Every event from the phase's start to the next phase's."""
    starts = [i for i, e in enumerate(events) if e["kind"] == "phase"]
    (first,) = [i for i in starts if events[i]["phase"] == name]
    following = [i for i in starts if i > first]
    return events[first : following[0] if following else len(events)]


def test_the_quiet_period_sends_no_notice_and_no_email(story):
    _, events = story
    assert not [e for e in _phase_events(events, "normal") if e["kind"] in ("notice", "email")]


def test_the_data_drift_incident_is_one_notice_and_its_recovery(story):
    result, events = story
    notices = [e["text"] for e in _phase_events(events, "data_drift") if e["kind"] == "notice"]
    assert len(notices) == 2, notices
    opened, recovered = notices
    assert opened.startswith(":red_circle: DatasetDriftShare: v1, 1d window: drift share")
    assert recovered.startswith(":large_green_circle: Recovered: drift (1d window)")
    alerts = (result.out / "alerts.md").read_text()
    assert alerts.count("\n## ") == sum(e["kind"] in ("notice", "email") for e in events)
    messages = [json.loads(block.split("\n```", 1)[0]) for block in alerts.split("```json\n")[1:]]
    told = {m["text"]: json.dumps(m) for m in messages}
    # What drifted, by how much, where the check's report is, what retraining did about it.
    assert "Drifted features, largest effect first" in told[opened] and "This check's report" in told[opened]
    assert "Retraining (ModelWatch-DatasetDriftShare): Promoted" in told[recovered]


def test_the_data_drift_incident_is_exactly_one_email_and_its_recovery(story):
    result, events = story
    emails = [e for e in _phase_events(events, "data_drift") if e["kind"] == "email"]
    assert [e["subject"].split(":")[0] for e in emails] == ["DatasetDriftShare", "Recovered"], emails
    opened, recovered = emails
    notices = [e["text"] for e in _phase_events(events, "data_drift") if e["kind"] == "notice"]
    # The same notices as Slack's: the title is the subject, the notice the plain-text body.
    assert [n.split(" ", 1)[1] for n in notices] == [opened["subject"], recovered["subject"]]
    assert opened["subject"].startswith("DatasetDriftShare: v1, 1d window: drift share")
    assert recovered["subject"].startswith("Recovered: drift (1d window) since ")
    assert (
        "Drifted features, largest effect first" in opened["body"]
        and "\nThis check's report: https://" in opened["body"]
    )
    assert "Retraining (ModelWatch-DatasetDriftShare): Promoted" in recovered["body"]
    assert "*" not in opened["body"] + recovered["body"]
    # alerts.md shows each email as it was received.
    alerts = (result.out / "alerts.md").read_text()
    assert f"**Subject:** {opened['subject']}" in alerts and opened["body"].splitlines()[2] in alerts


def test_every_slack_notice_of_the_demo_was_emailed_too(story):
    _, events = story
    slack = [e["text"].split(" ", 1)[1] for e in events if e["kind"] == "notice"]
    emailed = [e["subject"] for e in events if e["kind"] == "email"]
    assert len(slack) == len(emailed) and slack
    assert all(subject == text[:100] or subject.endswith("...") for subject, text in zip(emailed, slack, strict=True))
