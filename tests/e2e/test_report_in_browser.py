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


# --- drift over time ------------------------------------------------------------------------

DRIFTED_CHUNK_BAND = np.array([0xFE, 0xCA, 0xCA])  # the report's shading of a drifted chunk


def _timestamped_demo(path: Path, drift_from_day: int | None, days: int = 10, rows: int = 600) -> Path:
    """The demo model's traffic over `days` days, with labels: inputs drift (the demo's own 0.8)
    from day `drift_from_day` (counted from 1) on, or never."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parts, times = [], []
    start = np.datetime64("2026-01-01T00:00:00", "s")
    for day in range(days):
        drift = 0.8 if drift_from_day is not None and day + 1 >= drift_from_day else 0.0
        parts.append(demo_frame(rows, 100 + day, drift))
        times.append(start + np.timedelta64(day, "D") + np.arange(rows) * np.timedelta64(86_400 // rows, "s"))
    frame = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    frame["ts"] = np.array([f"{t}Z" for t in np.concatenate(times)], dtype=object)
    pacsv.write_csv(pa.table(frame), path)
    return path


def _chunked_report(folder: Path, drift_from_day: int | None) -> Path:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from modelwatch.cli.main import main
    from tests.conftest import ROOT

    reference = folder / "reference.csv"
    pacsv.write_csv(pa.table(demo_frame(4000, 1)), reference)
    current = _timestamped_demo(folder / "current.csv", drift_from_day)
    page = folder / "report.html"
    argv = ["drift", "--spec", str(ROOT / "monitoring.toml"), "--reference", str(reference), "--current", str(current)]
    main([*argv, "--timestamp", "ts", "--chunk-period", "1d", "--html", str(page)])
    return page


@pytest.fixture(scope="module")
def chunked_pages(tmp_path_factory) -> tuple[Path, Path]:
    drifted = _chunked_report(tmp_path_factory.mktemp("drifted"), drift_from_day=5)
    stable = _chunked_report(tmp_path_factory.mktemp("stable"), drift_from_day=None)
    return drifted, stable


def test_drift_over_time_charts_mark_the_chunks_from_day_5(chunked_pages):
    import re

    drifted, _ = chunked_pages
    dom = dump_dom(drifted)
    assert "Drift over time: 10 chunks by 1d of ts" in dom
    charts = dict(re.findall(r'data-chart="([^"]+)" data-drifted-chunks="(\d+)"', dom))
    # The drift share, performance (measured and estimated accuracy), multivariate and one chart
    # per feature, each with a column per chunk.
    assert {"drift_share", "performance", "feature:age", "feature:region"} <= set(charts)
    assert charts["drift_share"] == "6"
    share = dom.split('data-chart="drift_share"')[1].split("</svg>")[0]
    states = re.findall(r'data-chunk-state="(\w+)"', share)
    assert states == ["ok"] * 4 + ["drifted"] * 6
    assert share.count('class="guide-threshold"') == 1  # the dataset share threshold, dashed


def test_drifted_chunks_are_shaded_red_in_the_browser_and_stable_ones_are_not(chunked_pages, tmp_path):
    drifted, stable = chunked_pages
    shaded = _pixels_near(screenshot(drifted, tmp_path / "drifted.png", height=3200), DRIFTED_CHUNK_BAND, 4)
    calm = _pixels_near(screenshot(stable, tmp_path / "stable.png", height=3200), DRIFTED_CHUNK_BAND, 4)
    assert shaded > 20_000, shaded  # six of ten columns, in the share chart and the drifted features' charts
    assert calm < shaded / 10, (calm, shaded)


def test_the_segment_table_ranks_the_drifted_segment_first_and_links_to_its_features(tmp_path):
    """A shift confined to one region: the report's segment table puts that segment first, with
    its drifted feature, and its link opens the segment's own feature table (drawn open)."""
    import json
    import re

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from modelwatch.cli.main import main

    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(
        "[model]\nname = 'segments'\n"
        "[features.x1]\ntype = 'numeric'\n[features.x2]\ntype = 'numeric'\n[features.region]\ntype = 'categorical'\n"
        "[drift.multivariate]\npca_reconstruction = false\ndomain_classifier = false\n"
        "[[segments]]\nname = 'by_region'\nby = ['region']\n"
    )

    def table(seed: int, shift: float) -> Path:
        rng = np.random.default_rng(seed)
        region = rng.choice(np.array(["north", "south", "east", "west"], dtype=object), 12_000, p=[0.4, 0.3, 0.2, 0.1])
        x1 = rng.normal(size=12_000) + shift * (region == "west")
        path = tmp_path / f"{seed}.csv"
        pacsv.write_csv(pa.table({"x1": x1, "x2": rng.normal(size=12_000), "region": region}), path)
        return path

    page, out = tmp_path / "report.html", tmp_path / "drift.json"
    argv = ["drift", "--spec", str(spec_path), "--reference", str(table(1, 0.0)), "--current", str(table(2, 1.0))]
    assert main([*argv, "--html", str(page), "--json", str(out)]) == 1
    assert json.loads(out.read_text())["segment_drift"] is True
    dom = dump_dom(page)
    rows = re.findall(r'<tr data-segment="([^"]+)" data-drifted="(\w+)"><td><a href="#(segment-\d+)"', dom)
    assert rows[0][0] == "by_region[region=west]" and rows[0][1] == "true"
    assert [drifted for _, drifted, _ in rows[1:]] == ["false"] * (len(rows) - 1)
    details = dom.split(f'<details id="{rows[0][2]}" open="">')[1].split("</details>")[0]
    assert "x1" in details and "drift" in details
    image = screenshot(page, tmp_path / "segments.png", height=2400)
    assert _pixels_near(image, DRIFT_RED) > 50  # the drift badges are drawn
