"""The HTML drift report is a picture people look at: render it in a real browser and look."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelwatch.demo.data import demo_frame
from modelwatch.drift import analyze
from modelwatch.report import render_html
from tests.conftest import build_profile
from tests.e2e.browser import dump_dom, screenshot

pytestmark = pytest.mark.browser

REFERENCE_GREY = np.array([0x8A, 0x94, 0xA6])
CURRENT_BLUE = np.array([0x25, 0x63, 0xEB])
DRIFT_RED = np.array([0xB9, 0x1C, 0x1C])


def _pixels_near(image: np.ndarray, colour: np.ndarray, tolerance: int = 12) -> int:
    return int((np.abs(image.astype(int) - colour).max(axis=2) <= tolerance).sum())


@pytest.fixture(scope="module")
def report_page(tmp_path_factory, demo_spec) -> Path:
    report = analyze(
        demo_spec, build_profile(demo_spec, demo_frame(4000, 1)), build_profile(demo_spec, demo_frame(3000, 5, 0.8))
    )
    page = tmp_path_factory.mktemp("report") / "report.html"
    page.write_text(render_html(report, {"model": "demo-classifier", "reference": "train.csv", "current": "prod.csv"}))
    return page


def test_report_renders_charts_and_verdict_offline(report_page, tmp_path):
    image = screenshot(report_page, tmp_path / "report.png")
    # Both series of bars are drawn, and the drift verdict is shown in red.
    assert _pixels_near(image, REFERENCE_GREY) > 2000
    assert _pixels_near(image, CURRENT_BLUE) > 2000
    assert _pixels_near(image, DRIFT_RED) > 50
    # The page is not blank or cut: content reaches well down the page.
    rows_with_ink = np.where((image < 200).any(axis=(1, 2)))[0]
    assert rows_with_ink.max() > 900


def test_report_dom_has_one_chart_per_column(report_page):
    dom = dump_dom(report_page)
    assert dom.count("<svg") == 7  # five features, the prediction and the label
    assert "DRIFT" in dom


def test_category_names_are_escaped(tmp_path, demo_spec):
    frame = demo_frame(500, 1)
    hostile = frame | {"category": np.array(["<img src=x onerror=alert(1)>"] * 500, dtype=object)}
    report = analyze(demo_spec, build_profile(demo_spec, frame), build_profile(demo_spec, hostile))
    page = tmp_path / "hostile.html"
    page.write_text(render_html(report, {}))
    dom = dump_dom(page)
    assert "<img" not in dom and "&lt;img" in dom
