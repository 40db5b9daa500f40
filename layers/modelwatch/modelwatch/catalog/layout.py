"""The S3 layout: every area of the data and model buckets, and the one builder of each key.

deliveries/dt=YYYY-MM-DD-HH/<stream object>                capture and feedback lines as buffered by the stream
deliveries-errors/<error type>/dt=…/<stream object>        what the delivery stream could not process
capture/model_version=V/dt=YYYY-MM-DD-HH/<batch>.jsonl    captured predictions (JSON lines)
quarantine/dt=…/<batch>.jsonl                              rejected requests, with their reasons
quarantine/poison/<capture key>                            capture objects that could not be profiled
profiles/model_version=V/dt=…/<batch>.json                 a partial profile per capture object
profiles-hourly/model_version=V/dt=….json                  an hour's partial profiles rolled up
joins/model_version=V/dt=…/<batch>.json                    request id -> (prediction, P(positive))
labels/dt=…/<batch>.jsonl                                   feedback pieces (JSON lines), under the prediction's hour
labels/changed/dt=…                                         rewritten with every labels object of that hour
labels-joined/model_version=V/dt=….json                    an hour's labels joined to predictions
labels-joined/model_version=V/tally.json                   labelled rows per hour since the version was served
reports/V/<window>/<end>/drift.json, report.html            a window's drift check
retraining/runs/<run>/train.parquet, holdout.parquet, decision.json   a retraining run's data and verdict
retraining/challengers/<run>/model.onnx, manifest.json      what the team's trainer made of the run's rows
retraining/approvals/<run>.json                             a run waiting for approval: its task token
retraining/lock/current.json                                the retraining run that holds the lock
holdout/<file>.csv or .parquet                              a team's curated holdout (holdout_source = "trusted")
backfill-results/<map run>/manifest.json, SUCCEEDED_0.json  a backfill run's results (Step Functions' ResultWriter)
incidents/<incident>.json                                   the notifier's memory of an incident
accounting/watermark.json                                   the last hour capture and feedback accounting reconciled
feedback-filed/dt=…/<batch>.json                            feedback pieces a delivery filed, by the hour received
<model prefix>V/model.onnx, manifest.json, baseline.json   the model registry (model bucket)

Partitions are Hive-style (`model_version=…/dt=…`), which Athena and Glue read as columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

HOUR_FORMAT = "%Y-%m-%d-%H"
# How long an older version of an object is kept in a versioned bucket once replaced or expired,
# where what it holds is not inputs (for inputs, one day: Area.expiry).
NONCURRENT_DAYS = 30
# Capture objects of an hour arrive late when delivery is retried: a CloudWatch Logs subscription
# retries its puts on the delivery stream for up to 24 h, then the notified capture function's
# asynchronous retries take up to 6 h more. An hour older than
# that (plus the hour itself) is complete; a later arrival (a redriven dead letter) leaves a marker
# beside the hour's rollup (late_capture_marker) and the drift check lists the hour again.
SETTLE_HOURS = 24 + 6 + 1
Bucket = Literal["data", "models"]


@dataclass(frozen=True)
class Area:
    """A top-level prefix of one bucket, and how long what it holds is kept."""

    name: str
    bucket: Bucket
    description: str
    # Raw inputs or ground truth (possibly personal data): kept no longer than the deployment says.
    holds_inputs: bool = False
    # Deployment setting (CDK context) that bounds its age, or a fixed number of days, or neither.
    retention_setting: str | None = None
    retention_days: int | None = None
    infrequent_access_after_days: int | None = None

    @property
    def prefix(self) -> str:
        return f"{self.name}/"

    def kept_days(self, setting_days: int | None) -> int | None:
        """Days an object is kept, given its setting's value: the fixed days, the setting's, or
        the shorter of the two when the area has both (a fixed need, such as outliving a
        dead-letter queue, never keeps inputs longer than the deployment says); None: forever."""
        days = [d for d in (self.retention_days, setting_days if self.retention_setting else None) if d is not None]
        return min(days) if days else None

    def expiry(self, setting_days: int | None) -> tuple[int, int] | None:
        """(days until the current version expires, days a noncurrent version is then kept), so
        that the area's data is gone within kept_days in a versioned bucket: S3 keeps an
        expired or replaced version as noncurrent, and a noncurrent version lasts at least one
        day. An area that holds inputs gives that day from its own days; None: never expires."""
        days = self.kept_days(setting_days)
        if days is None:
            return None
        if not self.holds_inputs:
            return days, NONCURRENT_DAYS
        return max(1, days - 1), 1

    def version_prefix(self, model_version: str) -> str:
        """Every object of one model version (areas partitioned by version)."""
        return f"{self.prefix}model_version={model_version}/"

    def hour_prefix(self, model_version: str, hour: str) -> str:
        """Every object of one model version and hour (areas partitioned by both)."""
        return f"{self.version_prefix(model_version)}dt={hour}/"

    def holds(self, key: str) -> bool:
        return key.startswith(self.prefix)


# The delivery stream (Firehose) writes the API functions' capture and feedback lines here, one
# object per buffer, partitioned by the hour it wrote them; each object's S3 notification invokes
# the capture function once, which files its records by model version and hour (capture/, labels/,
# quarantine/) and profiles them. Kept past every retry and redrive of that invocation (its
# dead-letter queue keeps events 14 days), then expired: the capture area holds the records.
DELIVERIES = Area(
    "deliveries",
    "data",
    "capture and feedback lines as the delivery stream buffered them",
    True,
    "captureRetentionDays",  # the shorter of it and 15 days
    retention_days=15,
)
# What the delivery stream could not process (a batch it could not decompress, say), under
# <error type>/dt=…/: alarmed, and re-delivered by `modelwatch redrive-captures`.
DELIVERY_ERRORS = Area(
    "deliveries-errors", "data", "log batches the delivery stream could not process", True, "captureRetentionDays"
)
CAPTURE = Area(
    "capture", "data", "captured predictions, JSON lines per model version and hour", True, "captureRetentionDays"
)
QUARANTINE = Area(
    "quarantine", "data", "rejected requests and unreadable capture objects", True, "captureRetentionDays"
)
# Profiles hold a bounded sample of whole rows of the numeric features (modelwatch.profiles.rows,
# for multivariate drift): samples of inputs, kept as long as the inputs.
PROFILES = Area(
    "profiles",
    "data",
    "one partial profile per capture object",
    True,
    "captureRetentionDays",
    infrequent_access_after_days=30,
)
PROFILES_HOURLY = Area("profiles-hourly", "data", "an hour's partial profiles rolled up", True, "captureRetentionDays")
JOINS = Area("joins", "data", "request id -> prediction, per capture object", True, "captureRetentionDays")
LABELS = Area(
    "labels",
    "data",
    "ground truth and business outcomes in batches (JSON lines), under the prediction's hour",
    True,
    "captureRetentionDays",
)
LABELS_JOINED = Area(
    "labels-joined", "data", "an hour's labels joined to its predictions", True, "captureRetentionDays"
)
REPORTS = Area("reports", "data", "drift.json and report.html per window check")
RETRAINING = Area(
    "retraining", "data", "a retraining run's training and holdout rows and its decision", True, "captureRetentionDays"
)
# Inside the retraining area, so its retention covers them, each with its own prefix and its own
# writer, because the trainer (the team's code) is not trusted with promotion:
# runs: the promote function's prepared rows and its decision; the trainer only reads them.
RETRAINING_RUNS = Area("retraining/runs", "data", "a run's training and holdout rows and its decision")
# challengers: the only place the trainer writes; the promote function reads, checks and re-publishes.
CHALLENGERS = Area("retraining/challengers", "data", "the model the team's trainer made in a run")
# approvals: the function that stores a waiting run's task token reaches only this.
APPROVALS = Area("retraining/approvals", "data", "the task token of each retraining run waiting for approval")
# holdout: a team's curated, labelled rows for promotion decisions ([retraining] holdout_source =
# "trusted"), uploaded by people (no function writes it), read by the promote function.
TRUSTED_HOLDOUT = Area("holdout", "data", "a team's curated holdout for promotion decisions (CSV or Parquet)", True)
# lock: which run holds retraining (one at a time), written conditionally by the promote function.
RETRAINING_LOCK = Area("retraining/lock", "data", "the retraining run in progress")
MODELS = Area("models", "models", "the model registry: artifact, manifest and baseline per version")
# Step Functions writes a backfill run's results here (<map run id>/manifest.json, SUCCEEDED_0.json).
BACKFILL_RESULTS = Area(
    "backfill-results", "data", "the backfill map's results, per map run (ResultWriter)", retention_days=30
)

# The notifier's memory between alarm notifications (modelwatch.alerts.incident): one small object
# per incident key (drift-<window>, or an alarm's name), rewritten conditionally.
INCIDENTS = Area("incidents", "data", "the notifier's state of each incident: raised alarms, notices sent")

# Capture and feedback accounting (modelwatch.jobs.reconciliation): the last hour the drift run
# reconciled, so a run catches up every settled hour since, whatever an earlier run skipped.
ACCOUNTING = Area("accounting", "data", "the last hour capture and feedback accounting reconciled")
# Feedback is filed under its prediction's hour, but counted by the feedback function in the hour
# it was received (FeedbackRecordsSent): the capture function tallies each delivery's pieces by
# that hour here, for the accounting. An area of its own, so the capture function's role never
# reaches the watermark. Kept 30 days: far past any hour still to reconcile.
FEEDBACK_FILED = Area(
    "feedback-filed", "data", "feedback pieces each delivery filed, by the hour received", retention_days=30
)

DATA_AREAS = (
    DELIVERIES,
    DELIVERY_ERRORS,
    CAPTURE,
    BACKFILL_RESULTS,
    QUARANTINE,
    PROFILES,
    PROFILES_HOURLY,
    JOINS,
    LABELS,
    LABELS_JOINED,
    REPORTS,
    RETRAINING,
    RETRAINING_RUNS,
    CHALLENGERS,
    APPROVALS,
    RETRAINING_LOCK,
    INCIDENTS,
    ACCOUNTING,
    FEEDBACK_FILED,
)
AREAS = {area.name: area for area in (*DATA_AREAS, MODELS)}
DEFAULT_MODEL_PREFIX = MODELS.prefix  # the registry's prefix in the model bucket (context modelPrefix)
CAPTURE_SUFFIX = ".jsonl"


# --- hours -----------------------------------------------------------------------------------
def hour_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(HOUR_FORMAT)


def hour_start(hour: str) -> datetime:
    return datetime.strptime(hour, HOUR_FORMAT).replace(tzinfo=UTC)


def window_hours(end: datetime, hours: float) -> list[str]:
    """The hour partitions of [end - hours, end), end rounded down to the hour."""
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    count = max(1, round(hours))
    return [hour_of(end - timedelta(hours=k)) for k in range(count, 0, -1)]


def hour_segment(hour: str) -> str:
    """The partition path segment of an hour."""
    return f"dt={hour}"


def hour_in_key(key: str, base: str) -> str:
    """The hour of a key listed under `base` + "dt=<hour>…"."""
    return key[len(base) + len(hour_segment("")) :].split("/", 1)[0].removesuffix(".json")


# --- keys ------------------------------------------------------------------------------------
# The delivery stream's prefixes, in Firehose's own expression language (its objects are named
# <stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid> below them).
DELIVERY_PREFIX = f"{DELIVERIES.prefix}dt=!{{timestamp:yyyy-MM-dd-HH}}/"
DELIVERY_ERROR_PREFIX = f"{DELIVERY_ERRORS.prefix}!{{firehose:error-output-type}}/dt=!{{timestamp:yyyy-MM-dd-HH}}/"


def delivery_key(hour: str, name: str) -> str:
    """A delivery stream object's key (what DELIVERY_PREFIX expands to, and its name)."""
    return f"{DELIVERIES.prefix}{hour_segment(hour)}/{name}"


