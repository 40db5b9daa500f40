"""Every function the stack deploys, with everything the stack, the bundler, the local runtime
and the docs need to know about it: its handler, how it is packaged and invoked, its memory and
timeout, its layers and the core modules it ships, SnapStart, its environment, and the S3 areas
it reads and writes. CDK builds the functions, their grants and their cdk-nag reasons from this
table; the local runtime invokes them with the environment it declares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modelwatch.catalog.layout import (
    ACCOUNTING,
    APPROVALS,
    CAPTURE,
    CHALLENGERS,
    DELIVERIES,
    DELIVERY_ERRORS,
    FEEDBACK_FILED,
    INCIDENTS,
    JOINS,
    LABELS,
    LABELS_JOINED,
    MODELS,
    PROFILES,
    PROFILES_HOURLY,
    QUARANTINE,
    REPORTS,
    RETRAINING_LOCK,
    RETRAINING_RUNS,
    TRUSTED_HOLDOUT,
    Area,
)

# The environment variables functions read (modelwatch.data_access.settings validates them).
SPEC_FILE = "MODELWATCH_SPEC"
DATA_BUCKET = "MODELWATCH_DATA_BUCKET"
MODEL_BUCKET = "MODELWATCH_MODEL_BUCKET"
MODEL_PREFIX = "MODELWATCH_MODEL_PREFIX"
POINTER_PARAMETER = "MODELWATCH_POINTER_PARAMETER"
# The Slack webhook's secret; empty: Slack is not configured (notices still go out by email).
SLACK_SECRET = "MODELWATCH_SLACK_SECRET"
# The notices topic: the notifier's rendered incident notices, which email subscribes to.
NOTICES_TOPIC = "MODELWATCH_NOTICES_TOPIC"
DASHBOARD_NAME = "MODELWATCH_DASHBOARD_NAME"
# The secret sensitive features are hashed with (empty when the spec hashes none).
PSEUDONYM_SECRET = "MODELWATCH_PSEUDONYM_SECRET"
# The secret request ids are signed with (modelwatch.serving.request_ids): predict issues, feedback checks.
REQUEST_ID_SECRET = "MODELWATCH_REQUEST_ID_SECRET"
BASE_ENVIRONMENT = (SPEC_FILE, DATA_BUCKET, MODEL_BUCKET, MODEL_PREFIX, POINTER_PARAMETER)
SPEC_NAME = "monitoring.toml"  # the spec's name beside every function's code (MODELWATCH_SPEC)

# The core modules left out of each build of the core: the "core" layer every zip function shares
# leaves out what no zip function imports (the command line and what only it or training uses: a
# test holds the layer to every module a handler reaches); the retrain function's image, which
# trains, leaves out only the command line and the demo data.
CORE_LEFT_OUT: dict[str, tuple[str, ...]] = {
    "layer": ("cli", "demo", "training", "retraining", "importing", "cost", "policy_evaluation.py", "__main__.py"),
    "training": ("cli", "demo", "__main__.py"),
}

# Lambda retries a failed asynchronous invocation this many times (its maximum) before the
# event goes to the function's dead-letter queue.
ASYNC_RETRY_ATTEMPTS = 2

# "delivery-stream": S3's notification of each object the delivery stream (Firehose) writes.
Invocation = Literal["api", "delivery-stream", "schedule", "sns", "state-machine"]
# Layers: "core" is the modelwatch library (layers/modelwatch), shared by every zip function; the
# others are third-party packages (layers/requirements/<name>.txt). "monitoring" is numpy,
# DataSketches and Powertools; "statistics" (SciPy, Jinja2) and "inference" (ONNX Runtime) go on
# top of it: the drift function computes statistics and reports, the capture function profiles and
# runs DLE's loss model, and neither carries the other's 60-100 MB.
Layer = Literal["core", "base", "serving", "monitoring", "statistics", "inference"]
CORE_LAYER: Layer = "core"
# How a function gets the core: the shared layer (zip functions), or a build of its own (an image).
CoreSet = Literal["layer", "training"]


@dataclass(frozen=True)
class FunctionDefinition:
    name: str
    description: str
    invocation: Invocation
    memory_mb: int
    timeout_seconds: int
    layers: tuple[Layer, ...] = ()  # none: a container image carries its own packages
    core: CoreSet = "layer"
    snap_start: bool = False  # where a cold start is a caller's wait
    reads: tuple[Area, ...] = ()
    writes: tuple[Area, ...] = ()
    pointer: Literal["read", "write"] | None = None  # the current-model parameter
    environment: tuple[str, ...] = BASE_ENVIRONMENT
    # Its log lines (and dead letters) carry raw inputs (capture and quarantine lines, records it
    # could not store): encrypted with the deployment's own key, kept no longer than the logs'.
    handles_inputs: bool = False
    # Reads the catalogue's read-back metrics from CloudWatch (GetMetricData, ListMetrics: actions
    # without resource-level permissions, so granted on "*").
    reads_metrics: bool = False
    # Publishes on the alerts topic with its own role (the approval notice).
    publishes_alerts: bool = False
    # Publishes on the notices topic with its own role (the notifier's incident notices, for email).
    publishes_notices: bool = False
    # invocation "api": the HTTP API route (POST) it answers.
    route: str | None = None
    # invocation "schedule": how often EventBridge runs it.
    every_seconds: int | None = None
    # A container image: the function folder whose Dockerfile builds it (its own by default), and
    # whether the team's trainer requirements go in (only the retrain function runs their code).
    dockerfile_of: str | None = None
    runs_trainer: bool = False

    @property
    def handler(self) -> str:
        return f"functions.{self.name}.handler.handler"

    @property
    def packaging(self) -> Literal["zip", "image"]:
        return "zip" if self.layers else "image"

    @property
    def asynchronous(self) -> bool:
        """Invoked asynchronously: Lambda retries it, and a dead-letter queue keeps what fails."""
        return self.invocation in ("delivery-stream", "schedule", "sns")

    @property
    def on_request_path(self) -> bool:
        """Answers a caller's request (the HTTP API): context `tracing` turns X-Ray on for these,
        `traceBackground` for the others (modelwatch_infra.functions)."""
        return self.invocation == "api"

    @property
    def traced_by_default(self) -> bool:
        """The functions context `tracing` covers (the request path's), as modelwatch.cost reads
        them: no function is traced by default any more. Every function only passes traces through
        unless `tracing` (these) or `traceBackground` (the rest) turns X-Ray on: under the default
        sampling rule X-Ray records about one trace per invocation at low traffic, billed per
        trace, and Lambda's own sampling of active tracing cannot be lowered."""
        return self.on_request_path

    def areas(self) -> list[Area]:
        """Every area it reads or writes, once each."""
        return list(dict.fromkeys((*self.reads, *self.writes)))


PREDICT = FunctionDefinition(
    "predict",
    "POST /predict: score records, emit metrics, log capture lines",
    "api",
    memory_mb=1024,
    timeout_seconds=10,
    layers=("core", "serving"),
    snap_start=True,
    reads=(MODELS,),
    pointer="read",
    handles_inputs=True,
    environment=(*BASE_ENVIRONMENT, PSEUDONYM_SECRET, REQUEST_ID_SECRET),
    route="/predict",
)
FEEDBACK = FunctionDefinition(
    "feedback",
    "POST /feedback: log ground truth and business outcomes (stored in batches by capture)",
    "api",
    memory_mb=512,
    timeout_seconds=10,
    layers=("core", "base"),
    reads=(MODELS,),  # the served version's manifest: labels are checked against its classes
    pointer="read",
    handles_inputs=True,
    environment=(*BASE_ENVIRONMENT, REQUEST_ID_SECRET),
    route="/feedback",
)
CAPTURE_FUNCTION = FunctionDefinition(
    "capture",
    "each delivery stream object's capture and feedback lines filed by model version and hour, and profiled",
    "delivery-stream",
    memory_mb=1024,
    # A buffer of buffer_mib (at most 128 MiB) is read, filed and profiled in one invocation.
    timeout_seconds=300,
    layers=("core", "monitoring", "inference"),
    # deliveries: the object its notification names (deliveries-errors: what the stream could not
    # process, counted for the alarm); capture: a backfill's batch of stored objects; models: the
    # version's baseline PCA and a regression version's loss model, for per-record reconstruction
    # errors and expected losses (read once per execution environment)
    reads=(DELIVERIES, DELIVERY_ERRORS, CAPTURE, MODELS),
    # labels: each hour's objects and its "changed" marker; profiles-hourly: late-capture markers;
    # feedback-filed: the feedback pieces each delivery filed, by the hour received
    writes=(CAPTURE, QUARANTINE, LABELS, PROFILES, JOINS, PROFILES_HOURLY, FEEDBACK_FILED),
    handles_inputs=True,
)
DRIFT = FunctionDefinition(
    "drift",
    "the scheduled drift check of every window",
    "schedule",
    memory_mb=2048,
    timeout_seconds=600,
    layers=("core", "monitoring", "statistics"),
    # accounting: the watermark of reconciled hours; feedback-filed: feedback pieces per hour received
    reads=(MODELS, PROFILES, PROFILES_HOURLY, JOINS, LABELS, LABELS_JOINED, REPORTS, ACCOUNTING, FEEDBACK_FILED),
    writes=(PROFILES_HOURLY, LABELS_JOINED, REPORTS, ACCOUNTING),
    pointer="read",
    environment=(*BASE_ENVIRONMENT, PSEUDONYM_SECRET),
    # accounting: CaptureRecordsSent per model version and FeedbackRecordsSent, per hour
    reads_metrics=True,
    # Hourly, and only hourly: each run reconciles the hours settled since the watermark (the one
    # that has just settled, when every run succeeds), and the drift metrics' alarm periods, the
    # accounting heartbeat's and the cost model read this same value.
    every_seconds=3600,
)
NOTIFY = FunctionDefinition(
    "notify",
    "alarm and retraining notices to email (the notices topic) and Slack, one per incident state",
    "sns",
    memory_mb=256,
    timeout_seconds=60,
    layers=("core", "base"),
    # reports: the drift check's drift.json a drift notice is written from; incidents: what it
    # remembers of each incident between notifications (modelwatch.alerts.incident)
    reads=(REPORTS, INCIDENTS),
    writes=(INCIDENTS,),
    pointer="read",  # a refused model's notice names the last good version (the pointer's history)
    environment=(*BASE_ENVIRONMENT, SLACK_SECRET, DASHBOARD_NAME, NOTICES_TOPIC),
    publishes_notices=True,
)
# The retraining state machine's Train step: the team's trainer (or the built-in pipeline) on the
# rows the promote function prepared. Its role reads those rows and writes only the challenger's
# graph: no registry, no pointer, no decision, no approval (modelwatch.jobs.challenger_training).
RETRAIN = FunctionDefinition(
    "retrain",
    "the retraining state machine's train step: fit a challenger, store its ONNX graph",
    "state-machine",
    memory_mb=3008,
    timeout_seconds=900,
    core="training",
    reads=(RETRAINING_RUNS,),
    writes=(CHALLENGERS,),
    runs_trainer=True,
)
# Every other retraining step, with a role the trainer never holds: prepare (the lock, the rows),
# evaluate (the challenger imported and judged, published as a version), promote (the only role
# that moves the pointer) and release (modelwatch.jobs.retraining_job). Built from the same
# pinned image recipe as the retrain function, without the trainer's requirements.
PROMOTE = FunctionDefinition(
    "promote",
    "the retraining state machine's deciding steps: prepare, evaluate, promote, release the lock",
    "state-machine",
    memory_mb=3008,
    timeout_seconds=900,
    core="training",
    reads=(CAPTURE, LABELS, RETRAINING_RUNS, CHALLENGERS, APPROVALS, RETRAINING_LOCK, TRUSTED_HOLDOUT, MODELS),
    writes=(RETRAINING_RUNS, RETRAINING_LOCK, MODELS),
    pointer="write",
    dockerfile_of="retrain",
)

# With [retraining] approval = "manual": the state machine's waitForTaskToken task. It stores the
# task token where `modelwatch approve` finds it, then publishes the approval notice on the alerts
# topic (the stack grants that topic; the state machine passes its ARN).
APPROVAL = FunctionDefinition(
    "approval",
    "store a retraining run's task token and ask for approval on the alerts topic",
    "state-machine",
    memory_mb=256,
    timeout_seconds=30,
    layers=("core", "base"),
    writes=(APPROVALS,),
    publishes_alerts=True,
)

FUNCTIONS: dict[str, FunctionDefinition] = {
    f.name: f for f in (PREDICT, FEEDBACK, CAPTURE_FUNCTION, DRIFT, NOTIFY, RETRAIN, PROMOTE, APPROVAL)
}
ZIP_FUNCTIONS = {name: f for name, f in FUNCTIONS.items() if f.packaging == "zip"}
API_ROUTES = {f.route: f for f in FUNCTIONS.values() if f.route is not None}
# How often the drift check runs (its alarms' periods, the cost model, the EventBridge schedule).
DRIFT_CHECK_PERIOD_SECONDS: int = DRIFT.every_seconds or 0
