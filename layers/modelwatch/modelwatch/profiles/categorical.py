"""Mergeable profile of one categorical column: exact counts, bounded.

Counts are exact for up to `MAX_CATEGORIES` distinct values; past that the rarest are folded
into `OTHER`, so a column of free text cannot grow a profile without limit. Merging re-applies
the bound, keeping the most frequent values (ties broken by value, so the result does not depend
on merge order).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_CATEGORIES = 1000
OTHER = "__other__"


def _bounded(counts: dict[str, int]) -> dict[str, int]:
    if len(counts) <= MAX_CATEGORIES:
        return counts
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[: MAX_CATEGORIES - 1])
    kept[OTHER] = kept.get(OTHER, 0) + sum(n for _, n in ranked[MAX_CATEGORIES - 1 :])
    return kept


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
