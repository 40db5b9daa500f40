"""The out-of-range part of the drift summary's quality line: per feature, not an average."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape

from modelwatch.quality import FeatureQuality

# Features named on the quality line's out-of-range part; the rest are counted.
OUT_OF_RANGE_SHOWN = 3


def out_of_range_text(features: Sequence[FeatureQuality]) -> str:
    """Which features had values outside their allowed range, and what share of each one's rows,
    worst first: an average over every feature would hide one feature that is badly off."""
    off = sorted((f for f in features if f.out_of_range), key=lambda f: f.out_of_range_rate, reverse=True)
    if not off:
        return "none"
    # The allowed range "[18, 79]" is text to print, never a style tag.
    shown = ", ".join(
        escape(f"{f.name} {f.out_of_range_rate:.2%} outside {f.allowed}") for f in off[:OUT_OF_RANGE_SHOWN]
    )
    more = len(off) - OUT_OF_RANGE_SHOWN
    return shown + (f" and {more} more feature(s)" if more > 0 else "")
