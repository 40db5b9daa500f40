"""The CloudWatch dashboard drawn locally: the widget catalogue's widgets (the ones the CDK stack
deploys), each series aggregated from the local stack's metrics per its period and statistic as
CloudWatch would, drawn as inline SVG in one self-contained page (no script, no network).

Alarm states are drawn as bands over the simulated time; retraining runs and promotions as
markers on every chart."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modelwatch.alerts.dashboard import Series, Widget, dashboard_rows
from modelwatch.catalog.metrics import (
    API_GATEWAY_NAMESPACE,
    API_ID_DIMENSION,
    CATALOGUE,
    LAMBDA_FUNCTION_DIMENSION,
    LAMBDA_NAMESPACE,
)
from modelwatch.spec.models import MonitoringSpec
from modelwatch_local.alarms import LOCAL_API_ID
from modelwatch_local.metrics import MetricStore, statistic
from modelwatch_local.segment_heat_map import HEAT_MAP_STYLE, render_segment_heat_map

HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 220, 56, 12, 14, 40
UNIT = 70  # drawing units per grid unit of CloudWatch's 24-wide grid: text keeps one size
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
STATE_COLORS = {"ALARM": "#d62728", "OK": "#2ca02c", "INSUFFICIENT_DATA": "#c7c7c7"}

Points = list[tuple[datetime, float]]


@dataclass(frozen=True)
class Marker:
    at: datetime
    label: str
    kind: str  # "retraining" or "promotion"


@dataclass(frozen=True)
class AlarmSpan:
    alarm: str
    state: str
    start: datetime
    end: datetime


def _bucket(points: Points, period: int) -> dict[int, list[float]]:
    buckets: dict[int, list[float]] = defaultdict(list)
    for moment, value in points:
        buckets[int(moment.timestamp()) // period].append(value)
    return buckets


def _aggregate(points: Points, series: Series) -> Points:
    """One datapoint per period with data: the series' statistic over the period's samples."""
    result = []
    for index, values in sorted(_bucket(points, series.period_seconds).items()):
        value = statistic(values, series.statistic)
        if value is not None:
            result.append((datetime.fromtimestamp(index * series.period_seconds, UTC), value))
    return result


def series_lines(spec: MonitoringSpec, store: MetricStore, series: Series) -> list[tuple[str, Points]]:
    """(label, datapoints) of a widget's series, as CloudWatch would graph them."""
    service = ("service", spec.metrics.service)
    if series.source == "metric":
        found = store.points(spec.metrics.namespace, series.name).get(frozenset({service, *series.dimensions}), [])
        return [(series.label, _aggregate(found, series))] if found else []
    if series.source == "lambda":
        dimensions = frozenset({(LAMBDA_FUNCTION_DIMENSION, f"modelwatch-{series.function}")})
        found = store.points(LAMBDA_NAMESPACE, series.name).get(dimensions, [])
        return [(series.label, _aggregate(found, series))] if found else []
    if series.source == "api":
        found = store.points(API_GATEWAY_NAMESPACE, series.name).get(frozenset({(API_ID_DIMENSION, LOCAL_API_ID)}), [])
        return [(series.label, _aggregate(found, series))] if found else []
    if series.source in ("each", "total"):
        metric = CATALOGUE[series.name]
        grouped: dict[str, Points] = defaultdict(list)
        if metric.named_per:  # one series per name: Predictions.<class>, labelled by the class
            by, prefix = metric.named_per, metric.name_for("")
            for name in store.names_under(spec.metrics.namespace, prefix):
                for points in store.points(spec.metrics.namespace, name).values():
                    grouped[name.removeprefix(prefix)] += points
        else:
            by = metric.per or metric.extra_dimensions[-1]  # what CloudWatch labels each series by
            for dimensions, points in store.points(spec.metrics.namespace, series.name).items():
                grouped[dict(dimensions).get(by, "")] += points
        if series.source == "total":
            every = [point for points in grouped.values() for point in points]
            return [(series.label, _aggregate(every, series))] if every else []
        return [(f"{by} {value}", _aggregate(sorted(points), series)) for value, points in sorted(grouped.items())]
    return []  # "logs": a Logs Insights query over log lines, which the local runtime does not keep