def delivery_error_key(error_type: str, hour: str, name: str) -> str:
    return f"{DELIVERY_ERRORS.prefix}{error_type}/{hour_segment(hour)}/{name}"


def delivery_error_hour(key: str) -> str:
    """The hour an errors object's key names (deliveries-errors/<error type>/dt=<hour>/…)."""
    error_type = key.removeprefix(DELIVERY_ERRORS.prefix).split("/", 1)[0]
    return hour_in_key(key, f"{DELIVERY_ERRORS.prefix}{error_type}/")


def capture_key(model_version: str, hour: str, batch_id: str) -> str:
    return f"{CAPTURE.hour_prefix(model_version, hour)}{batch_id}{CAPTURE_SUFFIX}"


def quarantine_key(hour: str, batch_id: str) -> str:
    return f"{QUARANTINE.prefix}{hour_segment(hour)}/{batch_id}{CAPTURE_SUFFIX}"


def poison_key(capture_key: str) -> str:
    return f"{QUARANTINE.prefix}poison/{capture_key}"


def is_capture_object(key: str) -> bool:
    return CAPTURE.holds(key) and key.endswith(CAPTURE_SUFFIX)


def model_version_of(capture_key: str) -> str:
    """The model version a capture object's partition names."""
    partition = capture_key.removeprefix(CAPTURE.prefix).split("/", 1)[0]
    if not CAPTURE.holds(capture_key) or not partition.startswith("model_version="):
        raise ValueError(f"not a capture object: {capture_key}")
    return partition.removeprefix("model_version=")


