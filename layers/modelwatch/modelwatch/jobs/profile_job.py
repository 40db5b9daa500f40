"""Profiling capture objects: each one gets its partial profile and its join index, keyed from
the capture key (so a repeat rewrites the same objects). The capture function profiles the
records it has just written, in the same invocation (`profile_written`: no second function, no
re-read); a backfill profiles stored objects (`run`). An object that cannot be profiled is
copied to quarantine/poison/ and reported, never retried forever."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.loss_model import LossModel
from modelwatch.profiles import DatasetProfile
from modelwatch.profiles.segmented import SegmentCut, SegmentedProfile
from modelwatch.spec.models import MonitoringSpec
from modelwatch.stats.pca import PcaModel, reference_model
from modelwatch.windows.capture_profile import PoisonCaptureError, parse_capture, profile_captures


@dataclass
class ProfileOutcome:
    profiled: int = 0
    quarantined: dict[str, str] = field(default_factory=dict)  # capture key -> why
    # capture key -> why its records have no expected losses (profiled all the same)
    losses_not_estimated: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionModels:
    """What a model version brings to profiling its captures record by record, where the records
    are: its baseline's PCA, for each record's reconstruction error (modelwatch.drift.multivariate),
    and a regression version's DLE loss model, for each record's expected losses."""

    reconstruction: PcaModel | None = None
    loss_model: LossModel | None = None
    # The baseline's kept values per segment ([[segments]]), records of any other value profiled
    # as "other", and its bins. None without segments or without a baseline.
    segment_cut: SegmentCut | None = None


ModelsOf = Callable[[str], VersionModels]  # model version -> its models


class ProfileJob:
    def __init__(self, data: DataBucket, spec: MonitoringSpec, models_of: ModelsOf) -> None:
        self.data, self.spec, self._models_of = data, spec, models_of
        # Asked once per version per job (one job an invocation): a version whose models fail
        # to read costs one attempt, and one report, per invocation, not one per object.
        self._models: dict[str, VersionModels] = {}
        self.late: list[str] = []  # capture objects of settled hours profiled by this job

    def run(self, keys: list[str], now: datetime) -> ProfileOutcome:
        """Stored capture objects (a backfill's batch): read, then profiled."""
        outcome = ProfileOutcome()
        for key in keys:
            if not layout.is_capture_object(key):
                continue  # the map lists the capture prefix; anything else there is not ours
            try:
                records = parse_capture(self.data.read(key))
            except (PoisonCaptureError, UnicodeDecodeError) as exc:
                self._quarantine(key, str(exc), outcome)
                continue
            self._profile(key, records, now, outcome)
        return outcome

    def profile_written(self, objects: dict[str, list[dict[str, Any]]], now: datetime) -> ProfileOutcome:
        """Capture objects this invocation has just written (key -> its records)."""
        outcome = ProfileOutcome()
        for key, records in objects.items():
            self._profile(key, records, now, outcome)
        return outcome

    def _profile(self, key: str, records: list[dict[str, Any]], now: datetime, outcome: ProfileOutcome) -> None:
        try:
            models = self._version_models(layout.model_version_of(key))
            result = profile_captures(self.spec, records, models.reconstruction, models.loss_model, models.segment_cut)
        except (ValueError, TypeError, KeyError) as exc:
            self._quarantine(key, str(exc), outcome)
            return
        # The join index first: a listed profile means its join index exists, so the drift
        # check's label rollup (keyed on the hour's profiles) never misses one.
        join_index = json.dumps(result.join_index).encode()
        self.data.write(layout.derived_key(key, layout.JOINS), join_index, "application/json")
        self.data.write(layout.derived_key(key, layout.PROFILES), result.profile.to_json(), "application/json")
        self._mark_if_late(key, now)
        outcome.profiled += 1
        if result.losses_not_estimated is not None:
            outcome.losses_not_estimated[key] = result.losses_not_estimated

    def _version_models(self, version: str) -> VersionModels:
        if version not in self._models:
            self._models[version] = self._models_of(version)
        return self._models[version]

    def _quarantine(self, key: str, reason: str, outcome: ProfileOutcome) -> None:
        self.data.copy(key, layout.poison_key(key))
        outcome.quarantined[key] = reason

    def _mark_if_late(self, key: str, now: datetime) -> None:
        """A capture object of an hour the drift check already treats as settled: say so beside
        the hour's rollup, so every window counts it."""
        version, hour = layout.model_version_of(key), layout.hour_of_capture(key)
        if now - layout.hour_start(hour) >= timedelta(hours=layout.SETTLE_HOURS + 1):
            self.data.write(layout.late_capture_marker(version, hour), key.encode(), "text/plain")
            self.late.append(key)


def baseline_reconstruction(baseline: bytes | DatasetProfile | None, spec: MonitoringSpec) -> PcaModel | None:
    """The PCA a baseline profile carries, when the spec checks PCA reconstruction error."""

    if baseline is None or "pca_reconstruction" not in spec.multivariate_methods:
        return None
    profile = baseline if isinstance(baseline, DatasetProfile) else DatasetProfile.from_json(baseline)
    rows = profile.multivariate
    if rows is None or len(rows.features) < 2 or not rows.count:
        return None
    return reference_model(rows, spec.drift)


def baseline_segment_cut(baseline: DatasetProfile | None, spec: MonitoringSpec) -> SegmentCut | None:
    """How a baseline cuts a window: the values it kept per segment, for the spec's
    [[segments]] it holds, and its bins."""
    if baseline is None or not spec.segments:
        return None
    cut = SegmentedProfile.of(baseline).cut(spec)
    named = {segment.name for segment in spec.segments}
    return SegmentCut({name: values for name, values in cut.kept.items() if name in named}, cut.bins)
