"""The scheduled drift check, window by window: list and merge the partial profiles of the
window's hours, join the hours' labels, compare with the served version's baseline, and store
drift.json and report.html. Re-running a window whose inputs have not changed returns the stored
result (same keys, same values); new inputs make it compute again.

Labels reach a run only through hourly rollups (labels-joined/): one per hour, made from the
hour's labels objects and join indexes, kept until the hour's "changed" marker (rewritten after
every labels object, late ones included) or its captures change. A run lists the markers of its
hours once and reads one rollup per labelled hour, so its work grows with hours, not labels."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.label_store import read_labels
from modelwatch.data_access.model_store import ModelRegistry
from modelwatch.drift import analyze
from modelwatch.drift.engine import FittedEstimator, fit_estimator
from modelwatch.drift.sensitive import monitored_current, monitored_view
from modelwatch.jobs.window_check import WindowCheck
from modelwatch.profiles import DatasetProfile, merge_profiles
from modelwatch.registry.manifest import ModelManifest
from modelwatch.report import render_html, report_document
from modelwatch.segments.verdicts import segment_verdicts
from modelwatch.serving.pseudonyms import Pseudonyms
from modelwatch.spec.models import MonitoringSpec, Window
from modelwatch.windows.label_join import JoinedLabels, join_labels

SETTLE_HOURS = layout.SETTLE_HOURS


def objects_fingerprint(objects: list[tuple[str, str]]) -> str:
    """What an hour's rollup was made from: its partial profiles' (key, ETag)."""
    return hashlib.sha256(json.dumps(sorted(objects)).encode()).hexdigest()


def labels_fingerprint(labels_mark: str, captures: str) -> str:
    """What an hour's joined labels were made from: its "changed" marker's ETag and its captures
    (the fingerprint of its profile rollup)."""
    return hashlib.sha256(json.dumps([labels_mark, captures]).encode()).hexdigest()


@dataclass(frozen=True)
class HourlyProfile:
    """An hour's partial profiles rolled up, with the fingerprint of the objects it holds."""

    fingerprint: str
    objects: int
    profile: DatasetProfile

    def to_json(self) -> bytes:
        document = {"fingerprint": self.fingerprint, "objects": self.objects, "profile": self.profile.to_dict()}
        return json.dumps(document, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, body: bytes) -> HourlyProfile:
        data = json.loads(body)
        return cls(data["fingerprint"], int(data["objects"]), DatasetProfile.from_dict(data["profile"]))


@dataclass(frozen=True)
class _RunContext:
    """What every window of one run shares: the served version, its baseline, one listing."""

    manifest: ModelManifest
    baseline: DatasetProfile
    end: datetime
    profiles: dict[str, HourlyProfile]
    joined: dict[str, JoinedHour]  # hours with labels, from their rollups
    new_labeled_rows: int
    # The spec as the captures see it: sensitive features' categories pseudonymised, dropped ones
    # left out (modelwatch.drift.sensitive); the baseline above is pseudonymised to match.
    monitored: MonitoringSpec
    # CBPE's calibration on the baseline's labelled rows, fitted once for every window and
    # segment value of the run.
    fitted: FittedEstimator


@dataclass(frozen=True)
class JoinedHour:
    """An hour's labels joined to its predictions, and the fingerprint of what it was made from."""

    fingerprint: str
    joined: JoinedLabels

    def to_json(self) -> bytes:
        return json.dumps({"fingerprint": self.fingerprint, "joined": self.joined.to_dict()}).encode()

    @classmethod
    def from_json(cls, body: bytes) -> JoinedHour:
        data = json.loads(body)
        return cls(data["fingerprint"], JoinedLabels.from_dict(data["joined"]))


