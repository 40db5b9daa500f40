"""The retraining state machine's train step, the only one the retrain function runs: fit a
challenger on the run's prepared rows (the built-in pipeline, or the team's trainer), export it
to ONNX, and store the graph under the run's challenger prefix. That is all the trainer's role
may write: the promote function imports the graph, judges it and decides (modelwatch.jobs.
retraining_job), so nothing the trainer's code does reaches the registry or the pointer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.jobs.retraining_job import HOLDOUT, TRAIN, challenger_version
from modelwatch.registry.manifest import ARTIFACT_NAME, MANIFEST_NAME, sha256_hex
from modelwatch.retraining.tables import from_parquet
from modelwatch.retraining.trainer import train_with_trainer
from modelwatch.spec.models import MonitoringSpec
from modelwatch.training.publish import build_model_folder


def train_challenger(s3: Any, bucket: str, spec: MonitoringSpec, run_id: str, clock: Callable[[], datetime]) -> dict:
    data = DataBucket(s3, bucket)
    train, holdout = (
        from_parquet(data.read(layout.retraining_key(run_id, name)), spec.numeric_features) for name in (TRAIN, HOLDOUT)
    )
    version = challenger_version(run_id)
    if spec.retraining.trainer is not None:  # the team's own training code
        folder = train_with_trainer(spec, spec.retraining.trainer, version, train, holdout, clock())
    else:
        folder = build_model_folder(spec, version, train, holdout, clock())
    key = layout.challenger_key(run_id, ARTIFACT_NAME)
    data.write(key, folder.artifact, "application/octet-stream")
    # How it was made (libraries and their versions), for the version's record; nothing else of
    # the trainer's manifest is used.
    data.write(
        layout.challenger_key(run_id, MANIFEST_NAME), folder.manifest.model_dump_json().encode(), "application/json"
    )
    return {
        "challenger": key,
        "sha256": sha256_hex(folder.artifact),
        # The trainer's own figures, for the logs; the decision uses those the promote step measures.
        "validation_metrics": {
            k: v for k, v in folder.manifest.validation_metrics.items() if isinstance(v, int | float)
        },
    }
