"""Profiles per segment value, read in the same pass as the whole profile. The baseline's
values are all kept while it is read, then the most frequent `max_values` kept and the rest
merged into "other" (profiles merge); a window's rows go straight to a kept value or to
"other", so a window holds at most max_values + 1 profiles per segment whatever its traffic."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np

from modelwatch.profiles.builder import Batch, ProfileBuilder, ProfileSchema
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.grouped import add_by_group
from modelwatch.profiles.segment_values import OTHER_KEY, SegmentValue, decode, encode, row_keys
from modelwatch.spec.models import MonitoringSpec
from modelwatch.spec.segments import Segment


@dataclass
class SegmentedProfile:
    """The whole profile, and per segment name its profile per value (None: "other")."""

    whole: DatasetProfile
    segments: dict[str, dict[SegmentValue, DatasetProfile]] = field(default_factory=dict)

    def kept(self) -> dict[str, list[SegmentValue]]:
        """The values a window is cut by: this profile's, as a baseline's."""
        return {name: [value for value in values if value is not None] for name, values in self.segments.items()}

    def to_profile(self) -> DatasetProfile:
        """One profile to store: the whole, carrying its segments (DatasetProfile.segments)."""
        stored = {
            name: {encode(value): part for value, part in values.items()} for name, values in self.segments.items()
        }
        return dataclasses.replace(self.whole, segments=stored)

    @classmethod
    def of(cls, profile: DatasetProfile) -> SegmentedProfile:
        """A stored profile's whole and segments (values decoded)."""
        segments = {
            name: {decode(key): part for key, part in values.items()} for name, values in profile.segments.items()
        }
        return cls(dataclasses.replace(profile, segments={}), segments)


class SegmentedProfileBuilder:
    """`kept` (segment name -> values, from the baseline): rows of any other value go to
    "other". Without it (the baseline itself), every value gets its own profile. `open_segments`:
    segments the baseline holds no slices of (cut by a request attribute its data lacks), whose
    window keeps its own most frequent values instead, as a baseline would."""

    def __init__(
        self,
        schema: ProfileSchema,
        segments: list[Segment],
        kept: dict[str, list[SegmentValue]] | None = None,
        chunk_rows: int | None = None,
        whole: bool = True,
        open_segments: frozenset[str] = frozenset(),
    ) -> None:
        self.schema = schema
        # A value's profile: no row sample and no reconstruction errors (a segment's verdict is
        # per feature, never multivariate), so neither is computed per value nor stored.
        self._value_schema = dataclasses.replace(schema, reconstruction=None, keeps_rows=False)
        self.segments = segments
        # Calibration chunks are the whole's only: a segment's verdict uses the size-aware rule.
        # whole=False: the caller profiles the whole itself (the capture path's one-batch profile).
        self.whole = ProfileBuilder(schema, chunk_rows=chunk_rows) if whole else None
        self._kept = None if kept is None else {name: {encode(v) for v in values} for name, values in kept.items()}
        self._open = open_segments
        self._groups: dict[str, dict[Hashable, ProfileBuilder]] = {segment.name: {} for segment in segments}

    def add(self, batch: Batch) -> None:
        if self.whole is not None:
            self.whole.add(batch)
        for segment in self.segments:
            keys = row_keys(batch, segment.by)
            if self._kept is not None and segment.name not in self._open:
                keys = _to_kept(keys, self._kept.get(segment.name, set()))
            add_by_group(self._groups[segment.name], self._value_schema, batch, keys)

    def result(self) -> SegmentedProfile:
        segments = {}
        for segment in self.segments:
            values = {decode(str(key)): builder.result() for key, builder in self._groups[segment.name].items()}
            cut_by_kept = self._kept is not None and segment.name not in self._open
            segments[segment.name] = values if cut_by_kept else keep_most_frequent(values, segment)
        return SegmentedProfile(self.whole.result() if self.whole is not None else DatasetProfile(), segments)


