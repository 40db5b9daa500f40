"""The local dashboard's segment × feature heat map, drawn from one drift.json document as
inline SVG (no script, no network, like the rest of the dashboard).

One row per segment value (most drifted first), one column per feature. A cell's colour says how
far its check went toward its drift line, on the scale the verdict itself uses: 0 is no evidence,
1 is the line, 2 or more is far past it. A drifted cell is outlined and crossed so the map reads
without colour (printed, or by someone who cannot tell the reds apart); a cell that was not
judged is grey, hatched and labelled n/a, never drawn as "no drift"."""

from __future__ import annotations

import html
import itertools
import math
from dataclasses import dataclass
from typing import Any

# Cells keep one size whatever the number of segments: 50 values × 10 features grows the SVG
# downwards instead of shrinking every cell (and its text) to fit the page.
CELL_WIDTH, CELL_HEIGHT = 64, 22
LABEL_WIDTH = 230  # the row labels' column
# The slanted feature names: about 4px of height per character at 11px, slanted 40°.
HEADER_PIXELS_PER_CHARACTER, HEADER_MINIMUM = 4, 36
LEGEND_HEIGHT = 58
MARGIN = 8
ROW_LABEL_CHARACTERS = 34  # about what LABEL_WIDTH holds at 11px; longer labels end in "…"
COLUMN_LABEL_CHARACTERS = 16

# A sequential scale (ColorBrewer's OrRd) over the progress toward the drift line, 0 to 2; its
# last stop is the colour the dashboard and report use for drift.
SCALE_STOPS: tuple[tuple[float, str], ...] = (
    (0.0, "#fff7ec"),
    (0.5, "#fdd49e"),
    (1.0, "#fc8d59"),
    (1.5, "#e34a33"),
    (2.0, "#b91c1c"),
)
SCALE_TOP = SCALE_STOPS[-1][0]
DRIFT_COLOR = SCALE_STOPS[-1][1]
DRIFTED_OUTLINE = "#111827"
NOT_JUDGED_FILL = "#e5e7eb"
NOT_JUDGED_HATCH = "#9ca3af"
HATCH_ID = "mw-heat-not-judged"
SMALLEST_P_VALUE = 1e-300  # a p-value of 0 (underflow) is as far past the line as we draw


@dataclass(frozen=True)
class Cell:
    """One segment value × feature check, as the heat map draws it."""

    feature: dict[str, Any] | None  # None: the feature was not checked in this segment
    progress: float | None  # None: not judged

    @property
    def drifted(self) -> bool:
        return bool(self.feature and self.feature.get("drifted") and self.progress is not None)


def _interpolate(left: str, right: str, share: float) -> str:
    channels = [
        round(int(left[i : i + 2], 16) + (int(right[i : i + 2], 16) - int(left[i : i + 2], 16)) * share)
        for i in (1, 3, 5)
    ]
    return "#" + "".join(f"{c:02x}" for c in channels)


def scale_color(progress: float) -> str:
    """The scale's colour for a progress toward the drift line (clamped to 0..2)."""
    progress = min(max(progress, 0.0), SCALE_TOP)
    for (low, low_color), (high, high_color) in itertools.pairwise(SCALE_STOPS):
        if progress <= high:
            return _interpolate(low_color, high_color, (progress - low) / (high - low))
    return DRIFT_COLOR