def hour_of_capture(capture_key: str) -> str:
    """The hour a capture object's partition names."""
    partition = capture_key.removeprefix(CAPTURE.prefix).split("/")[1]
    return partition.removeprefix(hour_segment(""))


def derived_key(capture_key: str, area: Area) -> str:
    """profiles/… or joins/… for a capture object: same partitions, same name, .json."""
    if not CAPTURE.holds(capture_key):
        raise ValueError(f"not a capture object: {capture_key}")
    return area.prefix + capture_key.removeprefix(CAPTURE.prefix).removesuffix(CAPTURE_SUFFIX) + ".json"


def hourly_profile_key(model_version: str, hour: str) -> str:
    return f"{PROFILES_HOURLY.version_prefix(model_version)}{hour_segment(hour)}.json"


def late_capture_marker(model_version: str, hour: str) -> str:
    """Written beside an hour's rollup when a capture object of that hour is profiled after the
    hour settled: the drift check lists the hour again instead of trusting its rollup."""
    return f"{PROFILES_HOURLY.version_prefix(model_version)}{hour_segment(hour)}.late"


def joined_labels_key(model_version: str, hour: str) -> str:
    return f"{LABELS_JOINED.version_prefix(model_version)}{hour_segment(hour)}.json"


def labels_hour_prefix(hour: str) -> str:
    return f"{LABELS.prefix}{hour_segment(hour)}/"


