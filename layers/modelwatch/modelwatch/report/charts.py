"""Geometry for the report's reference-versus-current bar charts (drawn as inline SVG)."""

from __future__ import annotations

from dataclasses import dataclass

from modelwatch.stats.distributions import BinnedPair

WIDTH = 360
HEIGHT = 150
MARGIN_BOTTOM = 34
MAX_BARS = 30


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    y: float
    height: float
    share: float
    label: str
    series: str  # "reference" or "current"


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    tick_labels: list[tuple[float, str]]


def bar_chart(pair: BinnedPair) -> BarChart:
    """Paired bars per bin; beyond MAX_BARS categories the smallest are left out of the picture."""
    indices = list(range(len(pair.labels)))
    if len(indices) > MAX_BARS:
        indices = sorted(indices, key=lambda i: -(pair.reference[i] + pair.current[i]))[:MAX_BARS]
        indices.sort()
    plot_height = HEIGHT - MARGIN_BOTTOM
    tallest = max([float(pair.reference[i]) for i in indices] + [float(pair.current[i]) for i in indices] + [1e-12])
    slot = WIDTH / max(len(indices), 1)
    bar_width = slot * 0.4
    bars, ticks = [], []
    for position, i in enumerate(indices):
        left = position * slot + slot * 0.1
        for offset, series, share in ((0.0, "reference", pair.reference[i]), (bar_width, "current", pair.current[i])):
            height = float(share) / tallest * (plot_height - 8)
            bars.append(
                Bar(left + offset, bar_width, plot_height - height, height, float(share), pair.labels[i], series)
            )
        name = pair.ticks[i] if pair.ticks is not None else pair.labels[i]
        ticks.append((left + bar_width, name if len(name) <= 10 else name[:9] + "…"))
    return BarChart(WIDTH, HEIGHT, plot_height, bars, ticks if len(indices) <= 12 else [])