def _is_dark(color: str) -> bool:
    """Whether text on `color` must be white to be read (relative luminance, roughly)."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * red + 0.587 * green + 0.114 * blue < 150


def drift_progress(feature: dict[str, Any]) -> float | None:
    """How far a feature's check went toward its drift line: 1 at the line, above it past it.
    None when the check gave no verdict (too few rows, no method).

    A p-value test is read on a log scale, log(p) / log(threshold): p = 1 is 0, p = threshold is
    1, and each further factor of the threshold adds 1, so 1e-60 does not flatten 0.04. A distance
    compared with its own threshold is statistic / threshold. Under the size-aware rule a check
    drifts only when it is significant *and* its effect reaches min_effect, so its progress is the
    weaker of the two: a tiny but significant shift stays below the line, as its verdict does."""
    if feature.get("status") != "ok" or feature.get("drifted") is None or feature.get("method") is None:
        return None
    threshold = feature.get("threshold")
    score = feature.get("score")
    compares_p_value = feature.get("compared") == "p_value"
    if score is None or threshold is None or threshold <= 0:
        # An infinite statistic is written as null (JSON has no Infinity); its verdict stands.
        return SCALE_TOP if feature["drifted"] else 0.0
    if compares_p_value:
        if threshold >= 1:
            return SCALE_TOP if feature["drifted"] else 0.0
        progress = math.log(max(score, SMALLEST_P_VALUE)) / math.log(threshold) if score < 1 else 0.0
    else:
        progress = score / threshold
    effect, min_effect = feature.get("effect"), feature.get("min_effect")
    if effect is not None and min_effect:
        progress = min(progress, effect / min_effect)
    return max(progress, 0.0)


def segment_label(segment: dict[str, Any]) -> str:
    """How the console names a segment value: by_region[region=eu]."""
    values = ", ".join(f"{key}={value}" for key, value in segment.get("values", {}).items())
    return f"{segment['segment']}[{values}]"


def _truncated(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.2e}"
        return f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _feature_order(document: dict[str, Any], segments: list[dict[str, Any]]) -> list[str]:
    """Every feature checked in some segment, in the document's order (its top-level features'),
    then any a segment alone has. A segment's `by` feature is not checked within its values
    (constant there) and gets no column of n/a."""
    checked = [feature["name"] for segment in segments for feature in segment.get("features", [])]
    ordered = [feature["name"] for feature in document.get("features", []) if feature["name"] in checked]
    return list(dict.fromkeys([*ordered, *checked]))


def _window(document: dict[str, Any]) -> str:
    """What the document's window is, in the words it carries: the drift job's window and its
    bounds, or the command line's current file."""
    if document.get("window"):
        bounds = " to ".join(str(document[key]) for key in ("window_start", "window_end") if document.get(key))
        return f"window {document['window']}" + (f" ({bounds})" if bounds else "")
    if document.get("current"):
        return f"current data {document['current']}"
    return "this drift check"


def _tooltip(label: str, segment: dict[str, Any], name: str, cell: Cell) -> str:
    lines = [f"{label} × {name}"]
    feature = cell.feature
    if feature is None:
        lines.append("not checked in this segment")
    else:
        compared = feature.get("compared") or "statistic"
        lines += [
            f"method: {feature.get('method') or '—'} (threshold on the {compared.replace('_', '-')})",
            f"statistic: {_number(feature.get('statistic'))}",
            f"threshold: {_number(feature.get('threshold'))}",
        ]
        if feature.get("p_value") is not None:
            lines.append(
                f"p-value: {_number(feature['p_value'])} (adjusted {_number(feature.get('p_value_adjusted'))})"
            )
        if feature.get("min_effect") is not None:
            lines.append(f"effect: {_number(feature.get('effect'))} (min_effect {_number(feature['min_effect'])})")
        reference, current = _number(feature.get("reference_count")), _number(feature.get("current_count"))
        lines.append(
            f"rows: reference {reference}, current {current}"
            f" (segment {_number(segment.get('reference_rows'))} / {_number(segment.get('current_rows'))})"
        )
        if cell.progress is None:
            verdict = f"not judged ({feature.get('status', 'no verdict')})"
        else:
            verdict = "DRIFTED" if cell.drifted else "no drift"
            verdict += f"; {cell.progress:.2f} of the way to the drift line"
        lines.append(f"verdict: {verdict}")
        if feature.get("note"):
            lines.append(f"note: {feature['note']}")
    return html.escape("\n".join(lines))