def label_batch_key(hour: str, batch_id: str) -> str:
    """A delivery's feedback pieces for predictions of one hour: keyed from the log batch, like
    capture objects, so a redelivered batch rewrites the same object."""
    return f"{labels_hour_prefix(hour)}{batch_id}{CAPTURE_SUFFIX}"


# "changed/" sorts before "dt=", so a listing of labels/dt=… never returns a marker.
LABELS_CHANGED_BASE = f"{LABELS.prefix}changed/"


def labels_changed_key(hour: str) -> str:
    """Rewritten (with a body unique to the write, so its ETag is always a new one, even when a
    retried delivery rewrites an earlier labels object) after every labels object of the hour,
    late ones included: the drift check compares its ETag with the one the hour's joined
    rollup was made from, and never lists the hour's labels objects while they match."""
    return f"{LABELS_CHANGED_BASE}{hour_segment(hour)}"


def feedback_filed_prefix(hour: str) -> str:
    return f"{FEEDBACK_FILED.prefix}{hour_segment(hour)}/"


def feedback_filed_key(hour: str, batch_id: str) -> str:
    """Keyed from the delivery, like the labels objects: a redelivery rewrites its tally."""
    return f"{feedback_filed_prefix(hour)}{batch_id}.json"


def accounting_watermark_key() -> str:
    return f"{ACCOUNTING.prefix}watermark.json"


def label_tally_key(model_version: str) -> str:
    """Labelled rows per prediction hour since the version was served, from the joined rollups:
    new_labeled_rows without listing a label."""
    return f"{LABELS_JOINED.version_prefix(model_version)}tally.json"


def report_prefix(model_version: str, window: str, end: datetime) -> str:
    return f"{REPORTS.prefix}{model_version}/{window}/{end.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}/"


def retraining_key(run_id: str, name: str) -> str:
    return f"{RETRAINING_RUNS.prefix}{run_id}/{name}"


def challenger_key(run_id: str, name: str) -> str:
    return f"{CHALLENGERS.prefix}{run_id}/{name}"


RETRAINING_LOCK_KEY = f"{RETRAINING_LOCK.prefix}current.json"


def approval_key(run_id: str) -> str:
    """Where a run waiting for approval keeps its task token (the run id is the execution name)."""
    return f"{APPROVALS.prefix}{run_id}.json"


def incident_key(incident: str) -> str:
    return f"{INCIDENTS.prefix}{incident}.json"


def report_end(key: str) -> str:
    """The check's end named in a report key (reports/<version>/<window>/<end>/<file>)."""
    return key.removeprefix(REPORTS.prefix).split("/")[2]


def model_key(model_prefix: str, version: str, name: str) -> str:
    return f"{model_prefix}{version}/{name}"
