"""The local dashboard's segment × feature heat map, read from a drift.json document that the
real segment code path made: rows ranked by drift share, drifted cells marked without relying on
colour, unjudged cells grey and labelled, the count in the caption, and a paragraph instead of an
empty map."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta

import pytest

from modelwatch_local.dashboard import render
from modelwatch_local.metrics import MetricStore
from modelwatch_local.segment_heat_map import (
    CELL_HEIGHT,
    CELL_WIDTH,
    DRIFT_COLOR,
    HATCH_ID,
    drift_progress,
    render_segment_heat_map,
    scale_color,
)
from tests.segment_documents import segment_drift_document


@pytest.fixture(scope="module")
def document() -> dict:
    return segment_drift_document()


def _rows(fragment: str) -> list[tuple[str, str]]:
    """(segment label, drifted) of each row, top to bottom."""
    return re.findall(r'<g class="heat-row" data-segment="([^"]+)" data-drifted="(\w+)">', fragment)


def _row(fragment: str, label: str) -> str:
    return fragment.split(f'data-segment="{label}"')[1].split('<g class="heat-row"')[0]


def _cells(row: str) -> list[tuple[str, str, str]]:
    """(class, feature, drifted) of each cell of one row, left to right."""
    return re.findall(r'<g class="(cell[^"]*)" data-feature="([^"]+)" data-drifted="(\w+)"', row)


def test_rows_are_ranked_by_drift_share_then_by_name(document):
    fragment = render_segment_heat_map(document)
    assert _rows(fragment) == [
        ("by_region[region=asia]", "true"),  # drift share 1/3: x1 of x1, x2, app
        ("by_region[region=eu]", "false"),
        ("by_region[region=other]", "false"),
        ("by_region[region=us]", "false"),
    ]


def test_columns_are_the_checked_features_in_the_documents_order(document):
    fragment = render_segment_heat_map(document)
    # region is the segment's own `by` (constant within a value, never checked there): no column.
    assert [feature for _, feature, _ in _cells(_row(fragment, "by_region[region=eu]"))] == ["x1", "x2", "app"]


def test_only_the_shifted_feature_of_the_shifted_segment_is_marked_drifted(document):
    fragment = render_segment_heat_map(document)
    asia = _row(fragment, "by_region[region=asia]")
    assert _cells(asia) == [("cell drifted", "x1", "true"), ("cell", "x2", "false"), ("cell", "app", "false")]
    drifted_cell = asia.split('class="cell drifted"')[1].split("</g>")[0]
    # Readable without colour: a thick dark outline and a cross with the word.
    assert 'stroke-width="3"' in drifted_cell and "✕ drift" in drifted_cell
    # A 1σ shift is far past its line: the top of the scale.
    assert f'data-fill="{DRIFT_COLOR}"' in drifted_cell
    assert fragment.count('class="cell drifted"') == 1


def test_a_segment_without_reference_rows_is_grey_hatched_and_na(document):
    fragment = render_segment_heat_map(document)
    other = _row(fragment, "by_region[region=other]")
    assert [kind for kind, _, _ in _cells(other)] == ["cell not-judged"] * 3
    assert other.count(f'fill="url(#{HATCH_ID})"') == 3 and other.count(">n/a<") == 3
    # The stable segments are judged and drawn on the scale, never n/a.
    assert "not-judged" not in _row(fragment, "by_region[region=eu]")


def test_a_feature_a_segment_did_not_check_is_na_and_says_so(document):
    partial = copy.deepcopy(document)
    (eu,) = [s for s in partial["segments"] if s["values"] == {"region": "eu"}]
    eu["features"] = [f for f in eu["features"] if f["name"] != "x2"]
    row = _row(render_segment_heat_map(partial), "by_region[region=eu]")
    assert _cells(row)[1] == ("cell not-judged", "x2", "false")
    assert "by_region[region=eu] × x2\nnot checked in this segment" in row


def test_the_caption_names_the_window_and_counts_the_drifted_segments(document):
    fragment = render_segment_heat_map(document)
    caption = re.search(r'<figcaption class="heat-caption">([^<]+)</figcaption>', fragment).group(1)
    assert "window 1d (2026-12-01T00:00:00+00:00 to 2026-12-02T00:00:00+00:00)" in caption
    assert "1 of 4 segments drifted (1 not judged: too few rows)" in caption
    stable = render_segment_heat_map(segment_drift_document(shift=0.0))
    assert "0 of 4 segments drifted" in stable and 'class="cell drifted"' not in stable


def test_each_cell_says_what_was_compared_in_its_tooltip(document):
    asia = _row(render_segment_heat_map(document), "by_region[region=asia]")
    tooltip = asia.split('data-feature="x1"')[1].split("<title>")[1].split("</title>")[0]
    (asia_segment,) = [s for s in document["segments"] if s["values"] == {"region": "asia"}]
    (x1,) = [f for f in asia_segment["features"] if f["name"] == "x1"]
    assert tooltip.startswith("by_region[region=asia] × x1")
    assert f"method: {x1['method']}" in tooltip
    assert "statistic: " in tooltip and "threshold: 0.05" in tooltip
    assert f"rows: reference {x1['reference_count']:,}, current {x1['current_count']:,}" in tooltip
    assert "verdict: DRIFTED" in tooltip


def test_the_legend_says_what_the_colour_means(document):
    fragment = render_segment_heat_map(document)
    assert "Progress toward the drift line" in fragment
    assert "log(p-value) / log(threshold)" in fragment and "statistic / threshold" in fragment
    assert "not judged" in fragment and "drifted" in fragment


def test_without_segments_a_paragraph_says_why():
    without = render_segment_heat_map({"features": [], "dataset_drift": False})
    assert without.startswith('<p class="heat-map-empty">') and "[[segments]]" in without
    assert "<svg" not in without
    empty = render_segment_heat_map({"segments": [], "segment_drift": False})
    assert empty.startswith("<p") and "holds no segment values" in empty


def test_fifty_segments_keep_their_cell_size_and_the_map_grows_downwards(document):
    """50 values × the document's features: cells stay one size (the SVG gets taller, not the
    cells smaller) and a long value's label is cut with the whole of it in its title."""
    (template,) = [s for s in document["segments"] if s["values"] == {"region": "eu"}]
    many = copy.deepcopy(document)
    long_value = "a-client-application-with-a-very-long-identifier"
    names = [f"{long_value}-{index:02d}" if index % 10 == 0 else f"r{index:02d}" for index in range(50)]
    many["segments"] = [copy.deepcopy(template) | {"values": {"region": name}} for name in names]
    small, large = render_segment_heat_map(document), render_segment_heat_map(many)
    height = lambda fragment: int(re.search(r'<svg class="heat-map" width="\d+" height="(\d+)"', fragment).group(1))  # noqa: E731
    assert height(large) - height(small) == (50 - 4) * CELL_HEIGHT
    assert large.count(f'width="{CELL_WIDTH}" height="{CELL_HEIGHT}"') >= 50 * 3
    assert len(_rows(large)) == 50
    # The cut label ends in an ellipsis; its title has the full label.
    full = f"by_region[region={long_value}-00]"
    row = _row(large, full)
    assert "…</text>" in row.split("<g class=")[0] and f"<title>{full}: drift share" in row