def _cell_svg(x: float, y: float, cell: Cell, tooltip: str, feature_name: str) -> str:
    attributes = f'data-feature="{html.escape(feature_name)}"'
    if cell.progress is None:
        return (
            f'<g class="cell not-judged" {attributes} data-drifted="false">'
            f"<title>{tooltip}</title>"
            f'<rect x="{x}" y="{y}" width="{CELL_WIDTH}" height="{CELL_HEIGHT}" fill="url(#{HATCH_ID})" '
            f'stroke="#fff"/>'
            f'<text x="{x + CELL_WIDTH / 2}" y="{y + 15}" text-anchor="middle" class="heat-na">n/a</text></g>'
        )
    fill = scale_color(cell.progress)
    text_color = "#fff" if _is_dark(fill) else "#111827"
    if cell.drifted:
        # Outline drawn inside the cell (inset by half its width) so neighbours do not cover it.
        return (
            f'<g class="cell drifted" {attributes} data-drifted="true" data-fill="{fill}">'
            f"<title>{tooltip}</title>"
            f'<rect x="{x}" y="{y}" width="{CELL_WIDTH}" height="{CELL_HEIGHT}" fill="{fill}" stroke="#fff"/>'
            f'<rect x="{x + 1.5}" y="{y + 1.5}" width="{CELL_WIDTH - 3}" height="{CELL_HEIGHT - 3}" fill="none" '
            f'stroke="{DRIFTED_OUTLINE}" stroke-width="3"/>'
            f'<text x="{x + CELL_WIDTH / 2}" y="{y + 15}" text-anchor="middle" class="heat-mark" '
            f'style="fill:{text_color}">✕ drift</text></g>'
        )
    return (
        f'<g class="cell" {attributes} data-drifted="false" data-fill="{fill}">'
        f"<title>{tooltip}</title>"
        f'<rect x="{x}" y="{y}" width="{CELL_WIDTH}" height="{CELL_HEIGHT}" fill="{fill}" stroke="#fff"/></g>'
    )


def _legend(y: float) -> str:
    """The scale's swatches with what they mean, then the two marks that do not need colour."""
    parts = [f'<text x="{MARGIN}" y="{y + 12}" class="heat-legend-title">Progress toward the drift line:</text>']
    swatch_x = MARGIN + 200
    steps = [(0.0, "0"), (0.5, "0.5"), (1.0, "1: the line"), (1.5, "1.5"), (2.0, "≥ 2")]
    for index, (progress, text) in enumerate(steps):
        x = swatch_x + index * (CELL_WIDTH + 6)
        parts.append(
            f'<rect x="{x}" y="{y + 2}" width="{CELL_WIDTH}" height="12" fill="{scale_color(progress)}" '
            f'stroke="#d5dbdb"/><text x="{x}" y="{y + 26}" class="heat-tick">{text}</text>'
        )
    marks_x = swatch_x + len(steps) * (CELL_WIDTH + 6) + 12
    parts.append(
        f'<rect x="{marks_x + 1.5}" y="{y + 3.5}" width="{CELL_WIDTH - 3}" height="13" fill="#fff" '
        f'stroke="{DRIFTED_OUTLINE}" stroke-width="3"/>'
        f'<text x="{marks_x + CELL_WIDTH / 2}" y="{y + 14}" text-anchor="middle" class="heat-mark">✕ drift</text>'
        f'<text x="{marks_x}" y="{y + 28}" class="heat-tick">drifted</text>'
        f'<rect x="{marks_x + CELL_WIDTH + 12}" y="{y + 2}" width="{CELL_WIDTH}" height="16" fill="url(#{HATCH_ID})"/>'
        f'<text x="{marks_x + CELL_WIDTH * 1.5 + 12}" y="{y + 14}" text-anchor="middle" class="heat-na">n/a</text>'
        f'<text x="{marks_x + CELL_WIDTH + 12}" y="{y + 28}" class="heat-tick">not judged</text>'
    )
    explanation = (
        "p-value tests: log(p-value) / log(threshold); distances: statistic / threshold; "
        "with a min_effect, the smaller of that and effect / min_effect."
    )
    parts.append(f'<text x="{MARGIN}" y="{y + 46}" class="heat-tick">{explanation}</text>')
    return "".join(parts)


