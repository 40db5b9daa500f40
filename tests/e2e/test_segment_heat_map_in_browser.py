"""The dashboard's segment × feature heat map is a picture people look at: render the page in
Chromium and check that the one drifted segment's drifted feature is drawn in the drift colour
in the map's first row, and that the page loads without console errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from modelwatch.spec import load_spec
from modelwatch_local.dashboard import render
from modelwatch_local.metrics import MetricStore
from modelwatch_local.segment_heat_map import CELL_HEIGHT, CELL_WIDTH, DRIFT_COLOR
from tests.conftest import ROOT
from tests.e2e.browser import console_messages, dump_dom, screenshot
from tests.segment_documents import segment_drift_document

pytestmark = pytest.mark.browser

DRIFT_RGB = np.array([int(DRIFT_COLOR[i : i + 2], 16) for i in (1, 3, 5)])
WHITE = np.array([255, 255, 255])


def _near(pixels: np.ndarray, colour: np.ndarray, tolerance: int = 12) -> np.ndarray:
    return np.abs(pixels.astype(int) - colour).max(axis=-1) <= tolerance


def _bands(rows: np.ndarray, gap: int = 4) -> list[tuple[int, int]]:
    """Runs of row indexes, as (first, last); a run may skip up to `gap` rows (where the cell's
    "✕ drift" text covers most of its fill)."""
    bands: list[tuple[int, int]] = []
    for row in rows:
        if bands and row <= bands[-1][1] + 1 + gap:
            bands[-1] = (bands[-1][0], int(row))
        else:
            bands.append((int(row), int(row)))
    return bands


@pytest.fixture(scope="module")
def heat_page(tmp_path_factory) -> Path:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    page = tmp_path_factory.mktemp("heat") / "dashboard.html"
    document = segment_drift_document()  # x1 shifted by 1σ in region asia only
    page.write_text(
        render(
            load_spec(ROOT / "monitoring.toml"),
            MetricStore(),
            [],
            [],
            [],
            start,
            start + timedelta(hours=2),
            segments=document,
        )
    )
    return page


def test_the_drifted_cell_is_drawn_in_the_drift_colour_in_the_first_row(heat_page, tmp_path):
    dom = dump_dom(heat_page)
    rows = re.findall(r'<g class="heat-row" data-segment="([^"]+)" data-drifted="(\w+)">', dom)
    assert rows[0] == ("by_region[region=asia]", "true")
    assert [drifted for _, drifted in rows[1:]] == ["false"] * 3

    image = screenshot(heat_page, tmp_path / "heat.png", height=3000)
    drift = _near(image, DRIFT_RGB)
    # Rows of the screenshot where the drift colour spans most of a cell's width: the drifted
    # cell (its fill inside the dark outline) and, below the map, the legend's top swatch.
    wide = np.where(drift.sum(axis=1) >= CELL_WIDTH // 2)[0]
    bands = _bands(wide)
    assert len(bands) == 2, bands
    (cell_top, cell_bottom), (legend_top, _) = bands
    assert CELL_HEIGHT - 10 <= cell_bottom - cell_top + 1 <= CELL_HEIGHT, (cell_top, cell_bottom)
    columns = np.where(drift[cell_top : cell_bottom + 1].any(axis=0))[0]
    left, right = int(columns.min()), int(columns.max())
    assert right - left + 1 <= CELL_WIDTH  # one cell, not a row of them
    centre_x, centre_y = (left + right) // 2, (cell_top + cell_bottom) // 2

    # The first row: above the drifted cell is the header's white, not another cell ...
    above = image[centre_y - CELL_HEIGHT, left + 2 : left + 10]
    assert _near(above, WHITE, 2).all(), above
    # ... and below it three rows of cells drawn in other colours (stable and not judged).
    for row in (1, 2, 3):
        below = image[centre_y + row * CELL_HEIGHT, left + 2 : left + 10]
        assert not _near(below, DRIFT_RGB).any() and not _near(below, WHITE, 2).all(), (row, below)
    # The legend's swatch is below the whole map, not a row of it.
    assert legend_top > centre_y + 3 * CELL_HEIGHT
    # x2 beside it did not drift: another colour.
    assert not _near(image[centre_y, centre_x + CELL_WIDTH - 10 : centre_x + CELL_WIDTH + 10], DRIFT_RGB).any()


def test_the_dashboard_with_a_heat_map_logs_no_console_errors(heat_page):
    assert console_messages(heat_page) == []
