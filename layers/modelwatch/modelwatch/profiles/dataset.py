"""A mergeable profile of a batch of rows: one column profile per column, plus performance.

Serialized as JSON (sketches base64-encoded), so a partial profile is one small S3 object and a
baseline profile one file next to the model artifact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelwatch.errors import UserInputError
from modelwatch.performance import PerformanceCounts, performance_from_dict
from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.profiles.rows import RowsProfile
from modelwatch.profiles.score_sample import ClassScoreSample
from modelwatch.profiles.segment_table import TABLE_FORMAT, SegmentTable
from modelwatch.score_histogram import ScoreHistogram

ColumnProfile = NumericColumnProfile | CategoricalColumnProfile
FORMAT = "modelwatch-profile"
FORMAT_VERSION = 1


def _merged_segments(parts: tuple[DatasetProfile, ...]) -> dict[str, SegmentTable]:
    """Each segment's tables merged across the parts that hold it."""
    grouped: dict[str, list[SegmentTable]] = {}
    for part in parts:
        for name, table in part.segments.items():
            grouped.setdefault(name, []).append(table)
    return {name: tables[0] if len(tables) == 1 else tables[0].merged(*tables[1:]) for name, tables in grouped.items()}


def _column_from_dict(data: dict[str, Any]) -> ColumnProfile:
    if data["kind"] == "numeric":
        return NumericColumnProfile.from_dict(data)
    return CategoricalColumnProfile.from_dict(data)