def render_segment_heat_map(document: dict[str, Any]) -> str:
    """An HTML fragment: the segment × feature heat map of one drift.json document, or a
    paragraph saying why there is none."""
    segments: list[dict[str, Any]] = document.get("segments") or []
    if not segments:
        why = (
            "The spec has [[segments]] but this window holds no segment values."
            if "segments" in document
            else "This drift check has no segments: add [[segments]] to the spec to check each slice of "
            "traffic (a region, a client) against its own slice of the reference."
        )
        return f'<p class="heat-map-empty">{html.escape(why)}</p>'

    # Most drifted first, so the segments to look at are at the top of a long map.
    ordered = sorted(segments, key=lambda segment: (-(segment.get("drift_share") or 0.0), segment_label(segment)))
    features = _feature_order(document, ordered)
    width = LABEL_WIDTH + len(features) * CELL_WIDTH + MARGIN
    legend_width = MARGIN + 200 + 7 * (CELL_WIDTH + 6) + 24
    width = max(width, legend_width, 620)
    longest_name = max(len(_truncated(name, COLUMN_LABEL_CHARACTERS)) for name in features) if features else 0
    grid_top = max(HEADER_MINIMUM, 14 + HEADER_PIXELS_PER_CHARACTER * longest_name)
    height = grid_top + len(ordered) * CELL_HEIGHT + 12 + LEGEND_HEIGHT

    parts = [
        f'<defs><pattern id="{HATCH_ID}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{NOT_JUDGED_FILL}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{NOT_JUDGED_HATCH}" stroke-width="2"/></pattern></defs>'
    ]
    for column, name in enumerate(features):
        x = LABEL_WIDTH + column * CELL_WIDTH + CELL_WIDTH / 2
        parts.append(
            f'<text x="{x}" y="{grid_top - 6}" transform="rotate(-40 {x} {grid_top - 6})" class="heat-column">'
            f"<title>{html.escape(name)}</title>{html.escape(_truncated(name, COLUMN_LABEL_CHARACTERS))}</text>"
        )
    for row, segment in enumerate(ordered):
        y = grid_top + row * CELL_HEIGHT
        label = segment_label(segment)
        by_name = {feature["name"]: feature for feature in segment.get("features", [])}
        row_drifted = bool(segment.get("drifted_features"))
        row_title = (
            f"{label}: drift share {_number(segment.get('drift_share'))}, "
            f"drifted {', '.join(segment.get('drifted_features') or []) or 'none'}; "
            f"rows: reference {_number(segment.get('reference_rows'))}, current {_number(segment.get('current_rows'))}"
        )
        cells = [
            f'<g class="heat-row" data-segment="{html.escape(label)}" data-drifted="{str(row_drifted).lower()}">',
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" '
            f'class="heat-label{" drifted" if row_drifted else ""}"><title>{html.escape(row_title)}</title>'
            f"{html.escape(_truncated(label, ROW_LABEL_CHARACTERS))}</text>",
        ]
        for column, name in enumerate(features):
            feature = by_name.get(name)
            cell = Cell(feature, None if feature is None else drift_progress(feature))
            x = LABEL_WIDTH + column * CELL_WIDTH
            cells.append(_cell_svg(x, y, cell, _tooltip(label, segment, name, cell), name))
        cells.append("</g>")
        parts.append("".join(cells))
    parts.append(_legend(grid_top + len(ordered) * CELL_HEIGHT + 12))

    drifted = sum(1 for segment in segments if segment.get("drifted_features"))
    not_judged = sum(1 for segment in segments if segment.get("status") != "ok")
    count = f"{drifted} of {len(segments)} segment{'s' if len(segments) != 1 else ''} drifted"
    if not_judged:
        count += f" ({not_judged} not judged: too few rows)"
    caption = f"Segments × features for {_window(document)}: {count}."
    # A fixed pixel width (not the page's 100%) keeps every cell one size; a wide map scrolls.
    svg = (
        f'<svg class="heat-map" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'style="width:{width}px;height:{height}px;max-width:none" role="img" '
        f'aria-label="{html.escape(caption)}">{"".join(parts)}</svg>'
    )
    return (
        f'<figure class="segment-heat-map" data-segments="{len(segments)}" data-drifted-segments="{drifted}">'
        f'<figcaption class="heat-caption">{html.escape(caption)}</figcaption>'
        f'<div class="heat-scroll" style="overflow-x:auto">{svg}</div></figure>'
    )


# The heat map's text styles, for a page that shows it (the dashboard adds them to its own).
HEAT_MAP_STYLE = """
.segment-heat-map { background: #fff; border: 1px solid #d5dbdb; margin: 0 0 10px; padding: 8px; }
.heat-caption { font-weight: 600; font-size: 14px; margin-bottom: 4px; }
.heat-label { font-size: 11px; fill: #16191f; }
.heat-label.drifted { font-weight: 700; }
.heat-column { font-size: 11px; fill: #16191f; }
.heat-mark { font-size: 11px; font-weight: 700; }
.heat-na { font-size: 10px; fill: #374151; }
.heat-tick { font-size: 10px; fill: #545b64; }
.heat-legend-title { font-size: 11px; fill: #16191f; font-weight: 600; }
.heat-map-empty { color: #545b64; font-style: italic; }
"""
