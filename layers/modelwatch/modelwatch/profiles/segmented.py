"""Profiles per segment value, read in the same pass as the whole profile. The baseline's
values are all kept while it is read, then the most frequent `max_values` kept and the rest
merged into "other" (profiles merge); a window's rows go straight to a kept value or to
"other", so a window holds at most max_values + 1 values per segment whatever its traffic.
Each segment is stored as one table of counts over the baseline's bins (segment_table)."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from modelwatch.profiles.builder import Batch, ProfileBuilder, ProfileSchema
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.grouped import add_by_group
from modelwatch.profiles.segment_binning import bins_of, repeated_table, table_of, value_profile
from modelwatch.profiles.segment_table import SegmentBins, SegmentTable
from modelwatch.profiles.segment_values import OTHER_KEY, SegmentValue, decode, encode, row_keys
from modelwatch.spec.models import MonitoringSpec
from modelwatch.spec.segments import Segment


@dataclass(frozen=True)
class SegmentCut:
    """What a window is cut by, from its baseline: per segment the values it kept (any other is
    "other"), and the bins every value's rows are counted over."""

    kept: dict[str, list[SegmentValue]]
    bins: SegmentBins


@dataclass
class SegmentedProfile:
    """The whole profile, and per segment name its values' table."""

    whole: DatasetProfile
    tables: dict[str, SegmentTable] = field(default_factory=dict)

    @cached_property
    def segments(self) -> dict[str, dict[SegmentValue, DatasetProfile]]:
        """Per segment, each value's profile (None: "other"), rebuilt from its row."""
        return {
            name: {decode(key): value_profile(table, key) for key in table.keys} for name, table in self.tables.items()
        }

    def kept(self) -> dict[str, list[SegmentValue]]:
        """The values a window is cut by: this profile's, as a baseline's."""
        return {name: [decode(key) for key in table.keys if key != OTHER_KEY] for name, table in self.tables.items()}

    def cut(self, spec: MonitoringSpec) -> SegmentCut:
        """How a window is cut by this profile, as a baseline: the bins its tables were counted
        over (or, holding none, the same bins from its whole)."""
        bins = next((table.bins for table in self.tables.values()), None)
        return SegmentCut(self.kept(), bins if bins is not None else segment_bins(spec, self.whole))

    def to_profile(self) -> DatasetProfile:
        """One profile to store: the whole, carrying its segments (DatasetProfile.segments)."""
        return dataclasses.replace(self.whole, segments=dict(self.tables))

    @classmethod
    def of(cls, profile: DatasetProfile) -> SegmentedProfile:
        """A stored profile's whole and segments."""
        return cls(dataclasses.replace(profile, segments={}), dict(profile.segments))


def segment_bins(spec: MonitoringSpec, whole: DatasetProfile) -> SegmentBins:
    """A baseline's bins: sensitive features are checked on the whole window only (a window
    holds pseudonyms of a hashed one, a baseline only its declared names)."""
    return bins_of(whole, spec.sensitive_features)


