"""Feedback for one prediction can come in several pieces: a label, then outcomes (or the other
way round), retries, and later a corrected label. Every piece is kept (one object each, see
modelwatch.data_access.label_store) and they are merged here, the same way for the drift check
and for retraining: the latest label stands, outcomes are merged key by key (the latest value of
a key stands), and a label that changed counts as a correction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelwatch.labels import label_of


@dataclass(frozen=True)
class MergedFeedback:
    documents: list[dict[str, Any]]  # one per request id: request_id, label, outcomes
    corrected: int  # request ids whose label was replaced by a different one


def merge_feedback(pieces: Iterable[Mapping[str, Any]]) -> MergedFeedback:
    by_request: dict[str, list[Mapping[str, Any]]] = {}
    for piece in pieces:
        by_request.setdefault(str(piece.get("request_id")), []).append(piece)
    documents, corrected = [], 0
    for request_id, found in by_request.items():
        found.sort(key=lambda p: str(p.get("received_at", "")))  # ISO times sort as text
        labels = [p["label"] for p in found if p.get("label") is not None]
        outcomes: dict[str, Any] = {}
        for piece in found:
            outcomes.update(piece.get("outcomes") or {})
        if len({label_of(label) for label in labels}) > 1:
            corrected += 1
        documents.append({"request_id": request_id, "label": labels[-1] if labels else None, "outcomes": outcomes})
    return MergedFeedback(documents, corrected)
