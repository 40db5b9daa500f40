"""The retraining state machine's steps, against S3 and the registry.

prepare: the labelled captures of the lookback window (a uniform sample of at most
    max_training_rows), split by time, stored as Parquet.
train: fit a challenger on them and publish it as a new version, not yet current.
evaluate: score champion and challenger on the same holdout and decide.
promote: point the registry at the challenger; its baseline comes with it.

Each step reads what the one before stored, so a retried step repeats the same work."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.label_store import read_labels
from modelwatch.data_access.model_store import ModelRegistry
from modelwatch.retraining.dataset import labelled_rows, labels_by_request
from modelwatch.retraining.decision import Answers, actual_of, answers_on, decide, metrics_of
from modelwatch.retraining.sampling import UniformSample
from modelwatch.retraining.tables import from_parquet, to_parquet
from modelwatch.retraining.trainer import train_with_trainer
from modelwatch.serving.current_model import ModelUnavailableError
from modelwatch.serving.onnx_model import ServedModel, load_model
from modelwatch.spec.models import MonitoringSpec
from modelwatch.training.publish import build_model_folder
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
        """Store the run's training and holdout rows; status "insufficient_data" below min_rows.

        The window is streamed hour by hour, capture object by capture object, through a uniform
        sample of at most `max_training_rows` rows: memory is bounded by that, not by the lookback.
        Captures and labels are both filed under the prediction's hour, so each hour joins alone.
        With sensitive features nothing is trained: captures hold pseudonyms or nothing of them,
        and a challenger trained on those could not score the raw values requests carry."""
        if self.spec.sensitive_features:
            reason = f"captures hold no raw values of the sensitive features {', '.join(self.spec.sensitive_features)}"
            return {"run_id": run_id, "rows": 0, "status": "insufficient_data", "reason": reason}
        settings = self.spec.retraining
        hours = layout.window_hours(self.clock(), settings.lookback_hours)
        # Seeded by the run: a retried step draws the same sample.
        sample = UniformSample(settings.max_training_rows, int(hashlib.sha256(run_id.encode()).hexdigest()[:12], 16))
        capture_hours = [self.data.list_hours(folder, hours) for folder in self.data.folders(layout.CAPTURE.prefix)]
        label_hours = self.data.list_hours(layout.LABELS.prefix, hours)
        for hour in hours:
            labels = labels_by_request(read_labels(self.data, [key for key, _ in label_hours[hour]]))
            if not labels:
                continue  # no ground truth for this hour's predictions: nothing to learn from
            for listing in capture_hours:
                for key, _ in listing[hour]:
                    try:
                        captures = parse_capture(self.data.read(key))
                    except PoisonCaptureError:
                        continue  # quarantined by the capture function; nothing to learn from
                    sample.add(labelled_rows(self.spec, captures, labels))
        summary = {"run_id": run_id, "rows": sample.seen, "from_hour": hours[0], "to_hour": hours[-1]}
        if sample.seen < settings.min_rows:
            return summary | {"status": "insufficient_data", "min_rows": settings.min_rows}
        rows = sample.rows()
        train, holdout = rows.split(settings.holdout_share)
        self.data.write(layout.retraining_key(run_id, TRAIN), to_parquet(train), "application/vnd.apache.parquet")
        self.data.write(layout.retraining_key(run_id, HOLDOUT), to_parquet(holdout), "application/vnd.apache.parquet")
        return summary | {"status": "ready", "sampled_rows": rows.rows}

    def _columns(self, run_id: str, name: str) -> dict[str, Any]:
        return from_parquet(self.data.read(layout.retraining_key(run_id, name)), self.spec.numeric_features)

    def train(self, run_id: str) -> dict[str, Any]:
        """Fit (the built-in pipeline, or the spec's trainer), export to ONNX, profile the holdout
        as the new baseline, publish (not promoted)."""
        version = f"retrained-{run_id}"[:120]
        train, holdout = self._columns(run_id, TRAIN), self._columns(run_id, HOLDOUT)
        if self.spec.retraining.trainer is not None:  # the team's own training code
            folder = train_with_trainer(self.spec, self.spec.retraining.trainer, version, train, holdout, self.clock())
        else:
            folder = build_model_folder(self.spec, version, train, holdout, self.clock())
        manifest = self.registry.publish(folder)
        return {
            "version": manifest.version,
            "training_rows": manifest.training_rows,
            "validation_metrics": manifest.validation_metrics,
        }

    def _served(self, version: str) -> ServedModel:
        """The version as the predict function serves it: verified, loaded for the spec's task."""
        manifest = self.registry.manifest(version)
        artifact = self.registry.verified_artifact(manifest)
        return load_model(self.spec, manifest, artifact)

    def evaluate(self, run_id: str, challenger_version: str) -> dict[str, Any]:
        """Champion and challenger, each as served (ONNX Runtime), on the run's holdout. The
        decision (outcome "promote", "reject" or "not_enough_data", the test and its p-value) is
        the run's report, kept beside its data."""
        holdout = self._columns(run_id, HOLDOUT)
        actual = actual_of(self.spec, holdout)
        challenger = answers_on(self.spec, self._served(challenger_version), holdout)
        champion_version: str | None = None
        champion: Answers | None = None
        try:
            champion_version = self.registry.current_version()
            champion = answers_on(self.spec, self._served(champion_version), holdout)
        except (ModelUnavailableError, ValueError):
            # No current version, it no longer verifies, or it was made for another task or
            # feature schema than the spec's: nothing comparable to beat.
            champion_version, champion = None, None
        decision = decide(self.spec, actual, challenger_version, challenger, champion_version, champion).to_dict()
        document = decision | {
            "challenger_metrics": metrics_of(self.spec, actual, challenger),
            "champion_metrics": None if champion is None else metrics_of(self.spec, actual, champion),
        }
        self.data.write(
            layout.retraining_key(run_id, DECISION), json.dumps(document, indent=2).encode(), "application/json"
        )
        return document

    def promote(self, version: str) -> dict[str, Any]:
        self.registry.promote(version)
        return {"promoted": version}