class Canvas:
    """Maps simulated time and values onto one widget's SVG."""

    def __init__(self, start: datetime, end: datetime, low: float, high: float, width: int, height: int = HEIGHT):
        self.start, self.end, self.width, self.height = start, end, width, height
        if high <= low:
            high = low + 1
        self.low, self.high = low, high

    def x(self, moment: datetime) -> float:
        share = (moment - self.start).total_seconds() / max(1.0, (self.end - self.start).total_seconds())
        return LEFT + share * (self.width - LEFT - RIGHT)

    def y(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return self.height - BOTTOM - share * (self.height - TOP - BOTTOM)

    def axes(self) -> list[str]:
        base = self.y(self.low)
        parts = [f'<line x1="{LEFT}" y1="{base:.1f}" x2="{self.width - RIGHT}" y2="{base:.1f}" stroke="#888"/>']
        for value in (self.low, (self.low + self.high) / 2, self.high):
            y = self.y(value) + 4
            parts.append(f'<text x="{LEFT - 4}" y="{y:.1f}" text-anchor="end" class="tick">{_short(value)}</text>')
        hours = int((self.end - self.start).total_seconds() // 3600)
        step = max(1, hours // 8)
        for hour in range(0, hours + 1, step):
            moment = self.start.fromtimestamp(self.start.timestamp() + hour * 3600, self.start.tzinfo)
            parts.append(
                f'<text x="{self.x(moment):.1f}" y="{self.height - BOTTOM + 14}" text-anchor="middle" class="tick">'
                f"{moment:%H:%M}</text>"
            )
        return parts

    def markers(self, markers: Iterable[Marker], labelled: bool = False) -> list[str]:
        parts = []
        for index, marker in enumerate(markers):
            color = "#2ca02c" if marker.kind == "promotion" else "#9467bd"
            x = self.x(marker.at)
            parts.append(
                f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{self.height - BOTTOM}" stroke="{color}" '
                f'stroke-dasharray="4 3" class="marker {marker.kind}"><title>{html.escape(marker.label)}</title></line>'
            )
            if labelled:  # the retraining panel names each run and promotion beside its line
                y = TOP + 12 + 14 * (index % 4)
                parts.append(
                    f'<text x="{x - 4:.1f}" y="{y}" text-anchor="end" class="tick" style="fill:{color}">'
                    f"{marker.at:%H:%M} {html.escape(marker.label)}</text>"
                )
        return parts


def _short(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"


def _graph(
    widget: Widget, lines: list[tuple[str, Points]], start: datetime, end: datetime, markers: list[Marker]
) -> tuple[str, int]:
    values = [v for _, points in lines for _, v in points] + [t.value for t in widget.thresholds]
    low, high = widget.y_range or (min([0.0, *values]), max([1.0, *values]) * 1.05)
    width = widget.width * UNIT
    canvas = Canvas(start, end, low, high, width)
    parts = canvas.axes()
    for threshold in widget.thresholds:
        y = canvas.y(threshold.value)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}" stroke="#d62728" stroke-width="1">'
            f"<title>{html.escape(threshold.label)}</title></line>"
        )
    parts += canvas.markers(markers, labelled=widget.kind == "retraining")
    drawn = 0
    legend = []
    for index, (label, points) in enumerate(lines):
        color = COLORS[index % len(COLORS)]
        coordinates = [(canvas.x(m), canvas.y(v)) for m, v in points]
        if len(coordinates) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.3"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8" fill="{color}"/>' for x, y in coordinates]
        drawn += len(coordinates)
        legend.append(f'<span style="color:{color}">&#9632;</span> {html.escape(label or "series")}')
    svg = f'<svg viewBox="0 0 {width} {HEIGHT}" role="img">{"".join(parts)}</svg>'
    return svg + f'<div class="legend">{" &nbsp; ".join(legend)}</div>', drawn


def _bands(
    widget: Widget, spans: list[AlarmSpan], start: datetime, end: datetime, markers: list[Marker]
) -> tuple[str, int]:
    names = sorted({s.alarm for s in spans})
    row, label_width = 16, 250
    height = TOP + row * len(names) + BOTTOM
    width = widget.width * UNIT - label_width
    canvas = Canvas(start, end, 0, 1, width, height)
    parts = []
    for index, name in enumerate(names):
        y = TOP + index * row
        parts.append(f'<text x="{LEFT - 4}" y="{y + 12}" text-anchor="end" class="tick">{html.escape(name)}</text>')
        for span in (s for s in spans if s.alarm == name):
            x0, x1 = canvas.x(span.start), canvas.x(span.end)
            parts.append(
                f'<rect x="{x0:.1f}" y="{y + 2}" width="{max(1.0, x1 - x0):.1f}" height="{row - 4}" '
                f'fill="{STATE_COLORS.get(span.state, "#999")}" class="band {span.state}">'
                f"<title>{html.escape(name)}: {span.state} from {span.start:%H:%M}</title></rect>"
            )
    parts += canvas.markers(markers)
    hours = int((end - start).total_seconds() // 3600)
    for hour in range(0, hours + 1, max(1, hours // 12)):
        moment = start.fromtimestamp(start.timestamp() + hour * 3600, start.tzinfo)
        parts.append(
            f'<text x="{canvas.x(moment):.1f}" y="{height - BOTTOM + 14}" text-anchor="middle" class="tick">'
            f"{moment:%H:%M}</text>"
        )
    view = f"{-label_width + LEFT} 0 {width + label_width - LEFT} {height}"
    legend = " &nbsp; ".join(f'<span style="color:{c}">&#9632;</span> {s}' for s, c in STATE_COLORS.items())
    return f'<svg viewBox="{view}" role="img">{"".join(parts)}</svg><div class="legend">{legend}</div>', len(spans)


def alarm_spans(history: list[dict], alarms: Iterable[str], start: datetime, end: datetime) -> list[AlarmSpan]:
    """Each alarm's states as spans: INSUFFICIENT_DATA from the start until its first change."""
    spans = []
    for alarm in alarms:
        changes = [(h["at"], h["state"]) for h in history if h["alarm"] == alarm]
        moments = [(start, "INSUFFICIENT_DATA"), *changes]
        for (since, state), (until, _) in zip(moments, [*moments[1:], (end, "")], strict=True):
            if until > since:
                spans.append(AlarmSpan(alarm, state, since, until))
    return spans


def render(
    spec: MonitoringSpec,
    store: MetricStore,
    alarm_names: list[str],
    history: list[dict],
    markers: list[Marker],
    start: datetime,
    end: datetime,
    *,
    segments: dict[str, Any] | None = None,
) -> str:
    """The dashboard page: every catalogue widget, in the catalogue's rows; with `segments` (a
    drift.json document of a spec with [[segments]]), the segment × feature heat map after them."""
    rows_html = []
    for row in dashboard_rows(spec):
        cells = []
        for widget in row:
            if widget.kind == "alarms":
                body, drawn = _bands(widget, alarm_spans(history, alarm_names, start, end), start, end, markers)
            elif not widget.drawn_locally:
                body, drawn = (
                    '<p class="aws-only">A Logs Insights query over the function\'s log lines: in CloudWatch only.</p>',
                    0,
                )
            else:
                lines = [line for series in widget.series for line in series_lines(spec, store, series)]
                body, drawn = _graph(widget, lines, start, end, markers)
            span = max(1, widget.width * 2)
            cells.append(
                f'<figure class="widget" style="grid-column: span {span}" data-widget="{html.escape(widget.title)}" '
                f'data-drawn-locally="{str(widget.drawn_locally).lower()}" data-points="{drawn}">'
                f"<figcaption>{html.escape(widget.title)}</figcaption>{body}</figure>"
            )
        rows_html.append(f'<div class="row">{"".join(cells)}</div>')
    # CloudWatch has no widget for it (one metric covers only the worst segment): the local page
    # draws it from the drift check's own document.
    segments_html = ""
    if segments is not None and "segments" in segments:
        segments_html = f"<h2>Segments × features</h2>{render_segment_heat_map(segments)}"
    marker_list = "".join(f"<li>{m.at:%a %H:%M} {html.escape(m.kind)}: {html.escape(m.label)}</li>" for m in markers)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ModelWatch dashboard (local)</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 16px; background: #f4f5f7; color: #16191f; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }}
.row {{ display: grid; grid-template-columns: repeat(48, 1fr); gap: 10px; margin-bottom: 10px; }}
.widget {{ background: #fff; border: 1px solid #d5dbdb; margin: 0; padding: 8px; min-width: 0; }}
figcaption {{ font-weight: 600; font-size: 14px; margin-bottom: 4px; }}
svg {{ width: 100%; height: auto; }}
.tick {{ font-size: 10px; fill: #545b64; }}
.legend {{ font-size: 11px; color: #545b64; }}
.aws-only {{ color: #545b64; font-style: italic; }}{HEAT_MAP_STYLE if segments_html else ""}
</style></head><body>
<h1>ModelWatch dashboard: {html.escape(spec.model.name)}</h1>
<p>Simulated time {start:%a %d %b %H:%M} to {end:%a %d %b %H:%M} UTC; the widgets of the CloudWatch
dashboard the stack deploys, from the local stack's metrics. Dashed lines: <span style="color:#9467bd">retraining
runs</span> and <span style="color:#2ca02c">promotions</span>; red lines: alarm thresholds.</p>
{"".join(rows_html)}{segments_html}
<h2>Retraining runs and promotions</h2><ul>{marker_list}</ul>
</body></html>
"""
