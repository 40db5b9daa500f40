"""Mergeable summary of the numeric features taken together, row by row: what multivariate drift needs.

Univariate sketches cannot see a correlation that flips while every marginal stays put. This
profile keeps, for the rows where every numeric feature has a value:

- their count, mean vector and co-moment matrix (Chan et al.'s pairwise update, as the column
  moments): the reference's covariance, from which the PCA is fitted, without a second pass;
- a bounded sample of ROW_SAMPLE_SIZE rows, chosen by a hash of each row's values (the smallest
  hashes win). The sample of a merge is the sample of the union, whatever the merge order, and
  a re-run over the same rows picks the same rows: what the domain classifier trains on;
- optionally, each row's PCA reconstruction error under a baseline's model, as a numeric column
  profile, so a window's error distribution merges like everything else.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelwatch.profiles.numeric import NumericColumnProfile

ROW_SAMPLE_SIZE = 1000
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(key: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: every input bit moves every output bit."""
    key = key ^ (key >> np.uint64(33))
    key = key * np.uint64(0xFF51AFD7ED558CCD)
    key = key ^ (key >> np.uint64(33))
    key = key * np.uint64(0xC4CEB9FE1A85EC53)
    return key ^ (key >> np.uint64(33))


def row_keys(rows: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's values. It must not depend on the values in any visible way:
    the sample is the rows with the smallest keys, and a key that leaned on the values (a weak
    mix of integer-valued floats did) would make reference and window samples differ. Each
    column's bits are mixed, summed with a different odd weight, and the sum mixed again
    (one pass per column: 1M rows of 8 columns in about 0.1 s)."""
    bits = np.ascontiguousarray(rows, dtype=np.float64).view(np.uint64)
    key = np.full(len(rows), 0x243F6A8885A308D3, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(bits.shape[1]):
            key += (bits[:, column] ^ (bits[:, column] >> np.uint64(29))) * (_GOLDEN + np.uint64(2 * column))
        return _mix(key)


def _smallest(keys: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` smallest keys, in key order (a partition, not a full sort)."""
    candidates = np.argpartition(keys, count - 1)[:count] if len(keys) > count else np.arange(len(keys))
    return candidates[np.argsort(keys[candidates], kind="stable")]


def as_float_column(values: np.ndarray) -> np.ndarray:
    """Values as floats, NaN where a value is missing or not a finite number (rows stay aligned)."""
    array = np.asarray(values)
    if array.dtype.kind in "iuf":
        floats = array.astype(np.float64)
        floats[~np.isfinite(floats)] = np.nan
        return floats
    out = np.full(len(array), np.nan)
    for index, value in enumerate(array.tolist()):
        if isinstance(value, bool) or value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(number):
            out[index] = number
    return out


def _encode(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _decode(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype).copy()


@dataclass
class RowsProfile:
    features: tuple[str, ...]
    count: int = 0
    mean: np.ndarray = field(default_factory=lambda: np.empty(0))
    comoment: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    sample: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    # Reconstruction errors under the model named by `error_model` (a fingerprint), if any.
    errors: NumericColumnProfile | None = None
    error_model: str | None = None

    @classmethod
    def from_rows(cls, features: tuple[str, ...], rows: np.ndarray, error_model: Any = None) -> RowsProfile:
        """Profile the complete rows of `rows` (n x d floats, NaN for missing); `error_model`
        (a PcaModel) adds each row's reconstruction error."""
        complete = rows[~np.isnan(rows).any(axis=1)]
        d = len(features)
        profile = cls(features, mean=np.zeros(d), comoment=np.zeros((d, d)), sample=np.empty((0, d)))
        if len(complete):
            profile.count = len(complete)
            profile.mean = complete.mean(axis=0)
            centred = complete - profile.mean
            profile.comoment = centred.T @ centred
            keys = row_keys(complete)
            keep = _smallest(keys, ROW_SAMPLE_SIZE)
            profile.sample, profile.keys = complete[keep], keys[keep]
        if error_model is not None:
            profile.errors = NumericColumnProfile.from_values(error_model.errors(complete), 0, 0)
            profile.error_model = error_model.fingerprint
        return profile

    @property
    def covariance(self) -> np.ndarray:
        return self.comoment / max(self.count, 1)

    def merged(self, *others: RowsProfile) -> RowsProfile:
        result = RowsProfile(
            self.features,
            self.count,
            self.mean.copy(),
            self.comoment.copy(),
            self.sample,
            self.keys,
            None if self.errors is None else self.errors.merged(),
            self.error_model,
        )
        samples, keys = [self.sample], [self.keys]
        for other in others:
            if other.features != self.features:
                raise ValueError("row profiles of different numeric features cannot be merged")
            if other.count:
                total = result.count + other.count
                delta = other.mean - result.mean
                result.comoment = (
                    result.comoment + other.comoment + np.outer(delta, delta) * result.count * other.count / total
                )
                result.mean = result.mean + delta * other.count / total
                result.count = total
            samples.append(other.sample)
            keys.append(other.keys)
            # Errors merge only when every part used the same model; otherwise they mean nothing.
            if result.error_model != other.error_model or result.errors is None or other.errors is None:
                result.errors, result.error_model = None, None
            else:
                result.errors = result.errors.merged(other.errors)
        all_keys = np.concatenate(keys)
        keep = _smallest(all_keys, ROW_SAMPLE_SIZE)
        result.sample, result.keys = np.concatenate(samples)[keep], all_keys[keep]
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "count": self.count,
            "mean": self.mean.tolist(),
            "comoment": self.comoment.tolist(),
            "sample": _encode(self.sample, "<f8"),
            "keys": _encode(self.keys, "<u8"),
            "errors": None if self.errors is None else self.errors.to_dict(),
            "error_model": self.error_model,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowsProfile:
        features = tuple(data["features"])
        return cls(
            features,
            int(data["count"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["comoment"], dtype=np.float64).reshape(len(features), len(features)),
            _decode(data["sample"], "<f8").reshape(-1, len(features)),
            _decode(data["keys"], "<u8"),
            None if data.get("errors") is None else NumericColumnProfile.from_dict(data["errors"]),
            data.get("error_model"),
        )
