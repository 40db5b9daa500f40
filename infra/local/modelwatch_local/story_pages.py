"""What the demo leaves in DIR for a person to open: every drift check's report, the local
dashboard, the alert log, the timeline, and index.html linking them all."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwatch.catalog import layout
from modelwatch.jobs.window_check import WindowCheck
from modelwatch_local.dashboard import Marker, render
from modelwatch_local.timeline import TIME_FORMAT, Timeline

if TYPE_CHECKING:
    from modelwatch_local.stack import LocalStack


# The simulated clock's start: the story's first hour (the dashboard's time axis starts here).
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


@dataclass
class StoryResult:
    out: Path
    index: Path
    timeline: Path
    events: list[dict[str, Any]]
    reports: dict[str, dict[str, Path]] = field(default_factory=dict)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0


def _export_reports(out: Path, stack: LocalStack) -> dict[str, dict[str, Path]]:
    """reports/<version>/<window>/<end>/{drift.json,report.html} from S3, as deployed, into DIR."""
    exported: dict[str, dict[str, Path]] = {}
    for key, body in stack.objects(layout.REPORTS.prefix).items():
        relative = key.removeprefix(layout.REPORTS.prefix)
        target = out / "reports" / relative.replace(":", "")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        exported.setdefault(str(Path(relative).parent), {})[target.name] = target
    return exported


def _markers(events: list[dict]) -> list[Marker]:
    found = []
    for event in events:
        if event["kind"] == "retraining":
            found.append(Marker(_utc(event["at"]), f"{event['trigger']}: {event['status']}", "retraining"))
        elif event["kind"] == "promotion" and event.get("phase") != "setup":
            found.append(Marker(_utc(event["at"]), f"{event['version']} promoted", "promotion"))
    return found


def _utc(stamp: str) -> datetime:
    return datetime.strptime(stamp, TIME_FORMAT).replace(tzinfo=UTC)


def segment_document(reports: dict[str, dict[str, Path]], window: str) -> dict[str, Any] | None:
    """The check of the segments' alarm window whose worst segment drifted most (the latest of
    equals): the heat map shows the segment incident at its height, not the story's last hour."""
    best: tuple[float, str, dict[str, Any]] | None = None
    for folder, files in reports.items():
        if folder.split("/")[1] != window or "drift.json" not in files:
            continue
        document = json.loads(files["drift.json"].read_text())
        if document.get("segments") is None:
            continue
        worst = WindowCheck.from_document(document).worst_segment_drift_share or 0.0
        candidate = (worst, str(document.get("window_end")), document)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return None if best is None else best[2]


def write_pages(out: Path, stack: LocalStack, alarm_history: list[dict[str, Any]], timeline: Timeline) -> StoryResult:
    reports = _export_reports(out, stack)
    timeline_path, _ = timeline.write(out)
    alarm_names = [f"{stack.alarms.prefix}-{a.name}" for a in stack.alarms.planned]
    dashboard = out / "dashboard.html"
    dashboard.write_text(
        render(
            stack.platform.spec,
            stack.metrics,
            alarm_names,
            alarm_history,
            _markers(timeline.events),
            START,
            stack.clock(),
            segments=segment_document(reports, stack.platform.spec.segment_window),
        )
    )
    rows = []
    for folder, files in sorted(reports.items(), key=lambda item: item[0].split("/")[::-1]):
        version, window, end = folder.split("/")
        links = " ".join(
            f'<a href="{html.escape(str(path.relative_to(out)))}">{html.escape(name)}</a>'
            for name, path in sorted(files.items())
        )
        rows.append(
            f"<tr><td>{html.escape(end)}</td><td>{html.escape(window)}</td><td>{html.escape(version)}</td><td>{links}</td></tr>"
        )
    story_lines = "".join(
        f"<li><code>{html.escape(e['at'])}</code> {html.escape(e['told'])}</li>" for e in timeline.events if "told" in e
    )
    slack, emailed = len(timeline.notices), len(timeline.emails)
    index = out / "index.html"
    index.write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ModelWatch demo</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 24px; max-width: 1100px; }}
td, th {{ padding: 2px 10px; text-align: left; }} tr:nth-child(even) {{ background: #f4f5f7; }}</style>
</head><body>
<h1>ModelWatch demo</h1>
<ul>
<li><a href="dashboard.html">The dashboard</a>: the CloudWatch dashboard's widgets over the simulated time</li>
<li><a href="alerts.md">alerts.md</a>: every notice as sent to Slack ({slack}) and by email ({emailed})</li>
<li><a href="timeline.json">timeline.json</a>: every event ({len(timeline.events)})</li>
</ul>
<h2>What happened</h2><ul>{story_lines}</ul>
<h2>Every drift check's report ({len(rows)})</h2>
<table><tr><th>check at</th><th>window</th><th>model</th><th>files</th></tr>{"".join(rows)}</table>
</body></html>
""")
    return StoryResult(out, index, timeline_path, timeline.events, reports)
