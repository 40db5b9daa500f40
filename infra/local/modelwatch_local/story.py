"""`modelwatch demo`: the monitoring story on the embedded stack, on a simulated clock.

A healthy model is trained and published, and a quiet normal period passes: traffic through the
API, labels (clicks come back within the hour), the hourly drift check, the spec's alarms.
Then five incidents, each caught by the monitoring and mended:

1. latency: the model slows down; the p95 latency alarm fires, and clears when it recovers;
2. a bad model push: a version whose artifact does not match its manifest is promoted; the
   prediction function refuses to load it, keeps serving the last good version, and
   ModelLoadFailed fires; on-call rolls the pointer back and it clears;
3. data drift: the inputs move; the drift alarms fire, the drift trigger retrains on the new
   data, the challenger is promoted with a baseline of the new inputs, and drift is back within
   limits;
4. concept drift: the labels' rule changes while the inputs stay; the label-free estimate stays
   high (it cannot see a new P(y|x)), the labelled accuracy falls: concept-drift verdict,
   accuracy alarm, retraining;
5. segment drift: one product category's customers change while the rest of traffic does not;
   the whole window stays within limits, the segment's own check flags it and SegmentDrift's
   notice names the segment and the feature.

Every step is printed as it happens, Slack's messages and the emails' subjects as on-call reads
them; DIR gets the reports of every check, timeline.json, alerts.md (every notice, as Slack and
as email received it), dashboard.html and index.html.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from modelwatch.alerts.incident_notice import drifted_segments
from modelwatch.catalog import layout
from modelwatch.catalog.functions import FEEDBACK, PREDICT
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch_local.clock import MovableClock
from modelwatch_local.incidents import slowed_model, tamper_artifact
from modelwatch_local.slack import SlackReceiver
from modelwatch_local.stack import LocalStack
from modelwatch_local.story_pages import START, StoryResult, write_pages
from modelwatch_local.timeline import Timeline

NORMAL_HOURS, PER_HOUR = 6, 200
BATCH = 100  # records per request: the spec's serving.max_batch_size
LABELS_AT_MINUTE = 50  # clicks come back within the hour
SLOW_MINUTES, RECOVERED_MINUTES = 6, 2
SLOW_DELAY_MS = 800.0
# Requests per minute of the latency incident, one record each: CloudWatch judges a p95 only
# over at least 10/(1 - 0.95) = 200 samples a period (the alarm's low-sample rule).
REQUESTS_PER_MINUTE = 200
DRIFT, CONCEPT = 0.9, 1.0
INCIDENT_HOURS = {"latency": 1, "bad_push": 1, "data_drift": 2, "concept_drift": 2, "segment_drift": 2}
# The segment incident: one category's customers older by this many years (half a standard
# deviation: a fifth of it in the whole window, below its effect size).
SEGMENT_VALUE, SEGMENT_AGE_SHIFT = "c", 7.0


PREDICT_ROUTE, FEEDBACK_ROUTE = PREDICT.route or "", FEEDBACK.route or ""


class Story:
    def __init__(self, stack: LocalStack, slack: SlackReceiver, timeline: Timeline, seed: int, per_hour: int):
        self.stack, self.slack, self.timeline, self.seed, self.per_hour = stack, slack, timeline, seed, per_hour
        self._sent = 0  # Slack messages already on the timeline
        self._frames = 0  # each hour's frame gets its own seed
        self.hour_start = START
        self.alarm_history: list[dict[str, Any]] = []  # every state change, for the dashboard's bands

    # --- the clock and the traffic --------------------------------------------------------------
    def at_minute(self, minute: float) -> datetime:
        moment = self.hour_start + timedelta(minutes=minute)
        self.stack.clock.advance((moment - self.stack.clock()).total_seconds())
        return moment

    def frame(self, rows: int, drift: float = 0.0, concept: float = 0.0) -> dict[str, np.ndarray]:
        self._frames += 1
        return demo_frame(rows, self.seed * 100_000 + self._frames, drift=drift, concept=concept)

    def predict(self, frame: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        """Every row of the frame through POST /predict, in batches: the predictions."""
        rows = len(frame["age"])
        predictions = []
        for first in range(0, rows, BATCH):
            batch = range(first, min(first + BATCH, rows))
            result = self.stack.call("predict", "POST", PREDICT_ROUTE, {"instances": demo_records(frame, batch)})
            predictions += result.body["predictions"]
        return predictions

    def predict_one_by_one(self, frame: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        """One request per row; their capture lines reach the capture function in one delivery,
        as a Logs subscription batches a minute's log events."""
        lines: list[str] = []
        predictions = []
        for row in range(len(frame["age"])):
            result = self.stack.call(
                "predict",
                "POST",
                PREDICT_ROUTE,
                {"features": demo_records(frame, range(row, row + 1))[0]},
                deliver_capture=False,
            )
            lines += result.stdout
            predictions += result.body["predictions"]
        self.stack.deliver_capture("predict", lines)
        return predictions

    def feedback(self, frame: dict[str, np.ndarray], predictions: list[dict[str, Any]]) -> None:
        """Every prediction's label and business outcomes, through POST /feedback."""
        revenue = np.random.default_rng(self.seed * 7 + self._frames)
        items = [
            {
                "request_id": p["request_id"],
                "label": int(label),
                "outcomes": {"clicked": bool(label), "revenue": round(float(revenue.gamma(2.0)) * int(label), 2)},
            }
            for p, label in zip(predictions, frame["label"], strict=True)
        ]
        for first in range(0, len(items), BATCH):
            self.stack.call("feedback", "POST", FEEDBACK_ROUTE, {"items": items[first : first + BATCH]})

    def regular_hour(self, rows: int, drift: float = 0.0, concept: float = 0.0) -> None:
        """The hour's traffic at minute 1 and its labels at minute 50."""
        self.at_minute(1)
        frame = self.frame(rows, drift, concept)
        predictions = self.predict(frame)
        self.at_minute(LABELS_AT_MINUTE)
        self.feedback(frame, predictions)

    # --- the monitoring -----------------------------------------------------------------------
    def end_hour(self, phase: str) -> dict[str, Any]:
        """The hourly drift check at the hour's end, then the alarms."""
        self.hour_start += timedelta(hours=1)
        end = self.at_minute(0)
        invocation = self.stack.run_drift(end)
        windows = {}
        for window in invocation.result["windows"]:
            document = self._drift_document(window, end)
            performance = document.get("performance") or {}
            estimated = document.get("estimated_performance") or {}
            windows[window] = {
                "model_version": document["model_version"],
                "rows": document["current_rows"],
                "dataset_drift": document["dataset_drift"],
                "drift_share": document["drift_share"],
                "drifted_features": [f["name"] for f in document["features"] if f.get("drifted")],
                "drifted_segments": {
                    segment.label(): segment.drifted_features for segment in drifted_segments(document)
                },
                "accuracy": performance.get("accuracy"),
                "estimated_accuracy": estimated.get("accuracy"),
                "concept_drift": (document.get("concept_drift") or {}).get("drifted"),
            }
        hour, day = windows["1h"], windows["1d"]
        line = (
            f"drift check ({phase}, model {hour['model_version']}): last hour "
            f"{'DRIFT' if hour['dataset_drift'] else 'ok'} (share {_number(hour['drift_share'], 2)}), "
            f"day {'DRIFT' if day['dataset_drift'] else 'ok'} (share {_number(day['drift_share'], 2)}); "
            f"accuracy {_number(hour['accuracy'])} labelled, {_number(hour['estimated_accuracy'])} estimated"
            + ("; CONCEPT DRIFT" if day["concept_drift"] else "")
            + "".join(f"; SEGMENT {label} ({', '.join(names)})" for label, names in day["drifted_segments"].items())
        )
        event = self.timeline.add(end, "drift_check", line, phase=phase, windows=windows)
        self.alarms(phase)
        return event

    def _drift_document(self, window: str, end: datetime) -> dict[str, Any]:
        version = self.stack.registry.current_version()
        key = layout.report_prefix(version, window, end) + "drift.json"
        return json.loads(self.stack.objects(key)[key])

    def alarms(self, phase: str) -> None:
        """CloudWatch evaluating the alarms now; what changed, what retraining did, what Slack and
        the email subscriptions got."""
        now = self.stack.clock()
        round_ = self.stack.evaluate_alarms()
        for change in round_.changes:
            self.alarm_history.append({"at": now, "alarm": change.alarm_name, "state": change.new})
            kind = "alarm" if change.new == "ALARM" else "alarm_state"
            line = f"{change.alarm_name}: {change.old} -> {change.new}" if change.new == "ALARM" else None
            self.timeline.add(
                now,
                kind,
                line,
                phase=phase,
                alarm=change.alarm_name,
                old=change.old,
                new=change.new,
                action=change.alarm.action,
                reason=change.reason,
            )
        for refusal in round_.refused:
            # What AWS would refuse is refused here too: the notice never reaches the topic.
            self.timeline.add(now, "delivery_refused", f"REFUSED {refusal}", phase=phase, refusal=str(refusal))
        for execution in round_.executions:
            output = execution.output or {}
            decision = (output.get("evaluated") or {}).get("value") or {}
            trained = decision.get("challenger_version")  # the version Evaluate published it as
            trigger = execution.input["trigger"]
            self.timeline.add(
                now,
                "retraining",
                f"retraining ({trigger}): {execution.status}, steps {' > '.join(execution.visited)}",
                phase=phase,
                trigger=trigger,
                execution=execution.name,
                status=execution.status,
                visited=execution.visited,
                challenger=trained,
                decision=decision,
            )
            if "Promote" in execution.visited:
                self.timeline.add(
                    now,
                    "promotion",
                    f"promoted {trained} (serving from the next request)",
                    phase=phase,
                    version=trained,
                    trigger=trigger,
                    reason=decision.get("reason"),
                )
        for message in self.slack.received[self._sent :]:
            self.timeline.notice(now, message)
        self._sent = len(self.slack.received)
        for mail in self.stack.emails():
            self.timeline.email(now, mail)

    # --- the phases ---------------------------------------------------------------------------
    def phase(self, name: str, line: str, **details: Any) -> None:
        self.timeline.add(self.stack.clock(), "phase", f"=== {line}", phase=name, **details)

    def normal(self, hours: int) -> None:
        self.phase("normal", f"quiet normal period: {hours} h of {self.per_hour} requests an hour", hours=hours)
        for _ in range(hours):
            self.regular_hour(self.per_hour)
            self.end_hour("normal")

    def latency(self) -> None:
        self.regular_hour(self.per_hour)
        start = self.at_minute(10)
        self.phase(
            "latency",
            f"latency incident: the model answers {SLOW_DELAY_MS:.0f} ms slower",
            onset=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            delay_ms=SLOW_DELAY_MS,
        )
        for minute in range(SLOW_MINUTES + RECOVERED_MINUTES):
            self.at_minute(10 + minute)
            frame = self.frame(REQUESTS_PER_MINUTE)
            if minute < SLOW_MINUTES:
                with slowed_model(SLOW_DELAY_MS):
                    self.predict_one_by_one(frame)
            else:
                if minute == SLOW_MINUTES:
                    self.timeline.add(self.stack.clock(), "recovery", "the model is fast again", phase="latency")
                self.predict_one_by_one(frame)
            self.at_minute(10 + minute + 50 / 60)
            self.alarms("latency")
        self.end_hour("latency")

    def bad_push(self) -> None:
        self.regular_hour(self.per_hour)
        self.at_minute(19)
        good = self.stack.registry.current_version()
        manifest = self.stack.publish_demo_model("v2-unverified", rows=3000, seed=self.seed + 7, promote=False)
        tamper_artifact(self.stack.s3, self.stack.platform.settings.model_bucket, manifest.artifact.key)
        pushed = self.at_minute(20)
        self.stack.registry.promote(manifest.version)
        self.phase(
            "bad_push",
            f"bad model push: {manifest.version} promoted, its artifact does not match its manifest",
            onset=pushed.strftime("%Y-%m-%dT%H:%M:%SZ"),
            version=manifest.version,
            previous=good,
        )
        for minute in range(3):
            self.at_minute(20 + minute + 10 / 60)
            served = {p["model_version"] for p in self.predict(self.frame(BATCH))}
            self.timeline.add(
                self.stack.clock(),
                "served",
                f"requests answered by {', '.join(sorted(served))}",
                phase="bad_push",
                versions=sorted(served),
            )
            self.at_minute(20 + minute + 50 / 60)
            self.alarms("bad_push")
        self.at_minute(24)
        self.stack.registry.promote(good)
        self.timeline.add(
            self.stack.clock(),
            "rollback",
            f"on-call points the registry back at {good}",
            phase="bad_push",
            version=good,
        )
        for minute in range(2):
            self.at_minute(25 + minute)
            self.predict(self.frame(BATCH))
            self.at_minute(25 + minute + 50 / 60)
            self.alarms("bad_push")
        self.end_hour("bad_push")

    def data_drift(self, rows: int) -> None:
        self.phase(
            "data_drift",
            f"data drift: a new audience arrives ({rows} requests an hour, inputs shifted)",
            onset=self.hour_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            rows_per_hour=rows,
        )
        for _ in range(INCIDENT_HOURS["data_drift"]):
            self.regular_hour(rows, drift=DRIFT)
            self.end_hour("data_drift")

    def segment_drift(self, rows: int) -> None:
        """One product line's audience changes (category "c": a fifth of traffic, customers
        SEGMENT_AGE_SHIFT years older) while the rest stays put: diluted five times in the whole
        window, below its effect size; its segment's own check sees it."""
        self.phase(
            "segment_drift",
            f'segment drift: category "c" customers are {SEGMENT_AGE_SHIFT:.0f} years older; the rest of traffic '
            "is unchanged",
            onset=self.hour_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            rows_per_hour=rows,
            segment="by_category",
            value=SEGMENT_VALUE,
        )
        for _ in range(INCIDENT_HOURS["segment_drift"]):
            self.at_minute(1)
            frame = self.frame(rows, drift=DRIFT, concept=CONCEPT)  # today's audience, as served
            within = frame["category"] == SEGMENT_VALUE
            frame["age"] = np.where(within, np.clip(frame["age"] + SEGMENT_AGE_SHIFT, 18, 100), frame["age"])
            predictions = self.predict(frame)
            self.at_minute(LABELS_AT_MINUTE)
            self.feedback(frame, predictions)
            self.end_hour("segment_drift")

    def concept_drift(self, rows: int) -> None:
        self.phase(
            "concept_drift",
            "concept drift: the credit score's effect on clicks turns around; the inputs stay put",
            onset=self.hour_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            rows_per_hour=rows,
        )
        for _ in range(INCIDENT_HOURS["concept_drift"]):
            self.regular_hour(rows, drift=DRIFT, concept=CONCEPT)
            self.end_hour("concept_drift")


