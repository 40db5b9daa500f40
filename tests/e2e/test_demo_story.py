"""`modelwatch demo`'s story, judged from its timeline.json: a quiet normal period, then each
incident's alarm after its onset and within its alarm's evaluation periods, the promotion after
the retraining trigger, the tampered version refused while the previous one keeps serving; and
the pages it leaves (index.html, dashboard.html) open in Chromium without console errors, with
every widget drawn from data."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelwatch.alerts.dashboard import dashboard_widgets
from modelwatch.alerts.plan import planned_alarms
from modelwatch.spec import load_spec
from modelwatch_local.story import NORMAL_HOURS, run
from modelwatch_local.timeline import TIME_FORMAT
from tests.conftest import ROOT
from tests.e2e.browser import console_messages, dump_dom, screenshot

pytestmark = pytest.mark.browser
SPEC = load_spec(ROOT / "monitoring.toml")
SCREENSHOTS = ROOT / "out" / "e2e"
ACCURACY_FLOOR = next(rule.threshold for rule in SPEC.alerts if rule.name == "LowAccuracy")


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = run(out, ROOT / "monitoring.toml", say=lambda line: None, seed=1, normal_hours=NORMAL_HOURS)
    events = json.loads(result.timeline.read_text())["events"]
    for event in events:
        event["at"] = datetime.strptime(event["at"], TIME_FORMAT).replace(tzinfo=UTC)
    return result, events


def _allowed(alarm: str) -> timedelta:
    """How long after an incident's onset its alarm may take: its evaluation periods."""
    (planned,) = [p for p in planned_alarms(SPEC) if f"ModelWatch-{p.name}" == alarm]
    return timedelta(seconds=planned.rule.period_seconds * planned.rule.evaluation_periods)


def _phase(events: list[dict], name: str) -> dict:
    (phase,) = [e for e in events if e["kind"] == "phase" and e["phase"] == name]
    return phase


def _first(events: list[dict], kind: str, after: datetime, **details: object) -> dict:
    return next(e for e in events if e["kind"] == kind and e["at"] >= after and details.items() <= e.items())


def test_the_normal_period_is_quiet(story):
    _, events = story
    normal = [e for e in events if e.get("phase") == "normal"]
    assert sum(e["kind"] == "drift_check" for e in normal) == NORMAL_HOURS
    assert not [e for e in normal if e["kind"] == "alarm"]
    for check in (e for e in normal if e["kind"] == "drift_check"):
        for window in check["windows"].values():
            assert window["dataset_drift"] is False, check
            assert window["accuracy"] is None or window["accuracy"] >= ACCURACY_FLOOR + 0.05


def test_latency_alarms_within_its_periods_and_clears_on_recovery(story):
    _, events = story
    onset = _phase(events, "latency")["at"]
    alarm = _first(events, "alarm", onset, alarm="ModelWatch-HighPredictionLatency")
    assert onset < alarm["at"] <= onset + _allowed(alarm["alarm"])
    recovered = _first(events, "recovery", onset)["at"]
    ok = _first(events, "alarm_state", recovered, alarm="ModelWatch-HighPredictionLatency", new="OK")
    assert ok["at"] - recovered <= timedelta(minutes=1)


def test_a_tampered_version_is_refused_alarmed_and_the_previous_keeps_serving(story):
    _, events = story
    push = _phase(events, "bad_push")
    onset = push["at"]
    alarm = _first(events, "alarm", onset, alarm="ModelWatch-ModelLoadFailed")
    # The functions re-read the registry pointer at most pointer_ttl_seconds late.
    pointer_delay = timedelta(seconds=SPEC.serving.pointer_ttl_seconds)
    assert onset <= alarm["at"] <= onset + _allowed(alarm["alarm"]) + pointer_delay
    served = [e for e in events if e["kind"] == "served" and e.get("phase") == "bad_push"]
    assert served and all(e["versions"] == [push["previous"]] for e in served)
    assert any(e["kind"] == "notice" and "ModelLoadFailed" in e["text"] for e in events)


def test_data_drift_alarms_retrains_on_the_new_data_and_returns_within_limits(story):
    _, events = story
    onset = _phase(events, "data_drift")["at"]
    alarm = _first(events, "alarm", onset, alarm="ModelWatch-DatasetDriftShare")
    assert onset < alarm["at"] <= onset + _allowed(alarm["alarm"])
    retraining = _first(events, "retraining", onset, trigger="ModelWatch-DatasetDriftShare")
    promotion = _first(events, "promotion", retraining["at"], trigger="ModelWatch-DatasetDriftShare")
    assert events.index(promotion) > events.index(retraining) and promotion["version"] == retraining["challenger"]
    after = [
        e for e in events if e["kind"] == "drift_check" and e["phase"] == "data_drift" and e["at"] > promotion["at"]
    ]
    assert after, "no drift check after the promotion"
    for check in after:
        day = check["windows"]["1d"]
        assert day["model_version"] == promotion["version"] and day["dataset_drift"] is False
        assert day["accuracy"] >= ACCURACY_FLOOR
    _first(events, "alarm_state", promotion["at"], alarm="ModelWatch-DatasetDriftShare", new="OK")


