"""Segments: profiles per slice of traffic and a drift verdict per slice, with false flags
controlled across every segment x feature check."""

from modelwatch.segments.profiles import SegmentedProfile, SegmentedProfileBuilder, keep_most_frequent
from modelwatch.segments.values import OTHER, SegmentValue
from modelwatch.segments.verdicts import SegmentDrift, analyze_segments

__all__ = [
    "OTHER",
    "SegmentDrift",
    "SegmentValue",
    "SegmentedProfile",
    "SegmentedProfileBuilder",
    "analyze_segments",
    "keep_most_frequent",
]
