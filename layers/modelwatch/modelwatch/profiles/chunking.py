"""How the current rows are cut into chunks for drift over time: a calendar period in UTC (an
hour, a day, or an ISO week from Monday) of a timestamp column, or a run of N consecutive rows in
file order; which chunk each row falls in; and the profiles of the chunks, read in one pass.
Periods between the first and the last row that hold no rows are chunks too (judged
"insufficient data"): a gap in traffic shows as a gap."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelwatch.errors import UserInputError
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.timestamps import iso

HOUR_US = 3_600 * 1_000_000
DAY_US = 24 * HOUR_US
PERIODS_US = {"1h": HOUR_US, "1d": DAY_US, "1w": 7 * DAY_US}
# Weeks start on Monday (ISO 8601): 1970-01-01, where the microseconds count from, was a Thursday.
PERIOD_OFFSET_US = {"1h": 0, "1d": 0, "1w": 3 * DAY_US}
# Each chunk is a full drift analysis (a fraction of a second): beyond this many, a longer period
# or a larger size says more than a chart too dense to read.
MAX_CHUNKS = 1000


@dataclass(frozen=True)
class ChunkPlan:
    """How `--current` is cut: by `period` of the `timestamp` column, or every `size` rows."""

    timestamp: str | None = None
    period: str | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        if (self.period is None) == (self.size is None):
            raise UserInputError("give one of --chunk-period and --chunk-size")
        if self.period is not None and self.period not in PERIODS_US:
            raise UserInputError(f"--chunk-period {self.period}: one of {', '.join(PERIODS_US)}")
        if self.period is not None and self.timestamp is None:
            raise UserInputError("--chunk-period needs --timestamp: the column that says when each row happened")
        if self.size is not None and self.size < 1:
            raise UserInputError(f"--chunk-size {self.size}: a number of rows, at least 1")

    @property
    def by(self) -> str:
        return self.period if self.period is not None else f"{self.size:,} rows"

    def to_dict(self) -> dict[str, Any]:
        return {"timestamp": self.timestamp, "period": self.period, "size": self.size}


@dataclass(frozen=True)
class Chunk:
    """Where a chunk sits: `key` orders chunks; `start`/`end` are UTC microseconds (a period's
    bounds, end excluded; a run of rows: its earliest and latest time, when there is a time
    column); `first_row`/`last_row` number a run's data rows from 1."""

    key: int
    start: int | None = None
    end: int | None = None
    first_row: int | None = None
    last_row: int | None = None

    def label(self, plan: ChunkPlan) -> str:
        """How the chunk is named on a chart's axis and in the summary."""
        if plan.period is not None and self.start is not None:
            text = iso(self.start)
            return text[:10] if plan.period != "1h" else text[:13].replace("T", " ") + "h"
        return f"rows {self.first_row:,}–{self.last_row:,}" if self.first_row is not None else f"#{self.key + 1}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": None if self.start is None else iso(self.start),
            "end": None if self.end is None else iso(self.end),
            "first_row": self.first_row,
            "last_row": self.last_row,
        }

    def to_state(self) -> list[int | None]:
        return [self.key, self.start, self.end, self.first_row, self.last_row]


class ChunkAssigner:
    """Which chunk each row falls in, batch after batch, and the bounds of every chunk seen."""

    def __init__(self, plan: ChunkPlan) -> None:
        self.plan = plan
        self._rows_seen = 0
        self._earliest: dict[int, int] = {}
        self._latest: dict[int, int] = {}

    def keys(self, times: np.ndarray | None, rows: int) -> np.ndarray:
        """The chunk key of each of the batch's `rows` (`times`: UTC microseconds, or None)."""
        if self.plan.period is not None:
            assert times is not None, "a period needs times"
            keys = (times + PERIOD_OFFSET_US[self.plan.period]) // PERIODS_US[self.plan.period]
        else:
            assert self.plan.size is not None
            keys = (self._rows_seen + np.arange(rows, dtype=np.int64)) // self.plan.size
        self._rows_seen += rows
        if times is not None and rows:
            self._remember_times(keys, times)
        return keys

    def _remember_times(self, keys: np.ndarray, times: np.ndarray) -> None:
        unique, inverse = np.unique(keys, return_inverse=True)
        earliest = np.full(len(unique), np.iinfo(np.int64).max)
        latest = np.full(len(unique), np.iinfo(np.int64).min)
        np.minimum.at(earliest, inverse, times)
        np.maximum.at(latest, inverse, times)
        for key, low, high in zip(unique.tolist(), earliest.tolist(), latest.tolist(), strict=True):
            self._earliest[key] = min(low, self._earliest.get(key, low))
            self._latest[key] = max(high, self._latest.get(key, high))

    def chunks(self) -> list[Chunk]:
        """Every chunk from the first row's to the last row's, empty periods included."""
        if not self._rows_seen:
            return []
        if self.plan.period is not None:
            length, offset = PERIODS_US[self.plan.period], PERIOD_OFFSET_US[self.plan.period]
            first, last = min(self._earliest), max(self._earliest)
            if last - first + 1 > MAX_CHUNKS:
                raise UserInputError(
                    f"--chunk-period {self.plan.period} cuts --current into {last - first + 1:,} chunks, "
                    f"more than {MAX_CHUNKS:,}: choose a longer period"
                )
            return [Chunk(key, key * length - offset, (key + 1) * length - offset) for key in range(first, last + 1)]
        assert self.plan.size is not None
        size, count = self.plan.size, -(-self._rows_seen // self.plan.size)
        if count > MAX_CHUNKS:
            raise UserInputError(
                f"--chunk-size {size:,} cuts --current ({self._rows_seen:,} rows) into {count:,} chunks, "
                f"more than {MAX_CHUNKS:,}: choose a larger size"
            )
        return [
            Chunk(
                key,
                self._earliest.get(key),
                self._latest.get(key),
                key * size + 1,
                min((key + 1) * size, self._rows_seen),
            )
            for key in range(count)
        ]


@dataclass
class ChunkedProfile:
    """The whole current table's profile, and one profile per chunk, from one read of it."""

    whole: DatasetProfile
    chunks: list[tuple[Chunk, DatasetProfile]]

    def to_json(self) -> bytes:
        document = {
            "whole": self.whole.to_dict(),
            "chunks": [{"chunk": chunk.to_state(), "profile": profile.to_dict()} for chunk, profile in self.chunks],
        }
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, payload: bytes) -> ChunkedProfile:
        document = json.loads(payload)
        return cls(
            DatasetProfile.from_dict(document["whole"]),
            [(Chunk(*item["chunk"]), DatasetProfile.from_dict(item["profile"])) for item in document["chunks"]],
        )