def batch_segments(
    schema: ProfileSchema,
    segments: list[Segment],
    batch: Batch,
    kept: dict[str, list[SegmentValue]] | None,
    open_segments: frozenset[str] = frozenset(),
) -> dict[str, dict[str, DatasetProfile]]:
    """One batch's segment profiles as a stored profile holds them (DatasetProfile.segments):
    cut by the baseline's kept values, or, without a baseline to say which, by the batch's own
    most frequent values (a drift run folds values its baseline did not keep into "other")."""
    builder = SegmentedProfileBuilder(schema, segments, kept, whole=False, open_segments=open_segments)
    builder.add(batch)
    return builder.result().to_profile().segments


def unsliced_attribute_segments(spec: MonitoringSpec, sliced: Iterable[str]) -> list[str]:
    """The spec's segments cut by a request attribute that the reference holds no slices of
    (`sliced`: the segments it holds; its data lacked the attribute's column: training data
    seldom holds a client id). Their window values are judged against the whole reference
    (against_whole_reference). A feature's segment a reference lacks is not one of them: that is
    a reference made without the spec's segments."""
    held, attributes = set(sliced), set(spec.attributes)
    return [s.name for s in spec.segments if s.name not in held and set(s.by) & attributes]


def against_whole_reference(
    reference: SegmentedProfile, current: SegmentedProfile, segment_names: list[str]
) -> SegmentedProfile:
    """`reference` with each of `segment_names` (segments it holds no slices of: a request
    attribute its data lacks) given the whole reference as every window value's slice: each
    value's traffic is then judged against everything the model was validated on, the only
    expectation there is of a client the baseline never saw."""
    segments = dict(reference.segments)
    for name in segment_names:
        segments[name] = {value: reference.whole for value in current.segments.get(name, {})}
    return SegmentedProfile(reference.whole, segments)


def folded_to(profile: SegmentedProfile, kept: dict[str, list[SegmentValue]]) -> SegmentedProfile:
    """`profile` (a window) with every value the baseline did not keep merged into "other"."""
    segments = {}
    for name, values in profile.segments.items():
        keep = set(kept.get(name, []))
        named = {value: part for value, part in values.items() if value in keep}
        rest = [part for value, part in values.items() if value not in keep]
        if rest:
            named[None] = rest[0].merged(*rest[1:])
        segments[name] = named
    return SegmentedProfile(profile.whole, segments)


class ValueCounter:
    """Rows per segment value, from the `by` columns alone: a baseline's first, cheap pass, so
    its profiles are then built for the kept values only (a segment by client id may have more
    values than memory holds profiles)."""

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments
        self._counts: dict[str, dict[str, int]] = {segment.name: {} for segment in segments}

    def add(self, batch: Batch) -> None:
        for segment in self.segments:
            unique, counts = np.unique(row_keys(batch, segment.by), return_counts=True)
            tally = self._counts[segment.name]
            for key, count in zip(unique.tolist(), counts.tolist(), strict=True):
                tally[key] = tally.get(key, 0) + count

    def kept(self) -> dict[str, list[SegmentValue]]:
        """Per segment, its `max_values` most frequent values (ties by value, as keep_most_frequent)."""
        kept = {}
        for segment in self.segments:
            ranked = sorted(self._counts[segment.name].items(), key=lambda item: (-item[1], decode(item[0]) or ()))
            kept[segment.name] = [decode(key) for key, _ in ranked[: segment.max_values]]
        return kept


def _to_kept(keys: np.ndarray, kept: set[str]) -> np.ndarray:
    """Each key, or OTHER_KEY where the baseline did not keep it (looked up once per distinct key)."""
    unique, inverse = np.unique(keys, return_inverse=True)
    mapped = np.array([key if key in kept else OTHER_KEY for key in unique.tolist()], dtype=object)
    return mapped[inverse]


def keep_most_frequent(
    values: dict[SegmentValue, DatasetProfile], segment: Segment
) -> dict[SegmentValue, DatasetProfile]:
    """The `max_values` values with the most rows (ties by value, so the choice is repeatable),
    and the rest merged into "other" (None), which is present only when something fell in it."""
    ranked = sorted(values.items(), key=lambda item: (-item[1].rows, item[0] is None, item[0] or ()))
    named = [(value, profile) for value, profile in ranked if value is not None]
    kept = dict(named[: segment.max_values])
    rest = [profile for _, profile in named[segment.max_values :]]
    if None in values:
        rest.append(values[None])
    if rest:
        kept[None] = rest[0].merged(*rest[1:])
    return kept
