"""Geometry for the report's drift-over-time charts (inline SVG, drawn by the template): one
column per chunk, each series a step line across the chunks with a marker per chunk, thresholds as
dashed step lines, chunks that drifted shaded red and chunks with too few rows shaded amber — the
picture NannyML users know.

p-values are drawn on an inverted log scale (smaller, stronger evidence, higher up), so a drifted
chunk sits above its threshold line as a distance above its own does."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from modelwatch.drift.results import ChunkedDrift, ColumnDrift, DriftReport

WIDTH = 520
HEIGHT = 170
LEFT, RIGHT, TOP, BOTTOM = 56, 10, 10, 30
# Smallest p-value drawn: below it every chunk is certainly different, and the axis stays readable.
P_FLOOR = 1e-16
# At most this many axis labels; the others are in each column's tooltip.
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    flagged: bool
    title: str


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    path: str  # SVG path data: the step line (gaps where a chunk has no value)
    markers: list[Marker]
    dashed: bool = False


@dataclass(frozen=True)
class Column:
    """One chunk's band across the plot."""

    x: float
    width: float
    state: str  # "drifted", "insufficient" or "ok"
    title: str


@dataclass(frozen=True)
class Guide:
    """A threshold (dashed) or the reference's value (dotted), step-wise over the chunks."""

    kind: str  # "threshold" or "reference"
    path: str
    label: str


