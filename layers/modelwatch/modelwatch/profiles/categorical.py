"""Mergeable profile of one categorical column: exact counts, bounded.

Counts are exact for up to `MAX_CATEGORIES` distinct values; past that the column keeps the
`MAX_CATEGORIES - 1` categories with the smallest stable hash and folds the rest into `OTHER`,
so a column of free text cannot grow a profile without limit.

Why by hash and not by frequency: keeping the most frequent ones depends on merge order (a
category folded into OTHER in one partial profile loses its identity, and its count can never be
returned to it). The kept set by hash is the same whatever the order: it is the smallest hashes
of all categories ever seen, and every kept category was kept in every part, so its count is
exact. Two profiles with different kept sets are compared on their common part (`aligned`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_CATEGORIES = 1000
OTHER = "__other__"


def category_hash(label: str) -> int:
    """Stable across processes and machines (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(label.encode("utf-8"), digest_size=8).digest(), "big")


def _bounded(counts: dict[str, int]) -> dict[str, int]:
    if len(counts) <= MAX_CATEGORIES:
        return counts
    other = counts.get(OTHER, 0)
    ranked = sorted((k for k in counts if k != OTHER), key=category_hash)
    kept = {k: counts[k] for k in ranked[: MAX_CATEGORIES - 1]}
    kept[OTHER] = other + sum(counts[k] for k in ranked[MAX_CATEGORIES - 1 :])
    return kept


def _fold_above(counts: dict[str, int], limit: int) -> dict[str, int]:
    folded = {k: n for k, n in counts.items() if k == OTHER or category_hash(k) <= limit}
    rest = sum(n for k, n in counts.items() if k != OTHER and category_hash(k) > limit)
    if rest:
        folded[OTHER] = folded.get(OTHER, 0) + rest
    return folded


@dataclass
class CategoricalColumnProfile:
    count: int = 0  # rows seen, including missing
    missing: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> int:
        return self.count - self.missing

    @classmethod
    def from_values(cls, values: Iterable[str], missing: int) -> CategoricalColumnProfile:
        """Profile non-missing values already turned into strings."""
        return cls.from_counts(Counter(values), missing)

    @classmethod
    def from_counts(cls, counts: dict[str, int], missing: int) -> CategoricalColumnProfile:
        return cls(count=sum(counts.values()) + missing, missing=missing, counts=_bounded(dict(counts)))

    def merged(self, *others: CategoricalColumnProfile) -> CategoricalColumnProfile:
        counts = Counter(self.counts)
        count, missing = self.count, self.missing
        for other in others:
            counts.update(other.counts)
            count += other.count
            missing += other.missing
        return CategoricalColumnProfile(count=count, missing=missing, counts=_bounded(dict(counts)))

    @property
    def hash_limit(self) -> int | None:
        """The largest hash this profile still counts by name; None when nothing was folded."""
        if OTHER not in self.counts:
            return None
        return max((category_hash(k) for k in self.counts if k != OTHER), default=-1)

    def aligned(self, other: CategoricalColumnProfile) -> tuple[CategoricalColumnProfile, CategoricalColumnProfile]:
        """Self and other counted over the same named categories: whatever either folded into
        OTHER is folded in both, so a category is never "new" only because one side folded it."""
        limits = [limit for limit in (self.hash_limit, other.hash_limit) if limit is not None]
        if not limits:
            return self, other
        limit = min(limits)
        return (
            CategoricalColumnProfile(self.count, self.missing, _fold_above(self.counts, limit)),
            CategoricalColumnProfile(other.count, other.missing, _fold_above(other.counts, limit)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "categorical",
            "count": self.count,
            "missing": self.missing,
            "counts": dict(sorted(self.counts.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalColumnProfile:
        return cls(
            count=int(data["count"]),
            missing=int(data["missing"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
        )