@dataclass
class DatasetProfile:
    rows: int = 0
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    performance: PerformanceCounts | None = None
    # Baselines only: consecutive chunks of the rows, for thresholds calibrated on the
    # baseline's own variability.
    chunks: list[DatasetProfile] = field(default_factory=list)
    # The numeric features row by row (multivariate drift); None with fewer than two of them.
    multivariate: RowsProfile | None = None
    # Classification with scores: per class, its probability on the rows predicted as that class
    # and on the others (builder.SCORE_WHEN_PREDICTED / SCORE_WHEN_NOT_PREDICTED + class; binary:
    # the positive class only), counted exactly on a fixed grid: CBPE estimates from these.
    score_histograms: dict[str, ScoreHistogram] = field(default_factory=dict)
    # Multiclass with scores: a sample of whole rows' class probabilities (CBPE divides calibrated
    # probabilities by their row's sum); None without.
    score_sample: ClassScoreSample | None = None
    # Baselines only: the task and the columns that are not features, as the spec named them when
    # the profile was made (ProfileSchema.recorded_roles), so a drift run without the spec still
    # knows its target, prediction and scores. Empty for windows and older profiles.
    roles: dict[str, str] = field(default_factory=dict)
    # The spec's [[segments]]: per segment name, its values' rows of counts over the baseline's
    # bins (modelwatch.profiles.segment_table). Profiled in the same pass as the whole, so a
    # window's segments merge hour by hour like its columns, at a cost flat in traffic.
    segments: dict[str, SegmentTable] = field(default_factory=dict)

    def merged(self, *others: DatasetProfile) -> DatasetProfile:
        """All rows of self and others. Columns present in only some inputs are merged as found."""
        names = list(self.columns)
        for other in others:
            names += [n for n in other.columns if n not in names]
        columns: dict[str, ColumnProfile] = {}
        for name in names:
            parts = [p.columns[name] for p in (self, *others) if name in p.columns]
            kinds = {type(part) for part in parts}
            if len(kinds) > 1:
                raise ValueError(f"column '{name}' is numeric in one profile and categorical in another")
            columns[name] = parts[0].merged(*parts[1:])
        performances = [p.performance for p in (self, *others) if p.performance is not None]
        # Row-level parts merge when every profile that holds rows has one (an empty profile,
        # such as the start of a window's merge or an hour without traffic, holds nothing to lose).
        holding = [p for p in (self, *others) if p.rows]
        rows = [p.multivariate for p in holding if p.multivariate is not None]
        samples = [p.score_sample for p in holding if p.score_sample is not None]
        # Each name's histograms merged in one call: one count over all their points.
        held: dict[str, list[ScoreHistogram]] = {}
        for part in (self, *others):
            for name, histogram in part.score_histograms.items():
                held.setdefault(name, []).append(histogram)
        histograms = {name: parts[0].merged(*parts[1:]) if len(parts) > 1 else parts[0] for name, parts in held.items()}
        return DatasetProfile(
            rows=self.rows + sum(o.rows for o in others),
            columns=columns,
            performance=performances[0].merged(*performances[1:]) if performances else None,
            # A part without it (an older profile) leaves the merge without it: a sample of some
            # parts only would not stand for the window.
            multivariate=rows[0].merged(*rows[1:]) if rows and len(rows) == len(holding) else None,
            score_histograms=histograms,
            # As the row sample: only when every part holding rows has one.
            score_sample=samples[0].merged(*samples[1:]) if samples and len(samples) == len(holding) else None,
            segments=_merged_segments((self, *others)),
        )

    @classmethod
    def side_by_side(cls, parts: list[DatasetProfile]) -> DatasetProfile:
        """One profile from profiles of different columns of the same rows."""
        if len({part.rows for part in parts}) > 1:
            raise ValueError("profiles side by side must cover the same rows")
        columns: dict[str, ColumnProfile] = {}
        for part in parts:
            overlap = set(columns) & set(part.columns)
            if overlap:
                raise ValueError(f"columns profiled twice: {sorted(overlap)}")
            columns.update(part.columns)
        performances = [part.performance for part in parts if part.performance is not None]
        multivariate = [part.multivariate for part in parts if part.multivariate is not None]
        histograms: dict[str, ScoreHistogram] = {}
        for part in parts:
            histograms.update(part.score_histograms)
        samples = [part.score_sample for part in parts if part.score_sample is not None]
        return cls(
            rows=parts[0].rows if parts else 0,
            columns=columns,
            performance=performances[0] if performances else None,
            multivariate=multivariate[0] if multivariate else None,
            score_histograms=histograms,
            score_sample=samples[0] if samples else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return (
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "rows": self.rows,
                "columns": {name: column.to_dict() for name, column in self.columns.items()},
                "performance": None if self.performance is None else self.performance.to_dict(),
                "chunks": [chunk.to_dict() for chunk in self.chunks],
                "multivariate": None if self.multivariate is None else self.multivariate.to_dict(),
                "score_histograms": {name: histogram.to_text() for name, histogram in self.score_histograms.items()},
                "score_sample": None if self.score_sample is None else self.score_sample.to_dict(),
            }
            | ({"roles": dict(self.roles)} if self.roles else {})
            | self._segments_dict()
        )

    def _segments_dict(self) -> dict[str, Any]:
        if not self.segments:
            return {}
        return {"segments": {name: table.to_dict() for name, table in self.segments.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetProfile:
        if data.get("format") != FORMAT:
            raise ValueError("not a ModelWatch profile")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"profile format version {data.get('format_version')} is not supported")
        return cls(
            rows=int(data["rows"]),
            columns={name: _column_from_dict(column) for name, column in data["columns"].items()},
            performance=None if data.get("performance") is None else performance_from_dict(data["performance"]),
            chunks=[cls.from_dict(chunk) for chunk in data.get("chunks", [])],
            multivariate=None if data.get("multivariate") is None else RowsProfile.from_dict(data["multivariate"]),
            score_histograms={
                name: ScoreHistogram.from_text(text) for name, text in data.get("score_histograms", {}).items()
            },
            score_sample=None if data.get("score_sample") is None else ClassScoreSample.from_dict(data["score_sample"]),
            roles={str(k): str(v) for k, v in (data.get("roles") or {}).items()},
            # A segment stored otherwise (before tables, a profile per value) is left out: its
            # values were not counted over a baseline's bins, so no table can merge with it.
            segments={
                str(name): SegmentTable.from_dict(table)
                for name, table in (data.get("segments") or {}).items()
                if isinstance(table, dict) and table.get("table_format") == TABLE_FORMAT
            },
        )

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, payload: bytes | str) -> DatasetProfile:
        return cls.from_dict(json.loads(payload))

    def save(self, path: Path | str) -> None:
        Path(path).write_bytes(self.to_json())

    @classmethod
    def load(cls, path: Path | str) -> DatasetProfile:
        try:
            return cls.from_json(Path(path).read_bytes())
        except OSError as exc:
            raise UserInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise UserInputError(f"{path}: not a valid ModelWatch profile ({exc})") from None


def is_profile_file(path: Path | str) -> bool:
    """True when the file starts like a serialized profile (cheap check on the first bytes)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return head.lstrip().startswith(b'{"format":"' + FORMAT.encode())


MERGE_BATCH = 32


def merge_profiles(profiles: Iterable[DatasetProfile]) -> DatasetProfile:
    """Merge a stream of profiles holding at most MERGE_BATCH of them at a time: memory stays
    flat however many partial profiles a window has, and the accumulated one is copied once per
    batch, not once per profile."""
    merged: DatasetProfile | None = None
    batch: list[DatasetProfile] = []
    for profile in profiles:
        batch.append(profile)
        if len(batch) == MERGE_BATCH:
            merged = batch[0].merged(*batch[1:]) if merged is None else merged.merged(*batch)
            batch = []
    if batch:
        merged = batch[0].merged(*batch[1:]) if merged is None else merged.merged(*batch)
    return merged if merged is not None else DatasetProfile()