@dataclass(frozen=True)
class ChunkChart:
    key: str  # what the chart is of, for tests and anchors: "drift_share", "feature:age", ...
    title: str
    subtitle: str
    width: int
    height: int
    plot_top: float
    plot_bottom: float
    plot_left: float
    plot_right: float
    columns: list[Column]
    series: list[Series]
    guides: list[Guide]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]

    @property
    def drifted_chunks(self) -> int:
        return sum(column.state == "drifted" for column in self.columns)


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    log: bool  # inverted log10 scale (p-values)

    def y(self, value: float) -> float:
        if self.log:
            share = math.log10(max(value, self.low)) / math.log10(self.low)
        else:
            share = (value - self.low) / (self.high - self.low) if self.high > self.low else 0.5
        share = min(max(share, 0.0), 1.0)
        return HEIGHT - BOTTOM - share * (HEIGHT - BOTTOM - TOP)

    def ticks(self, marks: Sequence[float]) -> list[tuple[float, str]]:
        if self.log:
            lowest = round(math.log10(self.low))  # the axis' top, a power of ten
            stride = max(1, -lowest // 4)  # about five labels
            decades = [10.0**e for e in range(0, lowest - 1, -stride)]
            # A decade label right beside a threshold's would print over it: the threshold's wins.
            values = [d for d in decades if all(abs(self.y(d) - self.y(m)) >= 9 for m in marks)] + list(marks)
        else:
            values = [self.low, (self.low + self.high) / 2, self.high]
        return [(self.y(v), _short(v)) for v in sorted(set(values))]


def _short(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) < 1e-3 or abs(value) >= 1e4:
        return f"{value:.0e}"
    return f"{value:.3g}"


def _linear(values: Sequence[float | None], fixed: tuple[float, float] | None = None) -> _Scale:
    if fixed is not None:
        return _Scale(*fixed, log=False)
    present = [v for v in values if v is not None and math.isfinite(v)]
    if not present:
        return _Scale(0.0, 1.0, log=False)
    low, high = min(present), max(present)
    pad = (high - low) * 0.12 or abs(high) * 0.1 or 1.0
    low = 0.0 if low >= 0 and low - pad < 0 else low - pad
    return _Scale(low, high + pad, log=False)


def _p_values(values: Sequence[float | None]) -> _Scale:
    present = [v for v in values if v is not None and v > 0]
    smallest = min([*present, 1e-3])
    floor = max(10.0 ** math.floor(math.log10(smallest)), P_FLOOR)
    return _Scale(floor, 1.0, log=True)


class _Frame:
    """The chunks' columns on the x axis."""

    def __init__(self, drift: ChunkedDrift) -> None:
        self.drift = drift
        self.count = len(drift.results)
        self.step = (WIDTH - LEFT - RIGHT) / max(self.count, 1)

    def left(self, index: int) -> float:
        return LEFT + index * self.step

    def centre(self, index: int) -> float:
        return self.left(index) + self.step / 2

    def ticks(self) -> list[tuple[float, str]]:
        every = max(1, math.ceil(self.count / MAX_X_LABELS))
        return [(self.centre(i), _axis_label(label)) for i, label in enumerate(self.drift.labels) if i % every == 0]

    def step_path(self, ys: Sequence[float | None]) -> str:
        """Each chunk's value held across its column; a chunk without one breaks the line."""
        parts: list[str] = []
        previous = False
        for index, y in enumerate(ys):
            if y is None:
                previous = False
                continue
            start, end = self.left(index), self.left(index) + self.step
            parts.append(f"V{y:.1f}H{end:.1f}" if previous else f"M{start:.1f},{y:.1f}H{end:.1f}")
            previous = True
        return "".join(parts)

    def columns(self, states: Sequence[str], titles: Sequence[str]) -> list[Column]:
        return [
            Column(self.left(i), self.step, state, title)
            for i, (state, title) in enumerate(zip(states, titles, strict=True))
        ]


def _axis_label(label: str) -> str:
    """A chunk's name, short: 2026-01-05 -> 01-05; 2026-01-05 14h -> 05 14h."""
    if len(label) == 10 and label[4] == "-":
        return label[5:]
    if label.endswith("h") and len(label) == 14:
        return label[8:]
    return label if len(label) <= 10 else label[:9] + "…"


def _chart(
    frame: _Frame,
    key: str,
    title: str,
    subtitle: str,
    scale: _Scale,
    series: list[tuple[str, str, list[float | None], list[bool], list[str], bool]],
    guides: list[tuple[str, list[float | None], str]],
    states: list[str],
    tick_marks: Sequence[float] = (),
) -> ChunkChart:
    drawn = []
    for name, colour, values, flagged, titles, dashed in series:
        ys = [None if v is None or not math.isfinite(v) else scale.y(v) for v in values]
        markers = [
            Marker(frame.centre(i), y, flag, text)
            for i, (y, flag, text) in enumerate(zip(ys, flagged, titles, strict=True))
            if y is not None
        ]
        drawn.append(Series(name, colour, frame.step_path(ys), markers, dashed))
    lines = [
        Guide(kind, frame.step_path([None if v is None else scale.y(v) for v in values]), label)
        for kind, values, label in guides
        if any(v is not None for v in values)
    ]
    column_titles = [f"{label}: {_state_text(state)}" for label, state in zip(frame.drift.labels, states, strict=True)]
    return ChunkChart(
        key,
        title,
        subtitle,
        WIDTH,
        HEIGHT,
        TOP,
        HEIGHT - BOTTOM,
        LEFT,
        WIDTH - RIGHT,
        frame.columns(states, column_titles),
        drawn,
        lines,
        scale.ticks(tick_marks),
        frame.ticks(),
    )


def _state_text(state: str) -> str:
    return {"drifted": "drift", "insufficient": "too few rows for a verdict", "ok": "no drift"}[state]


def _feature(report: DriftReport, name: str) -> ColumnDrift | None:
    return next((feature for feature in report.features if feature.name == name), None)


def _feature_chart(frame: _Frame, name: str) -> ChunkChart:
    columns = [_feature(result.report, name) for result in frame.drift.results]
    judged = [c for c in columns if c is not None and c.status == "ok"]
    compared = judged[0].compared if judged else "p_value"
    same = [c if c is not None and c.status == "ok" and c.compared == compared else None for c in columns]
    scores = [None if c is None else c.score for c in same]
    thresholds = [None if c is None else c.threshold for c in same]
    p_values = compared == "p_value"
    scale = _p_values([*scores, *thresholds]) if p_values else _linear([*scores, *thresholds])
    method = judged[0].method.value if judged and judged[0].method else "—"
    what = "p-value, log scale (drift: below the threshold, with a large enough effect)" if p_values else "distance"
    states = ["insufficient" if c is None or c.status != "ok" else "drifted" if c.drifted else "ok" for c in columns]
    titles = [_feature_title(label, c) for label, c in zip(frame.drift.labels, columns, strict=True)]
    flagged = [bool(c is not None and c.drifted) for c in columns]
    marks = [t for t in thresholds if t is not None][:1]
    return _chart(
        frame,
        f"feature:{name}",
        name,
        f"{method}: {what}",
        scale,
        [("score", "#2563eb", scores, flagged, titles, False)],  # type: ignore[list-item]
        [("threshold", thresholds, "threshold")],
        states,
        marks,
    )


def _feature_title(label: str, column: ColumnDrift | None) -> str:
    if column is None or column.status != "ok":
        return f"{label}: too few values for a verdict"
    verdict = "drift" if column.drifted else "no drift"
    effect = "" if column.min_effect is None else f", effect {_short(column.effect or 0)} (min {column.min_effect:g})"
    return f"{label}: score {_short(column.score or 0)} (threshold {_short(column.threshold or 0)}){effect}: {verdict}"


def _share_chart(frame: _Frame) -> ChunkChart:
    reports = [result.report for result in frame.drift.results]
    shares = [None if r.dataset_drift is None else r.drift_share for r in reports]
    states = ["insufficient" if r.dataset_drift is None else "drifted" if r.dataset_drift else "ok" for r in reports]
    titles = [
        f"{label}: {len(r.drifted)} of {len(r.evaluated)} features drifted"
        for label, r in zip(frame.drift.labels, reports, strict=True)
    ]
    threshold = reports[0].share_threshold if reports else 0.5
    return _chart(
        frame,
        "drift_share",
        "Dataset drift share",
        f"share of features drifted; dataset drift at {threshold:g} or more",
        _linear([], (0.0, 1.0)),
        [("share", "#2563eb", shares, [s == "drifted" for s in states], titles, False)],  # type: ignore[list-item]
        [("threshold", [threshold] * len(reports), "threshold")],
        states,
        [threshold],
    )


def _multivariate_charts(frame: _Frame) -> list[ChunkChart]:
    methods = list(dict.fromkeys(m.method for r in frame.drift.results for m in r.report.multivariate))
    charts = []
    for method in methods:
        found = [next((m for m in r.report.multivariate if m.method == method), None) for r in frame.drift.results]
        ok = [m if m is not None and m.status == "ok" else None for m in found]
        scores = [None if m is None else m.score for m in ok]
        thresholds = [None if m is None else m.threshold for m in ok]
        # PCA's error share drifts below a lower threshold too (windows that reconstruct too well).
        lower = [None if m is None else (m.details or {}).get("lower_threshold") for m in ok]
        states = ["insufficient" if m is None else "drifted" if m.drifted else "ok" for m in ok]
        titles = [
            f"{label}: {'too few rows' if m is None else f'score {_short(m.score)} (threshold {_short(m.threshold)})'}"
            for label, m in zip(frame.drift.labels, ok, strict=True)
        ]
        name = "PCA reconstruction error" if method == "pca_reconstruction" else "Domain classifier (ROC AUC)"
        charts.append(
            _chart(
                frame,
                f"multivariate:{method}",
                name,
                "multivariate drift: how the numeric features move together",
                _linear([*scores, *thresholds, *lower]),
                [("score", "#2563eb", scores, [s == "drifted" for s in states], titles, False)],  # type: ignore[list-item]
                [("threshold", thresholds, "threshold"), ("threshold", lower, "lower threshold")],
                states,
            )
        )
    return charts


def _performance_chart(frame: _Frame, reference: dict[str, float | None] | None) -> ChunkChart | None:
    drift = frame.drift
    metric = drift.metric
    measured = [(r.report.performance or {}).get(metric) for r in drift.results]
    estimated = [(r.report.estimated_performance or {}).get(metric) for r in drift.results]
    if all(v is None for v in measured + estimated):
        return None
    base = (reference or {}).get(metric)
    bound = drift.performance_bound(base)

    def worse(value: float | None) -> bool:
        if value is None or bound is None:
            return False
        return value > bound if drift.lower_is_better else value < bound

    series = []
    for name, colour, values, dashed in (
        ("measured", "#2563eb", measured, False),
        ("estimated", "#7c3aed", estimated, True),
    ):
        if any(v is not None for v in values):
            titles = [
                f"{label}: {name} {metric} {'—' if v is None else _short(v)}"
                for label, v in zip(drift.labels, values, strict=True)
            ]
            series.append((name, colour, values, [worse(v) for v in values], titles, dashed))
    states = [
        "insufficient" if m is None and e is None else "drifted" if worse(m) or worse(e) else "ok"
        for m, e in zip(measured, estimated, strict=True)
    ]
    count = len(drift.results)
    tolerance = f"{drift.tolerance:.0%}" if drift.lower_is_better else f"{drift.tolerance:g}"
    return _chart(
        frame,
        "performance",
        f"Performance: {metric}",
        f"measured on labelled rows, estimated without labels; worse than the reference by more than {tolerance} "
        "is marked",
        _linear([*measured, *estimated, base, bound]),
        series,  # type: ignore[arg-type]
        [("threshold", [bound] * count, "threshold"), ("reference", [base] * count, "reference")],
        states,
    )


def chunk_charts(report: DriftReport) -> list[ChunkChart]:
    """The drift share, performance, multivariate and per-feature charts; none without chunks."""
    drift = report.chunks
    if drift is None or not drift.results:
        return []
    frame = _Frame(drift)
    charts = [_share_chart(frame)]
    performance = _performance_chart(frame, report.reference_performance)
    if performance is not None:
        charts.append(performance)
    charts += _multivariate_charts(frame)
    charts += [_feature_chart(frame, feature.name) for feature in report.features]
    return charts
