"""What happened in the demo, in order, on the simulated clock: every event with its kind and
details (timeline.json), every notice as Slack and as the email subscriptions received it
(alerts.md), and each line printed as it happens."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Timeline:
    say: Callable[[str], None]
    events: list[dict[str, Any]] = field(default_factory=list)
    notices: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)  # Slack's
    emails: list[tuple[datetime, dict[str, str]]] = field(default_factory=list)
    # Both, in the order they arrived: ("slack", message) or ("email", {"subject", "body"}).
    received: list[tuple[datetime, str, dict[str, Any]]] = field(default_factory=list)

    def add(self, at: datetime, kind: str, line: str | None = None, **details: Any) -> dict[str, Any]:
        event = {"at": at.strftime(TIME_FORMAT), "kind": kind, **details}
        if line is not None:
            event["told"] = line.strip()  # what the story printed
            self.say(f"{at:%a %H:%M}  {line}")
        self.events.append(event)
        return event

    def notice(self, at: datetime, message: dict[str, Any]) -> None:
        """A message as the Slack webhook received it."""
        self.notices.append((at, message))
        self.received.append((at, "slack", message))
        self.add(at, "notice", f"  slack: {message['text']}", text=message["text"])

    def email(self, at: datetime, mail: dict[str, str]) -> None:
        """A notice as the email subscriptions received it (the notices topic's subject and message)."""
        self.emails.append((at, mail))
        self.received.append((at, "email", mail))
        self.add(at, "email", f"  email: {mail['subject']}", subject=mail["subject"], body=mail["body"])

    def write(self, out: Path) -> tuple[Path, Path]:
        timeline = out / "timeline.json"
        timeline.write_text(json.dumps({"events": self.events}, indent=1, default=str))
        alerts = out / "alerts.md"
        lines = [
            "# Every notice, as Slack and email received it",
            "",
            f"{len(self.notices)} posted to Slack, {len(self.emails)} emailed (the notices topic): each incident "
            "state is one notice, sent both ways.",
            "",
        ]
        for at, channel, message in self.received:
            if channel == "slack":
                lines += [f"## {at.strftime(TIME_FORMAT)} · Slack", "", message["text"], ""]
                lines += ["<details><summary>message as posted</summary>", "", "```json"]
                lines += [json.dumps(message, indent=1), "```", "", "</details>", ""]
            else:
                lines += [f"## {at.strftime(TIME_FORMAT)} · email", "", f"**Subject:** {message['subject']}", ""]
                lines += ["```text", message["body"].rstrip("\n"), "```", ""]
        alerts.write_text("\n".join(lines))
        return timeline, alerts