def test_concept_drift_is_seen_by_labels_not_by_the_estimate_and_retrains(story):
    _, events = story
    onset = _phase(events, "concept_drift")["at"]
    alarm = _first(events, "alarm", onset, alarm="ModelWatch-LowAccuracy")
    assert onset < alarm["at"] <= onset + _allowed(alarm["alarm"])
    checks = [e for e in events if e["kind"] == "drift_check" and e["phase"] == "concept_drift"]
    assert any(c["windows"]["1d"]["concept_drift"] is True for c in checks)
    for check in checks:
        assert check["windows"]["1h"]["dataset_drift"] is False  # the inputs stayed put
    # While the model of before the onset serves, its label-free estimate stays high and only the
    # labels show the fall: the reason to watch both.
    served_at_onset = checks[0]["windows"]["1h"]["model_version"]
    for check in (c for c in checks if c["windows"]["1h"]["model_version"] == served_at_onset):
        hour = check["windows"]["1h"]
        assert hour["accuracy"] < 0.7 and hour["estimated_accuracy"] > 0.85
    _first(events, "retraining", alarm["at"], trigger="ModelWatch-LowAccuracy")


def test_a_shift_in_one_category_is_caught_by_its_segment_alone_and_named_everywhere(story):
    """Category "c" (a fifth of traffic) gets older customers: the whole day window lists no
    drifted feature and no whole-window alarm fires, while SegmentDrift does, within its period; its
    notice, the check's report and the dashboard's heat map name the segment and the feature."""
    result, events = story
    onset = _phase(events, "segment_drift")["at"]
    during = [e for e in events if e["at"] >= onset]  # the story's last incident
    alarms = [e["alarm"] for e in during if e["kind"] == "alarm"]
    assert alarms == ["ModelWatch-SegmentDrift"]
    alarm = _first(events, "alarm", onset, alarm="ModelWatch-SegmentDrift")
    assert alarm["at"] - onset <= _allowed("ModelWatch-SegmentDrift") + timedelta(hours=1)
    days = [e["windows"][SPEC.segment_window] for e in during if e["kind"] == "drift_check"]
    assert all(day["drifted_features"] == [] and day["dataset_drift"] is False for day in days)
    assert days[-1]["drifted_segments"] == {"by_category[category=c]": ["age"]}
    (notice,) = [e for e in during if e["kind"] == "notice" and "SegmentDrift" in e["told"]]
    assert "by_category[category=c]" in notice["told"] and "(age)" in notice["told"]
    checked = alarm["at"].strftime("%Y-%m-%dT%H:%M:%SZ")  # as the report's key names its check
    (folder,) = [f for f in result.reports if f.split("/")[1:] == [SPEC.segment_window, checked]]
    report = dump_dom(result.reports[folder]["report.html"])
    assert "by_category[category=c]" in report
    dashboard = dump_dom(result.out / "dashboard.html")
    assert "Segments × features" in dashboard and "by_category[category=c]" in dashboard


def test_the_pages_open_without_console_errors_and_draw_every_widget(story):
    result, _ = story
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    index, dashboard = result.index, result.out / "dashboard.html"
    for page in (index, dashboard):
        assert console_messages(page) == [], page
    index_dom = dump_dom(index)
    assert 'href="dashboard.html"' in index_dom and 'href="alerts.md"' in index_dom
    assert index_dom.count(">report.html</a>") == sum("report.html" in files for files in result.reports.values()) > 20
    alerts = (result.out / "alerts.md").read_text()
    assert alerts.count("\n## ") == sum(e["kind"] in ("notice", "email") for e in result.events)
    dom = dump_dom(dashboard)
    for widget in dashboard_widgets(SPEC):
        marker = f'data-widget="{widget.title}"'
        assert marker in dom, widget.title
        points = int(dom.split(marker, 1)[1].split('data-points="', 1)[1].split('"', 1)[0])
        assert points > 0 or not widget.drawn_locally, widget.title
    assert 'class="marker promotion"' in dom and 'class="band ALARM"' in dom
    pixels = screenshot(dashboard, SCREENSHOTS / "dashboard.png", width=1400, height=2600)
    assert (pixels.std(axis=(0, 1)) > 10).all()  # not a blank page
    screenshot(index, SCREENSHOTS / "index.png", width=1200, height=1400)


def _decisions(value: object) -> object:
    """An event as the story decides it: free text and measured wall-clock figures left out
    (latencies are measured, so the values and reasons quoting them vary), other numbers to two
    places (a latency alarm's value is one of them)."""
    if isinstance(value, dict):
        free_text = ("told", "text", "reason", "subject", "body")  # Slack's and the email's notices too
        return {k: _decisions(v) for k, v in value.items() if k not in free_text}
    if isinstance(value, list):
        return [_decisions(v) for v in value]
    if isinstance(value, float):
        return round(value, 2)
    return value


def _drift_documents(out: Path) -> dict[str, bytes]:
    """Every drift.json the demo left, with the moment each was written blanked, and the
    fingerprint of its input objects: the API issues each prediction a random request id, so
    each run's capture objects hold other ids (and other ETags) while every value is the same."""
    blanked = {}
    for path in sorted((out / "reports").rglob("drift.json")):
        document = re.sub(rb'"generated_at": "[^"]*"', b'"generated_at": ""', path.read_bytes())
        blanked[str(path.relative_to(out))] = re.sub(rb'"inputs_fingerprint": "[^"]*"', b"", document)
    return blanked


def test_the_story_is_the_same_for_the_same_seed(story, tmp_path):
    """Four more runs: the same decisions, and every drift check's drift.json the same bytes."""
    first, events = story
    reports = _drift_documents(first.timeline.parent)
    assert len(reports) >= 20
    for run_number in range(2, 6):
        out = tmp_path / f"run-{run_number}"
        again = run(out, ROOT / "monitoring.toml", say=lambda line: None, seed=1, normal_hours=NORMAL_HOURS)
        repeated = json.loads(again.timeline.read_text())["events"]
        for event in repeated:
            event["at"] = datetime.strptime(event["at"], TIME_FORMAT).replace(tzinfo=UTC)
        assert _decisions(repeated) == _decisions(events), f"run {run_number}"
        assert _drift_documents(out) == reports, f"run {run_number}: a drift.json differs"
