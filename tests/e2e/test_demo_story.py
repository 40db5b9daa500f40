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
    # Shortened, the story has a few hundred labelled rows, fewer than the spec's min_rows.
    retraining = result["retraining"]
    assert retraining.status == "SUCCEEDED" and "Train" not in retraining.visited
    assert re.fullmatch(r"nothing trained: \d{3} labelled rows, 1000 needed", lines[-1].strip())
    day_page = dump_dom(result["reports"]["1d"]["report.html"])
    assert "Labels and business KPIs" in day_page and "ClickThroughRate" in day_page