def test_segment_values_are_escaped(document):
    hostile = copy.deepcopy(document)
    hostile["segments"][0]["values"] = {"region": "<img src=x onerror=alert(1)>"}
    fragment = render_segment_heat_map(hostile)
    assert "<img" not in fragment and "&lt;img" in fragment


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        # A p-value test read on a log scale: at its threshold 1, at p = threshold² 2.
        ({"compared": "p_value", "score": 0.05, "threshold": 0.05}, 1.0),
        ({"compared": "p_value", "score": 0.0025, "threshold": 0.05}, 2.0),
        ({"compared": "p_value", "score": 1.0, "threshold": 0.05}, 0.0),
        # Significant but too small an effect: the weaker of the two, below the line.
        ({"compared": "p_value", "score": 1e-9, "threshold": 0.05, "effect": 0.05, "min_effect": 0.1}, 0.5),
        # A distance against its own threshold.
        ({"compared": "statistic", "score": 0.15, "threshold": 0.1}, 1.5),
        # No verdict: not drawn on the scale.
        ({"status": "insufficient_data", "drifted": None}, None),
    ],
)
def test_progress_toward_the_drift_line(feature, expected):
    base = {"status": "ok", "drifted": False, "method": "ks", "effect": None, "min_effect": None}
    progress = drift_progress(base | feature)
    assert progress == (None if expected is None else pytest.approx(expected))


def test_the_scale_runs_from_pale_to_the_drift_colour():
    assert scale_color(0.0) == "#fff7ec" and scale_color(2.0) == DRIFT_COLOR and scale_color(40.0) == DRIFT_COLOR
    assert scale_color(-1.0) == "#fff7ec"


def _dashboard(**keywords) -> str:
    from modelwatch.spec import load_spec
    from tests.conftest import ROOT

    start = datetime(2026, 11, 23, tzinfo=UTC)
    spec = load_spec(ROOT / "monitoring.toml")
    return render(spec, MetricStore(), [], [], [], start, start + timedelta(hours=2), **keywords)


def test_the_dashboard_draws_the_heat_map_after_its_widgets_only_when_given_segments(document):
    plain = _dashboard()
    assert plain == _dashboard(segments=None)
    assert "Segments × features" not in plain and "heat-map" not in plain
    # A document without segments (a spec without [[segments]]) adds nothing either.
    assert _dashboard(segments={"dataset_drift": False, "features": []}) == plain

    page = _dashboard(segments=document)
    section = page.index("<h2>Segments × features</h2>")
    assert page.rindex('class="widget"') < section < page.index("<h2>Retraining runs and promotions</h2>")
    assert 'class="segment-heat-map" data-segments="4" data-drifted-segments="1"' in page
    assert "<script" not in page and "http" not in page.split("<body>")[1]
