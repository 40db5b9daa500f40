"""The retraining state machine's steps that decide, run by the promote function, whose role the
team's trainer never holds (the train step is modelwatch.jobs.challenger_training, in the retrain
function):

prepare: take the retraining lock (one run at a time), then the labelled captures of the lookback
    window (a uniform sample of at most max_training_rows), split by time, stored as Parquet.
evaluate: the trainer's ONNX graph, imported as any model is (converted inputs checked, metrics,
    baseline and loss model made here from the holdout, never taken from the trainer), published
    as a version, and scored with the champion on the same holdout; the decision is stored where
    only this function writes.
promote: only a stored "promote" decision for this run's challenger, approved when the spec asks
    for approval, and only over the champion it was compared with (a conditional pointer write).
release: let go of the lock, whatever the run's end.

Each step reads what the one before stored, so a retried step repeats the same work."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from modelwatch.catalog import layout
from modelwatch.data_access.approval_store import ApprovalStore
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.label_store import read_labels
from modelwatch.data_access.model_store import ModelRegistry, StaleChampionError
from modelwatch.data_access.retraining_lock import RetrainingLock
from modelwatch.importing.model_import import import_source
from modelwatch.importing.sources import SourceModel
from modelwatch.jobs.retraining_machine import run_limit
from modelwatch.registry.manifest import ARTIFACT_NAME, MANIFEST_NAME, ModelManifest, sha256_hex
from modelwatch.retraining.dataset import labelled_rows, labels_by_request
from modelwatch.retraining.decision import Answers, actual_of, answers_on, decide, metrics_of
from modelwatch.retraining.sampling import UniformSample
from modelwatch.retraining.tables import from_parquet, to_parquet
from modelwatch.retraining.trusted_holdout import holdout_columns
from modelwatch.serving.current_model import ModelUnavailableError
from modelwatch.serving.onnx_model import ServedModel, load_model
from modelwatch.spec.models import MonitoringSpec
from modelwatch.windows.capture_profile import PoisonCaptureError, parse_capture

TRAIN, HOLDOUT, PREPARED, DECISION = "train.parquet", "holdout.parquet", "prepared.json", "decision.json"


class PromotionRefusedError(Exception):
    """A promote step whose run did not earn it: no stored decision to promote this challenger,
    or no approval where the spec requires one. Step Functions reports it as the run's failure."""


