"""The retraining state machine's steps, against S3 and the registry.

prepare: the labelled captures of the lookback window, split by time, stored as Parquet.
train: fit a challenger on them and publish it as a new version, not yet current.
evaluate: score champion and challenger on the same holdout and decide.
promote: point the registry at the challenger; its baseline comes with it.

Each step reads what the one before stored, so a retried step repeats the same work."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.label_store import read_labels
from modelwatch.data_access.model_store import ModelRegistry
from modelwatch.retraining.dataset import labelled_rows, labels_by_request
from modelwatch.retraining.decision import decide, score_on
from modelwatch.retraining.tables import from_parquet, to_parquet
from modelwatch.serving.current_model import ModelUnavailableError
from modelwatch.serving.onnx_model import OnnxClassifier
from modelwatch.spec.models import MonitoringSpec
from modelwatch.windows.capture_profile import PoisonCaptureError, parse_capture

TRAIN, HOLDOUT, DECISION = "train.parquet", "holdout.parquet", "decision.json"


class RetrainingJob:
    def __init__(
        self,
        s3: Any,
        bucket: str,
        spec: MonitoringSpec,
        registry: ModelRegistry,
        clock: Callable[[], datetime],
    ) -> None:
        self.data, self.spec, self.registry, self.clock = DataBucket(s3, bucket), spec, registry, clock

    def prepare(self, run_id: str) -> dict[str, Any]:
        """Store the run's training and holdout rows; status "insufficient_data" below min_rows."""
        hours = layout.window_hours(self.clock(), self.spec.retraining.lookback_hours)
        captures: list[dict[str, Any]] = []
        for version_folder in self.data.folders(layout.CAPTURE.prefix):
            for keys in self.data.list_hours(version_folder, hours).values():
                for key, _ in keys:
                    try:
                        captures += parse_capture(self.data.read(key))
                    except PoisonCaptureError:
                        continue  # quarantined by the capture function; nothing to learn from
        label_keys = [key for keys in self.data.list_hours(layout.LABELS.prefix, hours).values() for key, _ in keys]
        documents = read_labels(self.data, label_keys)
        rows = labelled_rows(self.spec, captures, labels_by_request(documents))
        summary = {"run_id": run_id, "rows": rows.rows, "from_hour": hours[0], "to_hour": hours[-1]}
        if rows.rows < self.spec.retraining.min_rows:
            return summary | {"status": "insufficient_data", "min_rows": self.spec.retraining.min_rows}
        train, holdout = rows.split(self.spec.retraining.holdout_share)
        self.data.write(layout.retraining_key(run_id, TRAIN), to_parquet(train), "application/vnd.apache.parquet")
        self.data.write(layout.retraining_key(run_id, HOLDOUT), to_parquet(holdout), "application/vnd.apache.parquet")
        return summary | {"status": "ready"}

    def _columns(self, run_id: str, name: str) -> dict[str, Any]:
        return from_parquet(self.data.read(layout.retraining_key(run_id, name)), self.spec.numeric_features)

    def train(self, run_id: str) -> dict[str, Any]:
        """Fit, export to ONNX, profile the holdout as the new baseline, publish (not promoted)."""
        from modelwatch.training.publish import build_model_folder

        version = f"retrained-{run_id}"[:120]
        folder = build_model_folder(
            self.spec, version, self._columns(run_id, TRAIN), self._columns(run_id, HOLDOUT), self.clock()
        )
        manifest = self.registry.publish(folder)
        return {
            "version": manifest.version,
            "training_rows": manifest.training_rows,
            "validation_metrics": manifest.validation_metrics,
        }

    def _served(self, version: str) -> OnnxClassifier:
        manifest = self.registry.manifest(version)
        artifact = self.registry.verified_artifact(manifest)
        return OnnxClassifier.for_spec(artifact, self.spec, manifest.classes)

    def evaluate(self, run_id: str, challenger_version: str) -> dict[str, Any]:
        """Champion and challenger, each as served (ONNX Runtime), on the run's holdout."""
        holdout = self._columns(run_id, HOLDOUT)
        challenger = score_on(self.spec, self._served(challenger_version), holdout)
        champion_version: str | None = None
        champion = None
        try:
            champion_version = self.registry.current_version()
            champion = score_on(self.spec, self._served(champion_version), holdout)
        except ModelUnavailableError:
            pass  # no current version, or it no longer verifies: nothing to beat
        rows = len(next(iter(holdout.values())))
        decision = decide(self.spec, challenger_version, challenger, champion_version, champion, rows).to_dict()
        document = decision | {"challenger_metrics": challenger, "champion_metrics": champion}
        self.data.write(
            layout.retraining_key(run_id, DECISION), json.dumps(document, indent=2).encode(), "application/json"
        )
        return document

    def promote(self, version: str) -> dict[str, Any]:
        self.registry.promote(version)
        return {"promoted": version}
