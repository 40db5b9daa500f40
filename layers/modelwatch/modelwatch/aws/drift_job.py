"""The scheduled drift check, window by window: list and merge the partial profiles of the
window's hours, join the hours' labels, compare with the served version's baseline, and store
drift.json and report.html. Re-running a window whose inputs have not changed returns the stored
result (same keys, same values); new inputs make it compute again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from modelwatch.aws.registry import ModelRegistry
from modelwatch.drift import analyze
from modelwatch.profiles import DatasetProfile, merge_profiles
from modelwatch.registry.manifest import ModelManifest
from modelwatch.report import render_html, report_document
from modelwatch.spec.models import MonitoringSpec, Window
from modelwatch.windows import layout
from modelwatch.windows.label_join import JoinedLabels, join_labels


class DriftJob:
    def __init__(self, s3: Any, bucket: str, spec: MonitoringSpec, registry: ModelRegistry) -> None:
        self.s3, self.bucket, self.spec, self.registry = s3, bucket, spec, registry

    # --- S3 helpers -------------------------------------------------------------------------
    def _list(self, prefix: str, start_after: str = "") -> Iterator[dict[str, Any]]:
        paginator = self.s3.get_paginator("list_objects_v2")
        arguments = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            arguments["StartAfter"] = start_after
        for page in paginator.paginate(**arguments):
            yield from page.get("Contents", [])

    def _read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def _read_optional(self, key: str) -> bytes | None:
        try:
            return self._read(key)
        except self.s3.exceptions.NoSuchKey:
            return None

    def _write(self, key: str, body: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    # --- the job ----------------------------------------------------------------------------
    def run(self, end: datetime) -> list[dict[str, Any]]:
        version = self.registry.current_version()
        manifest = self.registry.manifest(version)
        baseline_bytes = self.registry.baseline(manifest)
        if baseline_bytes is None:
            raise ValueError(f"model version {version} has no baseline profile to compare with")
        baseline = DatasetProfile.from_json(baseline_bytes)
        return [self.check_window(manifest, baseline, window, end) for window in self.spec.drift.windows]

    def check_window(
        self, manifest: ModelManifest, baseline: DatasetProfile, window: Window, end: datetime
    ) -> dict[str, Any]:
        version = manifest.version
        hours = layout.window_hours(end, window.hours)
        profile_objects = sorted(
            (o["Key"], o["ETag"]) for h in hours for o in self._list(layout.partition_prefix("profiles", version, h))
        )
        label_hours = {h: sorted((o["Key"], o["ETag"]) for o in self._list(layout.labels_prefix(h))) for h in hours}
        fingerprint = hashlib.sha256(
            json.dumps([profile_objects, label_hours, manifest.artifact.sha256]).encode()
        ).hexdigest()
        prefix = layout.report_prefix(version, window.name, end)
        stored = self._read_optional(prefix + "drift.json")
        if stored is not None:
            document = json.loads(stored)
            if document.get("inputs_fingerprint") == fingerprint:
                return document

        # Sorted keys, streamed: the merge order is fixed and memory does not grow with the count.
        current = merge_profiles(DatasetProfile.from_json(self._read(key)) for key, _ in profile_objects)
        joined = [self._joined_hour(version, h, objects) for h, objects in label_hours.items() if objects]
        labels = joined[0].merged(*joined[1:]) if joined else None
        if labels is not None and labels.counts.total:
            current.performance = labels.counts
            if self.spec.columns.target:
                current.columns[self.spec.columns.target] = labels.labels
        report = analyze(self.spec, baseline, current)
        window_start = datetime.strptime(hours[0], layout.HOUR_FORMAT).replace(tzinfo=end.tzinfo)
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
        document = report_document(report, context) | {
            "partial_profiles": len(profile_objects),
            "labels": None if labels is None else {"received": labels.received, "unmatched": labels.unmatched},
            "kpis": {} if labels is None else labels.kpis(self.spec),
            "new_labeled_rows": self.new_labeled_rows(manifest),
            "inputs_fingerprint": fingerprint,
        }
        self._write(prefix + "drift.json", json.dumps(document, indent=2).encode(), "application/json")
        self._write(prefix + "report.html", render_html(report, context).encode(), "text/html; charset=utf-8")
        return document

    def _joined_hour(self, version: str, hour: str, label_objects: list[tuple[str, str]]) -> JoinedLabels:
        """An hour's labels joined to its predictions, cached until the hour's labels change."""
        joins = sorted((o["Key"], o["ETag"]) for o in self._list(layout.partition_prefix("joins", version, hour)))
        fingerprint = hashlib.sha256(json.dumps([label_objects, joins]).encode()).hexdigest()
        cache_key = layout.joined_labels_key(version, hour)
        cached = self._read_optional(cache_key)
        if cached is not None:
            data = json.loads(cached)
            if data.get("fingerprint") == fingerprint:
                return JoinedLabels.from_dict(data["joined"])
        index: dict[str, list[Any]] = {}
        for key, _ in joins:
            index.update(json.loads(self._read(key)))
        documents = [json.loads(self._read(key)) for key, _ in label_objects]
        joined = join_labels(self.spec, documents, index)
        body = json.dumps({"fingerprint": fingerprint, "joined": joined.to_dict()}).encode()
        self._write(cache_key, body, "application/json")
        return joined

    def new_labeled_rows(self, manifest: ModelManifest) -> int:
        """Labels for predictions made since the model version was created."""
        created = datetime.fromisoformat(manifest.created_at)
        start = "labels/dt=" + layout.hour_of(created)
        return sum(1 for _ in self._list("labels/", start_after=start))