def challenger_version(run_id: str) -> str:
    """The version a run's challenger is published as: named by the run, never by the trainer."""
    return f"retrained-{run_id}"[:120]


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
        self.lock = RetrainingLock(s3, bucket)
        self.approvals = ApprovalStore(s3, bucket)

    def prepare(self, run_id: str) -> dict[str, Any]:
        """Take the lock, then store the run's training and holdout rows; status "busy" when
        another run holds the lock, "insufficient_data" below min_rows, else "ready".

        The window is streamed hour by hour, capture object by capture object, through a uniform
        sample of at most `max_training_rows` rows: memory is bounded by that, not by the lookback.
        Captures and labels are both filed under the prediction's hour, so each hour joins alone.
        With sensitive features nothing is trained: captures hold pseudonyms or nothing of them,
        and a challenger trained on those could not score the raw values requests carry."""
        holder = self.lock.acquire(run_id, self.clock(), run_limit(self.spec))
        if holder is not None:
            return {
                "run_id": run_id,
                "rows": 0,
                "status": "busy",
                "reason": f"retraining run {holder.run_id} is in progress (since {holder.acquired_at}); "
                "one run at a time, and this trigger ends here",
            }
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
        if settings.holdout_source == "trusted":
            # Judged on the team's curated rows, which no API caller can write; every labelled
            # capture trains.
            holdout = self._trusted_holdout()
            if not holdout or not len(next(iter(holdout.values()))):
                reason = f'holdout_source is "trusted" and {layout.TRUSTED_HOLDOUT.prefix} holds no rows'
                return summary | {"status": "insufficient_data", "reason": reason}
            train = rows.columns
        else:
            train, holdout = rows.split(settings.holdout_share)
        self.data.write(layout.retraining_key(run_id, TRAIN), to_parquet(train), "application/vnd.apache.parquet")
        self.data.write(layout.retraining_key(run_id, HOLDOUT), to_parquet(holdout), "application/vnd.apache.parquet")
        counts = {"training_rows": _rows(train), "holdout_rows": _rows(holdout)}
        self.data.write(layout.retraining_key(run_id, PREPARED), json.dumps(counts).encode(), "application/json")
        return summary | {"status": "ready", "sampled_rows": rows.rows}

    def _trusted_holdout(self) -> dict[str, Any]:
        keys = [item["Key"] for item in self.data.list(layout.TRUSTED_HOLDOUT.prefix)]
        return holdout_columns(self.spec, ((key, self.data.read(key)) for key in keys)) if keys else {}

    def _columns(self, run_id: str, name: str) -> dict[str, Any]:
        return from_parquet(self.data.read(layout.retraining_key(run_id, name)), self.spec.numeric_features)

    def _served(self, version: str) -> ServedModel:
        """The version as the predict function serves it: verified, loaded for the spec's task."""
        manifest = self.registry.manifest(version)
        artifact = self.registry.verified_artifact(manifest)
        return load_model(self.spec, manifest, artifact)

    def _publish_challenger(self, run_id: str, holdout: Mapping[str, Any]) -> tuple[ModelManifest, bytes]:
        """The trainer's graph as a registry version. Only the graph is the trainer's: it is
        imported as a user's ONNX file is (its inputs checked against the spec, its classes read),
        and its validation metrics, baseline profile and loss model are made here, from the
        holdout this function prepared, so no trainer can hand the drift check a baseline of its
        own. A retried step finds the version already published from the same graph. Returns the
        version's manifest and the graph's bytes."""
        graph = self.data.read(layout.challenger_key(run_id, ARTIFACT_NAME))
        version = challenger_version(run_id)
        try:
            published = self.registry.manifest(version)
        except ModelUnavailableError:
            published = None
        if published is not None:
            if published.artifact.sha256 != sha256_hex(graph):
                raise PromotionRefusedError(
                    f"{version} is already published from another graph than the run's challenger; not evaluated"
                )
            return published, graph
        prepared = json.loads(self.data.read(layout.retraining_key(run_id, PREPARED)))
        source = SourceModel(Path(f"the challenger of retraining run {run_id}"), "onnx", onnx=graph)
        folder = import_source(
            self.spec, source, holdout, version, self.clock(), training_rows=prepared["training_rows"]
        )
        made_with = self._made_with(run_id) | {"checked_as": "ONNX graph, imported by the promote step"}
        manifest = self.registry.publish(
            replace(folder, manifest=folder.manifest.model_copy(update={"library_versions": made_with}))
        )
        return manifest, graph

    def _made_with(self, run_id: str) -> dict[str, str]:
        """The libraries the trainer says it made the challenger with (a record for people, never
        used to decide); nothing when its manifest is missing or unreadable."""
        body = self.data.read_optional(layout.challenger_key(run_id, MANIFEST_NAME))
        try:
            reported = ModelManifest.model_validate_json(body).library_versions if body else {}
        except ValueError:
            return {}
        return {str(name)[:64]: str(value)[:128] for name, value in list(reported.items())[:20]}

    def evaluate(self, run_id: str) -> dict[str, Any]:
        """Champion and challenger, each as served (ONNX Runtime), on the run's holdout. The
        decision (outcome "promote", "reject" or "not_enough_data", the test and its p-value, the
        champion it was compared with and the challenger's SHA-256) is the run's report, and what
        the promote step checks."""
        holdout = self._columns(run_id, HOLDOUT)
        manifest, graph = self._publish_challenger(run_id, holdout)
        actual = actual_of(self.spec, holdout)
        # The graph in hand is the published one (its SHA-256 was checked or just written).
        challenger = answers_on(self.spec, load_model(self.spec, manifest, graph), holdout)
        champion_version: str | None = None
        champion: Answers | None = None
        problem: str | None = None
        try:
            champion_version = self.registry.current_version()
        except ModelUnavailableError:
            champion_version = None  # no version was ever current: nothing to beat
        if champion_version is not None:
            try:
                champion = answers_on(self.spec, self._served(champion_version), holdout)
            except (ModelUnavailableError, ValueError) as error:
                # It no longer verifies, or was made for another task or feature schema.
                problem = " ".join(str(error).split())[:300]
        decision = decide(self.spec, actual, manifest.version, challenger, champion_version, champion, problem)
        document = decision.to_dict() | {
            "run_id": run_id,
            "challenger_sha256": manifest.artifact.sha256,
            "challenger_metrics": metrics_of(self.spec, actual, challenger),
            "champion_metrics": None if champion is None else metrics_of(self.spec, actual, champion),
        }
        self.data.write(
            layout.retraining_key(run_id, DECISION), json.dumps(document, indent=2).encode(), "application/json"
        )
        return document

    def promote(
        self, run_id: str, version: str, approval: Mapping[str, Any] | None, execution_arn: str | None = None
    ) -> dict[str, Any]:
        """Move the pointer to the run's challenger, if everything that earns it holds: the
        decision this function stored for the run says promote, for this version and graph; the
        approval, when the spec requires one, is a person's "approved" answering the request this
        execution's approval task stored for this challenger, before it expired; and the champion it was
        compared with is still current. A stale champion is an outcome ("stale"), not a failure:
        someone moved the pointer since, and their choice stands."""
        body = self.data.read_optional(layout.retraining_key(run_id, DECISION))
        if body is None:
            raise PromotionRefusedError(f"run {run_id} has no stored decision: nothing to promote")
        decision = json.loads(body)
        if not decision.get("promote") or decision.get("challenger_version") != version:
            raise PromotionRefusedError(
                f"run {run_id}'s decision ({decision.get('outcome')} {decision.get('challenger_version')}) "
                f"does not promote {version}"
            )
        manifest = self.registry.manifest(version)
        if manifest.artifact.sha256 != decision.get("challenger_sha256"):
            raise PromotionRefusedError(f"{version}'s graph is not the one run {run_id} evaluated")
        if self.spec.retraining.approval == "manual":
            self._check_approval(run_id, version, approval, execution_arn)
        try:
            self.registry.promote_over(version, decision.get("champion_version"))
        except StaleChampionError as stale:
            return {"outcome": "stale", "version": version, "reason": str(stale), "current": stale.current}
        return {"outcome": "promoted", "promoted": version}

    def _check_approval(
        self, run_id: str, version: str, approval: Mapping[str, Any] | None, execution_arn: str | None
    ) -> None:
        if not approval or approval.get("decision") != "approved":
            raise PromotionRefusedError(f'run {run_id} needs an approval ([retraining] approval = "manual")')
        request = self.approvals.get(run_id)
        if request is None or request.challenger_version != version or request.execution_arn != execution_arn:
            raise PromotionRefusedError(
                f"run {run_id}'s approval answers no approval request of this execution for {version}: refused"
            )
        if datetime.fromisoformat(request.expires_at) < self.clock():
            raise PromotionRefusedError(f"run {run_id}'s approval request expired at {request.expires_at}")

    def release(self, run_id: str) -> dict[str, Any]:
        return {"released": self.lock.release(run_id)}


def _rows(columns: Mapping[str, Any]) -> int:
    return len(next(iter(columns.values()))) if columns else 0