class SegmentedProfileBuilder:
    """`cut` (from the baseline): rows of a value it did not keep go to "other", and every
    value's rows are counted over its bins. Without it (the baseline itself), every value gets
    its own profile, the most frequent kept at the end and binned over the whole's bins
    (`leave_out`: the sensitive features, segment_bins). `open_segments`: segments the baseline
    holds no slices of (cut by a request attribute its data lacks), whose window keeps its own
    most frequent values instead, as a baseline would."""

    def __init__(
        self,
        schema: ProfileSchema,
        segments: list[Segment],
        cut: SegmentCut | None = None,
        chunk_rows: int | None = None,
        whole: bool = True,
        open_segments: frozenset[str] = frozenset(),
        leave_out: Iterable[str] = (),
    ) -> None:
        self.schema = schema
        # A value's profile: no row sample and no reconstruction errors (a segment's verdict is
        # per feature, never multivariate), so neither is computed per value.
        self._value_schema = dataclasses.replace(schema, reconstruction=None, keeps_rows=False)
        self.segments = segments
        # Calibration chunks are the whole's only: a segment's verdict uses the size-aware rule.
        # whole=False: the caller profiles the whole itself (the capture path's one-batch profile).
        self.whole = ProfileBuilder(schema, chunk_rows=chunk_rows) if whole else None
        if cut is None and not whole:
            raise ValueError("a window's segments are counted over its baseline's bins: give the cut")
        self._cut = cut
        self._kept: dict[str, set[str]] | None = None
        if cut is not None:
            self.keep_only(cut.kept)
        self._open = open_segments
        self._leave_out = frozenset(leave_out)
        self._groups: dict[str, dict[Hashable, ProfileBuilder]] = {segment.name: {} for segment in segments}

    def keep_only(self, kept: dict[str, list[SegmentValue]]) -> None:
        """Only these values are profiled, every other row going to "other": a window's cut, or
        a baseline's values counted beforehand (ValueCounter; its bins are still its own)."""
        self._kept = {name: {encode(v) for v in values} for name, values in kept.items()}

    def add(self, batch: Batch) -> None:
        if self.whole is not None:
            self.whole.add(batch)
        for segment in self.segments:
            keys = row_keys(batch, segment.by)
            if self._kept is not None and segment.name not in self._open:
                keys = _to_kept(keys, self._kept.get(segment.name, set()))
            add_by_group(self._groups[segment.name], self._value_schema, batch, keys)

    def result(self) -> SegmentedProfile:
        whole = self.whole.result() if self.whole is not None else DatasetProfile()
        bins = self._cut.bins if self._cut is not None else bins_of(whole, self._leave_out)
        tables = {}
        for segment in self.segments:
            table = table_of(bins, {str(key): builder.result() for key, builder in self._groups[segment.name].items()})
            cut_by_kept = self._kept is not None and segment.name not in self._open
            # Binned, then the values beyond max_values summed into "other": exact, where merging
            # their profiles first would sketch any past 2,000 values.
            tables[segment.name] = table if cut_by_kept else most_frequent_of(table, segment)
        return SegmentedProfile(whole, tables)


def batch_segments(
    schema: ProfileSchema, segments: list[Segment], batch: Batch, cut: SegmentCut, open_segments: frozenset[str]
) -> dict[str, SegmentTable]:
    """One batch's segments as a stored profile holds them (DatasetProfile.segments), cut and
    binned as its baseline says; a segment the baseline holds no slices of (`open_segments`) by
    the batch's own most frequent values (a drift run folds the rest into "other")."""
    builder = SegmentedProfileBuilder(schema, segments, cut, whole=False, open_segments=open_segments)
    builder.add(batch)
    return builder.result().tables


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
    tables = dict(reference.tables)
    for name in segment_names:
        window = current.tables.get(name)
        if window is not None:
            tables[name] = repeated_table(window.bins, window.keys, reference.whole)
    return SegmentedProfile(reference.whole, tables)


def folded_to(profile: SegmentedProfile, kept: dict[str, list[SegmentValue]]) -> SegmentedProfile:
    """`profile` (a window) with every value the baseline did not keep merged into "other"."""
    tables = {}
    for name, table in profile.tables.items():
        keep = {encode(value) for value in kept.get(name, [])}
        tables[name] = table.regrouped([key if key in keep else OTHER_KEY for key in table.keys])
    return SegmentedProfile(profile.whole, tables)


def most_frequent_of(table: SegmentTable, segment: Segment) -> SegmentTable:
    """The table's `max_values` values with the most rows and the rest merged into "other", which
    is present only when something fell in it."""
    kept = most_frequent_keys(table.rows_by_key(), segment.max_values)
    keep = set(kept)
    regrouped = table.regrouped([key if key in keep else OTHER_KEY for key in table.keys])
    return regrouped.select(kept + ([OTHER_KEY] if OTHER_KEY in regrouped.keys else []))


def most_frequent_keys(rows: dict[str, int], max_values: int) -> list[str]:
    """The encoded values (never "other") with the most rows, at most `max_values`, most first;
    ties by value, so the choice is the same on every run."""
    named = [key for key in rows if key != OTHER_KEY]
    return sorted(named, key=lambda key: (-rows[key], decode(key)))[:max_values]


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
        """Per segment, its `max_values` most frequent values (most_frequent_keys)."""
        return {
            segment.name: [decode(key) for key in most_frequent_keys(self._counts[segment.name], segment.max_values)]
            for segment in self.segments
        }


def _to_kept(keys: np.ndarray, kept: set[str]) -> np.ndarray:
    """Each key, or OTHER_KEY where the baseline did not keep it (looked up once per distinct key)."""
    unique, inverse = np.unique(keys, return_inverse=True)
    mapped = np.array([key if key in kept else OTHER_KEY for key in unique.tolist()], dtype=object)
    return mapped[inverse]
