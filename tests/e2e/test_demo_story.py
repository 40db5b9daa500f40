"""`modelwatch demo`'s story, shortened: drift is caught in the drifted hours, the reports are
exported, and the exported report renders in a real browser."""

from __future__ import annotations

import json
import re

import pytest

from modelwatch_local.story import run
from tests.e2e.browser import dump_dom

pytestmark = pytest.mark.browser


def test_the_story_catches_the_drift_and_exports_reports(tmp_path):
    lines: list[str] = []
    result = run(tmp_path, say=lines.append, normal_hours=3, drifted_hours=2, per_hour=200)
    hours = [line for line in lines if line.strip().startswith("hour")]
    assert len(hours) == 5
    assert all("DRIFT" not in line for line in hours[:3]) and all("DRIFT" in line for line in hours[3:])
    day = result["day"]
    assert day["performance"]["accuracy"] == pytest.approx(day["estimated_performance"]["accuracy"], abs=0.05)
    for window in ("1h", "1d", "7d"):
        assert json.loads(result["reports"][window]["drift.json"].read_text())["window"] == window
    dom = dump_dom(result["reports"]["1h"]["report.html"])
    assert "DRIFT" in dom and "Model performance" in dom  # labels come later: the estimate shows
    # Accuracy below the spec's 0.80 (once labels arrive) and then the drift start retraining;
    # shortened, the story has a few hundred labelled rows, fewer than min_rows: nothing trains.
    said = [line.strip() for line in lines]
    assert "alarms ALARM LowAccuracy" in said and "alarms ALARM DatasetDriftShare" in said
    runs = [line for line in said if line.startswith("retraining (")]
    assert [line.split(")")[0] for line in runs] == ["retraining (RetrainOnPerformance", "retraining (RetrainOnDrift"]
    assert all(re.search(r"nothing trained: \d+ labelled rows, 1000 needed$", line) for line in runs)
    assert all(e.status == "SUCCEEDED" and "Train" not in e.visited for e in result["retraining"])
    day_page = dump_dom(result["reports"]["1d"]["report.html"])
    assert "Labels and business KPIs" in day_page and "ClickThroughRate" in day_page
