"""`modelwatch demo`: the monitoring story on the embedded stack, in seconds.

A model is trained and published; a day of normal traffic arrives through the API, then the
inputs drift; labels and business outcomes come back two hours late; the scheduled drift check
runs every hour of the simulated clock, the spec's alarms are evaluated over the functions'
metrics, and their retraining triggers start the retraining state machine. The reports land in
S3 like in AWS and are copied to --out for a person to open.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from modelwatch.catalog import layout
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch_local.clock import MovableClock
from modelwatch_local.slack import SlackReceiver
from modelwatch_local.stack import LocalStack
from modelwatch_local.state_machine import Execution

START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
NORMAL_HOURS, DRIFTED_HOURS, PER_HOUR = 24, 6, 200
LABEL_DELAY_HOURS = 2


def run(
    out: Path,
    spec: Path,
    say=print,
    normal_hours: int = NORMAL_HOURS,
    drifted_hours: int = DRIFTED_HOURS,
    per_hour: int = PER_HOUR,
) -> dict:
    # The functions log at INFO as they would in CloudWatch; the story prints its own summary.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # Powertools warns when an invocation emitted no metrics (a retraining step that only logs):
    # in Lambda a log line, here noise in the story.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stack = LocalStack(spec, clock=MovableClock(START))
    slack = SlackReceiver()
    stack.connect_slack(slack.url)
    try:
        say("training and publishing the demo model (ONNX, SHA-256 manifest, baseline profile) ...")
        manifest = stack.publish_demo_model("v1", rows=8000)
        metrics = manifest.validation_metrics
        say(f"  model v1: validation accuracy {metrics['accuracy']:.3f}, ROC AUC {metrics['roc_auc']:.3f}")
        pending: list[tuple[datetime, list[dict]]] = []
        executions: list[Execution] = []
        said_to_slack = 0
        for hour in range(normal_hours + drifted_hours):
            drift = 0.0 if hour < normal_hours else 0.9
            frame = demo_frame(per_hour, 1000 + hour, drift=drift)
            revenue = np.random.default_rng(hour)  # each click's revenue, drawn per hour's traffic
            stack.clock.advance(60)
            items = []
            for start in range(0, per_hour, 100):
                result = stack.call(
                    "predict", "POST", "/predict", {"instances": demo_records(frame, range(start, start + 100))}
                )
                for offset, prediction in enumerate(result.body["predictions"]):
                    label = int(frame["label"][start + offset])
                    items.append(
                        {
                            "request_id": prediction["request_id"],
                            "label": label,
                            "outcomes": {
                                "clicked": bool(label),
                                "revenue": round(float(revenue.gamma(2.0)) * label, 2),
                            },
                        }
                    )
            pending.append((stack.clock() + timedelta(hours=LABEL_DELAY_HOURS), items[::2]))
            stack.clock.advance(3600 - 60)
            while pending and pending[0][0] <= stack.clock():
                _, due = pending.pop(0)
                for chunk in range(0, len(due), 100):
                    stack.call("feedback", "POST", "/feedback", {"items": due[chunk : chunk + 100]})
            end = stack.clock().replace(minute=0, second=0, microsecond=0)
            invocation = stack.run_drift(end)
            last_hour = invocation.result["windows"]["1h"]
            marker = "DRIFT" if last_hour["dataset_drift"] else "ok"
            kind = "drifted" if drift else "normal "
            share = last_hour["drift_share"]
            say(f"  hour {hour + 1:2d} ({kind} inputs): last hour {marker:5s} drift share {share:.2f}")
            # The spec's alarms, evaluated over the functions' metrics; what changes reaches
            # Slack through the alerts topic and the notifier, retraining notices included.
            executions += stack.evaluate_alarms().executions
            for message in slack.received[said_to_slack:]:
                say(f"           slack: {message['text']}")
            said_to_slack = len(slack.received)
        return _export(stack, out, end, say) | {"retraining": executions}
    finally:
        slack.close()
        stack.stop()


def _export(stack: LocalStack, out: Path, end: datetime, say) -> dict:
    stamp = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    exported = {}
    for key, body in stack.objects(layout.REPORTS.prefix).items():
        if stamp not in key:
            continue
        window = key.split("/")[2]  # reports/<version>/<window>/<end>/<file>
        target = out / "reports" / window / Path(key).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        exported.setdefault(window, {})[Path(key).name] = target
    day = json.loads(exported["1d"]["drift.json"].read_text())
    say("")
    say(
        f"last 24 h, model {day['model_version']}: dataset drift {day['dataset_drift']} "
        f"(share {_number(day['drift_share'], 2)}); accuracy {_number((day['performance'] or {}).get('accuracy'))} "
        f"on labels, {_number((day['estimated_performance'] or {}).get('accuracy'))} estimated without them; "
        f"click-through {_number(day['kpis'].get('ClickThroughRate'))}; {day['new_labeled_rows']} labelled rows"
    )
    for window, files in sorted(exported.items()):
        say(f"report ({window} window): {files['report.html'].resolve()}")
    return {"reports": exported, "day": day}


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main(out: Path, spec: Path) -> int:
    run(out, spec, say=lambda line: print(line, flush=True))
    return 0
