"""Deployed segment verdicts when a segment is cut by a request attribute the served version's
baseline holds no slices of (the training data had no such column: a client id seldom is one).
Each of the window's most frequent values of it is judged against the whole baseline, the only
expectation there is of traffic the model was validated on; every other segment as
segment_verdicts judges it."""

from __future__ import annotations

from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.segmented import (
    SegmentedProfile,
    against_whole_reference,
    folded_to,
    keep_most_frequent,
    unsliced_attribute_segments,
)
from modelwatch.segments.verdicts import SegmentDrift, analyze_segments, segment_verdicts
from modelwatch.spec.models import MonitoringSpec


def window_segment_verdicts(
    spec: MonitoringSpec, baseline: DatasetProfile, window: DatasetProfile
) -> list[SegmentDrift]:
    """segment_verdicts, with the spec's unsliced attribute segments judged too: the window's
    values of each (cut per capture object to at most max_values + 1) are kept to its own
    max_values most frequent, the rest merged into "other", so a run makes at most
    max_values + 1 analyses per segment whatever the number of clients."""
    reference = SegmentedProfile.of(baseline)
    unsliced = unsliced_attribute_segments(spec, reference)
    if not unsliced:
        return segment_verdicts(spec, baseline, window)
    seen = SegmentedProfile.of(window)
    sliced = SegmentedProfile(seen.whole, {n: v for n, v in seen.segments.items() if n not in unsliced})
    current = folded_to(sliced, reference.kept())
    for segment in spec.segments:
        if segment.name in unsliced:
            current.segments[segment.name] = keep_most_frequent(seen.segments.get(segment.name, {}), segment)
    return analyze_segments(spec, against_whole_reference(reference, current, unsliced), current)
