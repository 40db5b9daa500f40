"""One incident, one notice: what the notifier remembers between alarm notifications, and what
each new one means for on-call.

An incident is keyed by the alarm plan (modelwatch.alerts.plan, `PlannedAlarm.incident`): every
alarm on one window of the drift check, and the retraining a trigger on that window starts, is
the incident "drift-<window>"; any other alarm (latency, errors, a refused model) is its own.

- The first alarm of an incident opens it: one notice ("opened").
- Another alarm of the open incident joins it silently (the opening notice already named what
  the drift check found, every feature included); a repeated notification changes nothing.
- A retraining run of the open incident that promoted its challenger is kept for the recovery
  notice; one that needs a person (awaiting approval, rejected, nothing trained, failed) is an
  "update" notice at once. A run outside any open incident is sent as it is ("standalone").
- When its last raised alarm returns to OK the incident closes: one notice ("recovered"), with
  what happened in between.

A notice is recorded as unsent before it is sent and marked sent after, per channel (email, then
Slack) and once every channel has it: an invocation that fails between the two (Slack down) is
retried by Lambda and sends it then, and only where it had not gone, never twice once sent (the
store's writes are conditional, modelwatch.data_access.incident_store)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

NoticeKind = Literal["opened", "update", "recovered", "standalone"]
# Retraining outcomes a person must act on or know of now, not at recovery.
NEEDS_A_PERSON = frozenset({"awaiting_approval", "rejected", "not_enough_data", "failed"})


@dataclass(frozen=True)
class Pending:
    """A notice decided and not yet confirmed posted."""

    id: str  # unique within the incident: kind and what caused it
    kind: NoticeKind
    detail: dict[str, Any] = field(default_factory=dict)  # what it tells beyond the incident's state

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pending:
        return cls(str(data["id"]), data["kind"], dict(data.get("detail") or {}))


@dataclass(frozen=True)
class Incident:
    key: str
    open: bool = False
    opened_at: str | None = None
    closed_at: str | None = None
    # Alarm name -> what its ALARM notification said (value, threshold, reason, time), while raised.
    raised: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Every alarm that was raised in this incident, in order, with its first notification.
    history: tuple[dict[str, Any], ...] = ()
    retraining: tuple[dict[str, Any], ...] = ()  # retraining notices folded in
    # The drift check the incident opened on (report key, model version, window, end).
    opened_on: dict[str, Any] | None = None
    unsent: tuple[Pending, ...] = ()
    sent: tuple[str, ...] = ()  # ids of the notices posted, this incident (and the last closed one)
    opened: int = 0  # how many times this key was opened (the incident's number)

    @property
    def number(self) -> str:
        return f"{self.key}#{self.opened}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "open": self.open,
            "opened_at": self.opened_at,
            "closed_at": self.closed_at,
            "raised": self.raised,
            "history": list(self.history),
            "retraining": list(self.retraining),
            "opened_on": self.opened_on,
            "unsent": [p.to_dict() for p in self.unsent],
            "sent": list(self.sent),
            "opened": self.opened,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Incident:
        return cls(
            key=str(data["key"]),
            open=bool(data.get("open")),
            opened_at=data.get("opened_at"),
            closed_at=data.get("closed_at"),
            raised=dict(data.get("raised") or {}),
            history=tuple(data.get("history") or ()),
            retraining=tuple(data.get("retraining") or ()),
            opened_on=data.get("opened_on"),
            unsent=tuple(Pending.from_dict(p) for p in data.get("unsent") or ()),
            sent=tuple(data.get("sent") or ()),
            opened=int(data.get("opened") or 0),
        )

    # --- what a notification does to it ---------------------------------------------------------
    def alarm_changed(self, alarm: str, old: str, new: str, at: str, facts: dict[str, Any]) -> Incident:
        """An alarm of this incident changed state (CloudWatch's notification)."""
        if new == "ALARM":
            if self.open:
                if alarm in self.raised:
                    return self  # the same notification again (SNS delivers at least once)
                entry = {"alarm": alarm, "at": at, **facts}
                return replace(self, raised={**self.raised, alarm: entry}, history=(*self.history, entry))
            entry = {"alarm": alarm, "at": at, **facts}
            number = self.opened + 1
            return replace(
                self,
                open=True,
                opened_at=at,
                closed_at=None,
                raised={alarm: entry},
                history=(entry,),
                retraining=(),
                opened_on=None,
                unsent=(*self.unsent, Pending(f"{self.key}#{number}:opened", "opened")),
                sent=(),
                opened=number,
            )
        if new == "OK" and old == "ALARM":
            if not self.open or alarm not in self.raised:
                if self.opened == 0:  # nothing remembered of it (state lost): say it recovered
                    pending = Pending(f"{alarm}@{at}:recovered", "recovered", {"alarm": alarm, "at": at, **facts})
                    return replace(self, unsent=(*self.unsent, pending))
                return self  # already recovered (a repeated notification)
            raised = {name: entry for name, entry in self.raised.items() if name != alarm}
            if raised:
                return replace(self, raised=raised)
            pending = Pending(f"{self.number}:recovered", "recovered", {"alarm": alarm, "at": at, **facts})
            return replace(self, open=False, closed_at=at, raised={}, unsent=(*self.unsent, pending))
        return self  # a first OK (INSUFFICIENT_DATA -> OK), or INSUFFICIENT_DATA: nothing to tell

    def retraining_finished(self, notice: dict[str, Any]) -> Incident:
        """A retraining run's notice, for a run a trigger of this incident started."""
        run, outcome = str(notice.get("run_id", "")), str(notice.get("outcome", "failed"))
        if not self.open:
            return replace(self, unsent=(*self.unsent, Pending(f"{run}:{outcome}", "standalone")))
        if any(r.get("run_id") == run and r.get("outcome") == outcome for r in self.retraining):
            return self  # the same notice again
        folded = replace(self, retraining=(*self.retraining, notice))
        if outcome in NEEDS_A_PERSON:
            pending = Pending(f"{self.number}:{run}:{outcome}", "update", {"run_id": run, "outcome": outcome})
            return replace(folded, unsent=(*folded.unsent, pending))
        return folded

    def with_check(self, check: dict[str, Any] | None) -> Incident:
        """The drift check it opened on, remembered once."""
        if check is None or self.opened_on is not None or not self.open:
            return self
        return replace(self, opened_on=check)

    def delivered(self, pending: Pending, channel: str) -> Incident:
        """One channel (email, Slack) has the notice: a retry after another channel failed does
        not send it there again."""
        mark = f"{pending.id}>{channel}"
        return self if mark in self.sent else replace(self, sent=(*self.sent, mark)[-50:])

    def delivered_to(self, pending: Pending, channel: str) -> bool:
        return f"{pending.id}>{channel}" in self.sent

    def posted(self, pending: Pending) -> Incident:
        return replace(
            self,
            unsent=tuple(p for p in self.unsent if p.id != pending.id),
            sent=(*self.sent, pending.id)[-50:],
        )

    def to_post(self) -> list[Pending]:
        """The notices decided and not yet posted, oldest first (a posted id is never posted again)."""
        return [p for p in self.unsent if p.id not in self.sent]