def drifted_rows_per_hour(per_hour: int, normal_hours: int) -> int:
    """The new audience's traffic: retraining holds out the most recent 20% of labelled rows and
    makes them the new baseline, so one hour of it must be at least a quarter of the normal
    period's rows for the new baseline to be the new inputs (twice that, for room: the hours of
    the incidents before it are labelled too)."""
    return per_hour * max(2, math.ceil(normal_hours / 2))


def run(
    out: Path,
    spec: Path,
    say: Callable[[str], None] = print,
    seed: int = 1,
    normal_hours: int = NORMAL_HOURS,
    per_hour: int = PER_HOUR,
) -> StoryResult:
    started, cpu_started = time.perf_counter(), time.process_time()
    # The functions log as they would in CloudWatch; the story prints its own account of what
    # they did (the refused model version included), so only their critical lines show.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
    # Powertools warns when an invocation emitted no metrics (a retraining step that only logs):
    # in Lambda a log line, here noise in the story.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    out.mkdir(parents=True, exist_ok=True)
    stack = LocalStack(spec, clock=MovableClock(START))
    slack = SlackReceiver()
    stack.connect_slack(slack.url)
    timeline = Timeline(say)
    try:
        story = Story(stack, slack, timeline, seed, per_hour)
        say("training and publishing the demo model (ONNX, SHA-256 manifest, baseline profile) ...")
        manifest = stack.publish_demo_model("v1", rows=8000, seed=seed)
        metrics = manifest.validation_metrics
        timeline.add(
            stack.clock(),
            "promotion",
            f"model v1 serving: validation accuracy {metrics['accuracy']:.3f}, ROC AUC {metrics['roc_auc']:.3f}",
            phase="setup",
            version="v1",
            validation_metrics=metrics,
        )
        story.normal(normal_hours)
        story.latency()
        story.bad_push()
        drifted = drifted_rows_per_hour(per_hour, normal_hours)
        story.data_drift(drifted)
        story.concept_drift(drifted)
        story.segment_drift(2 * drifted)
        timeline.add(stack.clock(), "end", "the story ends")
        result = write_pages(out, stack, story.alarm_history, timeline)
    finally:
        slack.close()
        stack.stop()
    result.wall_seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu_started
    say(f"the story took {result.wall_seconds:.0f} s ({result.cpu_seconds:.0f} s of CPU)")
    say(f"open {result.index.resolve()}")
    return result


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main(out: Path, spec: Path, seed: int = 1, hours: int = NORMAL_HOURS) -> int:
    run(out, spec, say=lambda line: print(line, flush=True), seed=seed, normal_hours=hours)
    return 0
