"""The scheduled drift check, window by window: list and merge the partial profiles of the
window's hours, join the hours' labels, compare with the served version's baseline, and store
drift.json and report.html. Re-running a window whose inputs have not changed returns the stored
result (same keys, same values); new inputs make it compute again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.model_store import ModelRegistry
from modelwatch.drift import analyze
from modelwatch.jobs.window_check import WindowCheck
from modelwatch.profiles import DatasetProfile, merge_profiles
from modelwatch.registry.manifest import ModelManifest
from modelwatch.report import render_html, report_document
from modelwatch.spec.models import MonitoringSpec, Window
from modelwatch.windows.label_join import JoinedLabels, join_labels

SETTLE_HOURS = layout.SETTLE_HOURS


@dataclass(frozen=True)
class _Hour:
    """An hour's partial profiles rolled up, with the fingerprint of the objects it holds."""

    fingerprint: str
    objects: int
    profile: DatasetProfile

    def to_json(self) -> bytes:
        document = {"fingerprint": self.fingerprint, "objects": self.objects, "profile": self.profile.to_dict()}
        return json.dumps(document, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, body: bytes) -> _Hour:
        data = json.loads(body)
        return cls(data["fingerprint"], int(data["objects"]), DatasetProfile.from_dict(data["profile"]))


@dataclass(frozen=True)
class _RunContext:
    """What every window of one run shares: the served version, its baseline, one listing."""

    manifest: ModelManifest
    baseline: DatasetProfile
    end: datetime
    profiles: dict[str, _Hour]
    labels: dict[str, list[tuple[str, str]]]
    joined: dict[str, JoinedLabels]  # hours with labels, each joined once per run
    new_labeled_rows: int


class DriftJob:
    def __init__(self, s3: Any, bucket: str, spec: MonitoringSpec, registry: ModelRegistry) -> None:
        self.data, self.spec, self.registry = DataBucket(s3, bucket), spec, registry

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
        baseline = DatasetProfile.from_json(baseline_bytes)
        longest = max(w.hours for w in self.spec.drift.windows)
        all_hours = layout.window_hours(end, longest)
        rollups = self.data.existing(layout.PROFILES_HOURLY.version_prefix(version), all_hours)
        rollups |= self.data.existing(layout.PROFILES_HOURLY.version_prefix(version), all_hours, ".late")
        # Every hour that may still change, listed at once (one paginated LIST, not one per hour).
        unsettled = [hour for hour in all_hours if not self._settled(version, hour, end, rollups)]
        listed = self.data.list_hours(layout.PROFILES.version_prefix(version), unsettled) if unsettled else {}
        hourly = {hour: self._hourly_profile(version, hour, rollups, listed) for hour in all_hours}
        labels = {h: sorted(items) for h, items in self.data.list_hours(layout.LABELS.prefix, all_hours).items()}
        cached_joins = self.data.existing(layout.LABELS_JOINED.version_prefix(version), all_hours)
        joined = {h: self._joined_hour(version, h, items, cached_joins) for h, items in labels.items() if items}
        context = _RunContext(manifest, baseline, end, hourly, labels, joined, self.new_labeled_rows(manifest))
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
    ) -> _Hour:
        """One hour's partial profiles merged, from the rollup when it is still current."""
        key = layout.hourly_profile_key(version, hour)
        cached = self.data.read(key) if key in rollups else None
        if cached is not None and hour not in listed:
            return _Hour.from_json(cached)
        objects = listed.get(hour, [])
        fingerprint = hashlib.sha256(json.dumps(sorted(objects)).encode()).hexdigest()
        if cached is not None:
            rollup = _Hour.from_json(cached)
            if rollup.fingerprint == fingerprint:
                return rollup
        profile = merge_profiles(DatasetProfile.from_json(self.data.read(k)) for k, _ in sorted(objects))
        rollup = _Hour(fingerprint, len(objects), profile)
        if objects:
            self.data.write(key, rollup.to_json(), "application/json")
        return rollup

    def check_window(self, run: _RunContext, window: Window, hours: list[str], merged: DatasetProfile) -> WindowCheck:
        version, end = run.manifest.version, run.end
        profile_hours = [run.profiles[h].fingerprint for h in hours]
        label_hours = {h: run.labels[h] for h in hours}
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
        )
        joined = [run.joined[h] for h in hours if h in run.joined]
        labels = joined[0].merged(*joined[1:]) if joined else None
        if labels is not None and labels.counts.total:
            current.performance = labels.counts
            if self.spec.columns.target:
                current.columns[self.spec.columns.target] = labels.labels
        report = analyze(self.spec, run.baseline, current)
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
        self, version: str, hour: str, label_objects: list[tuple[str, str]], cached_joins: set[str]
    ) -> JoinedLabels:
        """An hour's labels joined to its predictions, cached until the hour's labels change."""
        joins = sorted((o["Key"], o["ETag"]) for o in self.data.list(layout.JOINS.hour_prefix(version, hour)))
        fingerprint = hashlib.sha256(json.dumps([label_objects, joins]).encode()).hexdigest()
        cache_key = layout.joined_labels_key(version, hour)
        cached = self.data.read(cache_key) if cache_key in cached_joins else None
        if cached is not None:
            data = json.loads(cached)
            if data.get("fingerprint") == fingerprint:
                return JoinedLabels.from_dict(data["joined"])
        index: dict[str, list[Any]] = {}
        for key, _ in joins:
            index.update(json.loads(self.data.read(key)))
        documents = [json.loads(self.data.read(key)) for key, _ in label_objects]
        joined = join_labels(self.spec, documents, index)
        body = json.dumps({"fingerprint": fingerprint, "joined": joined.to_dict()}).encode()
        self.data.write(cache_key, body, "application/json")
        return joined

    def new_labeled_rows(self, manifest: ModelManifest) -> int:
        """Labels for predictions made since the model version was created."""
        created = datetime.fromisoformat(manifest.created_at)
        start = layout.labels_hour_prefix(layout.hour_of(created))
        return sum(1 for _ in self.data.list(layout.LABELS.prefix, start_after=start))