class DriftJob:
    def __init__(
        self,
        s3: Any,
        bucket: str,
        spec: MonitoringSpec,
        registry: ModelRegistry,
        pseudonyms: Pseudonyms | None = None,
    ) -> None:
        self.data, self.spec, self.registry = DataBucket(s3, bucket), spec, registry
        self.pseudonyms = pseudonyms

    # --- the job ----------------------------------------------------------------------------
    def run(self, end: datetime) -> list[WindowCheck]:
        """Every window of the spec, ending at `end`.

        Each hour's partial profiles are rolled up once into an hourly profile (cached in S3 and
        recomputed only when the hour's objects change), so a run costs one read per hour of the
        longest window, whatever the traffic. Hours older than SETTLE_HOURS are taken from their
        rollup without listing them again. The windows nest (1h in 1d in 7d): the smallest is
        merged first and each larger one adds only its extra hours.
        """
        version = self.registry.current_version()
        manifest = self.registry.manifest(version)
        baseline_bytes = self.registry.baseline(manifest)
        if baseline_bytes is None:
            raise ValueError(f"model version {version} has no baseline profile to compare with")
        monitored, baseline = monitored_view(self.spec, DatasetProfile.from_json(baseline_bytes), self.pseudonyms)
        longest = max(w.hours for w in self.spec.drift.windows)
        all_hours = layout.window_hours(end, longest)
        rollups = self.data.existing(layout.PROFILES_HOURLY.version_prefix(version), all_hours)
        rollups |= self.data.existing(layout.PROFILES_HOURLY.version_prefix(version), all_hours, ".late")
        # Every hour that may still change, listed at once (one paginated LIST, not one per hour).
        unsettled = [hour for hour in all_hours if not self._settled(version, hour, end, rollups)]
        listed = self.data.list_hours(layout.PROFILES.version_prefix(version), unsettled) if unsettled else {}
        hourly = {hour: self._hourly_profile(version, hour, rollups, listed) for hour in all_hours}
        # One listing of the hours' "changed" markers: an hour without one has no labels.
        changed = self.data.etags(layout.LABELS_CHANGED_BASE, all_hours)
        cached_joins = self.data.existing(layout.LABELS_JOINED.version_prefix(version), all_hours)
        joined = {
            hour: self._joined_hour(version, hour, mark, hourly[hour].fingerprint, cached_joins)
            for hour, mark in changed.items()
        }
        new_labeled_rows = self.new_labeled_rows(manifest, {h: j.joined.labeled for h, j in joined.items()})
        fitted = fit_estimator(monitored, baseline)
        context = _RunContext(manifest, baseline, end, hourly, joined, new_labeled_rows, monitored, fitted)
        documents = {}
        merged, covered = DatasetProfile(), set()
        for window in sorted(self.spec.drift.windows, key=lambda w: w.hours):
            hours = layout.window_hours(end, window.hours)
            extra = [hourly[h].profile for h in hours if h not in covered and hourly[h].objects]
            merged = merged.merged(*extra) if extra else merged
            covered.update(hours)
            documents[window.name] = self.check_window(context, window, hours, merged)
        return [documents[w.name] for w in self.spec.drift.windows]

    @staticmethod
    def _settled(version: str, hour: str, end: datetime, rollups: set[str]) -> bool:
        """Rolled up, past every retry of its delivery, and with no late arrival since."""
        complete = end - layout.hour_start(hour) >= timedelta(hours=SETTLE_HOURS + 1)
        late = layout.late_capture_marker(version, hour) in rollups
        return complete and layout.hourly_profile_key(version, hour) in rollups and not late

    def _hourly_profile(
        self, version: str, hour: str, rollups: set[str], listed: dict[str, list[tuple[str, str]]]
    ) -> HourlyProfile:
        """One hour's partial profiles merged, from the rollup when it is still current."""
        key = layout.hourly_profile_key(version, hour)
        cached = self.data.read(key) if key in rollups else None
        if cached is not None and hour not in listed:
            return HourlyProfile.from_json(cached)
        objects = listed.get(hour, [])
        fingerprint = objects_fingerprint(objects)
        if cached is not None:
            rollup = HourlyProfile.from_json(cached)
            if rollup.fingerprint == fingerprint:
                return rollup
        profile = merge_profiles(DatasetProfile.from_json(self.data.read(k)) for k, _ in sorted(objects))
        rollup = HourlyProfile(fingerprint, len(objects), profile)
        if objects:
            self.data.write(key, rollup.to_json(), "application/json")
        return rollup

    def check_window(self, run: _RunContext, window: Window, hours: list[str], merged: DatasetProfile) -> WindowCheck:
        version, end = run.manifest.version, run.end
        profile_hours = [run.profiles[h].fingerprint for h in hours]
        label_hours = {h: run.joined[h].fingerprint for h in hours if h in run.joined}
        fingerprint = hashlib.sha256(
            json.dumps([profile_hours, label_hours, run.manifest.artifact.sha256]).encode()
        ).hexdigest()
        prefix = layout.report_prefix(version, window.name, end)
        stored = self.data.read_optional(prefix + "drift.json")
        if stored is not None:
            document = json.loads(stored)
            if document.get("inputs_fingerprint") == fingerprint:
                return WindowCheck.from_document(document)

        current = DatasetProfile(
            rows=merged.rows,
            columns=dict(merged.columns),
            performance=merged.performance,
            multivariate=merged.multivariate,
            segments=merged.segments,
        )
        joined = [run.joined[h].joined for h in hours if h in run.joined]
        labels = joined[0].merged(*joined[1:]) if joined else None
        if labels is not None and labels.counts.total:
            current.performance = labels.counts
            if self.spec.columns.target:
                current.columns[self.spec.columns.target] = labels.labels
        seen = monitored_current(run.monitored, current)
        report = analyze(run.monitored, run.baseline, seen, fitted=run.fitted)
        if self.spec.segments:
            segments = segment_verdicts(run.monitored, run.baseline, seen, run.fitted)
            report = dataclasses.replace(report, segments=segments)
        window_start = layout.hour_start(hours[0])
        context = {
            "model": self.spec.model.name,
            "model_version": version,
            "window": window.name,
            "window_start": window_start.isoformat(),
            "window_end": end.isoformat(),
            "reference": f"baseline of {version}",
            "current": f"{window.name} window to {end.isoformat(timespec='minutes')}",
            "generated_at": end.isoformat(timespec="seconds"),
        }
        context |= {
            "partial_profiles": sum(run.profiles[h].objects for h in hours),
            "labels": None
            if labels is None
            else {"received": labels.received, "unmatched": labels.unmatched, "corrected": labels.corrected},
            "kpis": {} if labels is None else labels.kpis(self.spec),
            "new_labeled_rows": run.new_labeled_rows,
        }
        document = report_document(report, context) | {"inputs_fingerprint": fingerprint}
        # drift.json last: a stored drift.json is what a re-run takes as "done", so a run that
        # dies between the two writes must leave the window to be computed again, not without
        # its report.html.
        self.data.write(prefix + "report.html", render_html(report, context).encode(), "text/html; charset=utf-8")
        self.data.write(prefix + "drift.json", json.dumps(document, indent=2).encode(), "application/json")
        return WindowCheck.from_document(document)

    def _joined_hour(
        self, version: str, hour: str, labels_mark: str, captures: str, cached_joins: set[str]
    ) -> JoinedHour:
        """An hour's labels joined to its predictions: the rollup while neither the hour's labels
        (its marker) nor its captures (its profile fingerprint) changed, else joined again from
        the hour's labels objects and join indexes and stored."""
        fingerprint = labels_fingerprint(labels_mark, captures)
        cache_key = layout.joined_labels_key(version, hour)
        if cache_key in cached_joins:
            cached = JoinedHour.from_json(self.data.read(cache_key))
            if cached.fingerprint == fingerprint:
                return cached
        index: dict[str, list[Any]] = {}
        for item in self.data.list(layout.JOINS.hour_prefix(version, hour)):
            index.update(json.loads(self.data.read(item["Key"])))
        label_keys = [item["Key"] for item in self.data.list(layout.labels_hour_prefix(hour))]
        rollup = JoinedHour(fingerprint, join_labels(self.spec, read_labels(self.data, label_keys), index))
        self.data.write(cache_key, rollup.to_json(), "application/json")
        return rollup

    def new_labeled_rows(self, manifest: ModelManifest, window: dict[str, int]) -> int:
        """Labelled predictions made since the model version was created: a tally per prediction
        hour, kept beside the rollups and updated with this run's hours (a rollup per hour, never
        a listing of labels). Hours older than the longest window keep their last count."""
        key = layout.label_tally_key(manifest.version)
        stored = self.data.read_optional(key)
        tally: dict[str, int] = json.loads(stored) if stored is not None else {}
        updated = tally | window
        if updated != tally:
            self.data.write(key, json.dumps(updated, sort_keys=True).encode(), "application/json")
        first = layout.hour_of(datetime.fromisoformat(manifest.created_at))
        return sum(count for hour, count in updated.items() if hour >= first)
