"""statistics.json (Model Monitor's baselining job) -> a ModelWatch baseline profile.

Numeric features: count, missing, mean, standard deviation (Model Monitor's std_dev is the
population one, ddof = 0, as ModelWatch's: checked on the SDK's pipeline example), min and max
as written, and the quantile sketch from Deequ's KLL sketch: every compactor level, each item of
level i standing for 2^i values. String features: their category counts. What a feature lacks
is said per feature (`ImportedBaseline.notes`, written into baseline.json).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelwatch.importing.sagemaker.documents import (
    NotModelMonitorFileError,
    count,
    features_of,
    misshapen,
    number,
    read_document,
)
from modelwatch.profiles.categorical import OTHER, CategoricalColumnProfile
from modelwatch.profiles.dataset import ColumnProfile, DatasetProfile
from modelwatch.profiles.numeric import SMALL_DISTINCT_LIMIT, NumericColumnProfile

NUMERIC_TYPES = ("Integral", "Fractional")
STRING_TYPE = "String"
WHAT = "statistics.json"
# ModelWatch's sketch takes a distinct value's weight as that many values (its t-digest past 2,000
# distinct values has no weighted update): above this many, the levels' weights are divided by a
# power of two first, so a baseline of a billion rows costs seconds, not gigabytes. The ranks
# move by less than the lowest levels' items over this budget (about 0.05% at k = 2048).
SKETCH_VALUE_BUDGET = 1 << 23


@dataclass
class ImportedBaseline:
    profile: DatasetProfile
    # Model Monitor's inferred_type of every imported feature.
    types: dict[str, str] = field(default_factory=dict)
    # Per feature, what the file lacked and how the feature was imported anyway.
    notes: dict[str, str] = field(default_factory=dict)
    # One line per thing that could not be mapped at all.
    unmapped: list[str] = field(default_factory=list)

    def to_json(self, source: str) -> bytes:
        """The profile's JSON, and what the import could not take from the file: a ModelWatch
        profile reader ignores the extra key, a person reading the file finds it."""
        document = self.profile.to_dict()
        document["sagemaker_import"] = {"statistics": source, "notes": self.notes}
        return json.dumps(document, separators=(",", ":")).encode("utf-8")


def kll_items(levels: Any, where: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The KLL sketch's items and their weights: level i's items stand for 2^i values each
    (Deequ's QuantileNonSample; a level's order means nothing)."""
    if not isinstance(levels, list) or not all(isinstance(level, list) for level in levels):
        raise NotModelMonitorFileError(f"{path}: {where}: the KLL sketch data is not a list of levels")
    values = [number(v, where, path) for level in levels for v in level]
    weights = [2**i for i, level in enumerate(levels) for _ in level]
    return np.asarray(values, dtype=np.float64), np.asarray(weights, dtype=np.int64)


def bucket_items(buckets: list[dict[str, Any]], present: int, where: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Values standing in for the 10 equal-width buckets when there is no sketch: each bucket's
    count spread evenly across it (its counts are estimates, so they are scaled to `present`)."""
    bounds = [(number(b["lower_bound"], where, path), number(b["upper_bound"], where, path)) for b in buckets]
    counts = np.asarray([number(b["count"], where, path) for b in buckets], dtype=np.float64)
    if counts.sum() <= 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    whole = np.floor(counts * present / counts.sum()).astype(np.int64)
    # The rounding's remainder goes to the largest buckets, so the counts add up to `present`.
    whole[np.argsort(-counts)[: present - int(whole.sum())]] += 1
    values = [low + (high - low) * (np.arange(n) + 0.5) / n for (low, high), n in zip(bounds, whole, strict=True) if n]
    merged = np.concatenate(values) if values else np.empty(0)
    return merged, np.ones(len(merged), dtype=np.int64)


def _within_budget(weights: np.ndarray) -> np.ndarray:
    """The weights divided by the smallest power of two that brings their sum within the budget
    (an item of a level below that power keeps a weight of one)."""
    total = int(weights.sum())
    if total <= SKETCH_VALUE_BUDGET:
        return weights
    divisor = 1 << math.ceil(math.log2(total / SKETCH_VALUE_BUDGET))
    return np.maximum(weights // divisor, 1)


def _common_counts(statistics: dict[str, Any], where: str, path: Path) -> tuple[int, int]:
    common = statistics.get("common")
    if not isinstance(common, dict) or "num_present" not in common:
        raise NotModelMonitorFileError(f"{path}: {where}: no common.num_present")
    present = count(common["num_present"], f"{where}.common.num_present", path)
    return present, count(common.get("num_missing", 0), f"{where}.common.num_missing", path)


def numeric_column(statistics: dict[str, Any], name: str, path: Path, notes: dict[str, str]) -> NumericColumnProfile:
    where = f"features.{name}.numerical_statistics"
    present, missing = _common_counts(statistics, where, path)
    profile = NumericColumnProfile(count=present + missing, missing=missing)
    if not present:
        return profile
    fields = {
        key: number(statistics[key], f"{where}.{key}", path)
        for key in ("mean", "sum", "std_dev", "min", "max")
        if key in statistics
    }
    if "mean" not in fields and "sum" in fields:
        fields["mean"] = fields["sum"] / present
    lacking = [key for key in ("mean", "std_dev", "min", "max") if key not in fields]
    profile.mean = fields.get("mean", 0.0)
    # Model Monitor's std_dev is the population one (ddof = 0), as ModelWatch's m2 / n.
    profile.m2 = fields.get("std_dev", 0.0) ** 2 * present
    kll = ((statistics.get("distribution") or {}).get("kll")) or {}
    levels = (kll.get("sketch") or {}).get("data")
    buckets = kll.get("buckets")
    said: list[str] = []
    if levels:
        values, weights = kll_items(levels, f"{where}.distribution.kll.sketch.data", path)
        if int(weights.sum()) != present:
            said.append(f"its KLL sketch stands for {int(weights.sum())} values, not num_present {present}")
        weights = _within_budget(weights)
    elif isinstance(buckets, list) and buckets:
        values, weights = bucket_items(buckets, present, f"{where}.distribution.kll.buckets", path)
        said.append("no KLL sketch: quantiles from its histogram buckets, each bucket's count spread evenly across it")
    else:
        values, weights = np.empty(0), np.empty(0, dtype=np.int64)
        said.append("no KLL sketch and no buckets: no quantiles, so no drift distance can be computed for it")
    profile.sketch.update_weighted(values, weights)
    profile.minimum = fields.get("min", float(values.min()) if len(values) else math.inf)
    profile.maximum = fields.get("max", float(values.max()) if len(values) else -math.inf)
    if lacking:
        said.append(f"no {', '.join(lacking)} in the file ({'taken from the sketch' if len(values) else 'left unset'})")
        if len(values) and "mean" in lacking:
            profile.mean = float(np.average(values, weights=weights))
        if len(values) and "std_dev" in lacking:
            profile.m2 = float(np.sum(weights * (values - profile.mean) ** 2)) * present / float(weights.sum())
    distinct, index = np.unique(values, return_inverse=True)
    if len(distinct) <= SMALL_DISTINCT_LIMIT and len(distinct):
        counts = np.bincount(index, weights=weights)
        profile.small_values = {float(v): int(n) for v, n in zip(distinct, counts, strict=True)}
    else:
        profile.small_values = None
    if said:
        notes[name] = "; ".join(said)
    return profile


def categorical_column(
    statistics: dict[str, Any], name: str, path: Path, notes: dict[str, str]
) -> CategoricalColumnProfile:
    where = f"features.{name}.string_statistics"
    present, missing = _common_counts(statistics, where, path)
    buckets = ((statistics.get("distribution") or {}).get("categorical") or {}).get("buckets")
    if not isinstance(buckets, list) or not buckets:
        # Model Monitor writes buckets only for low-cardinality columns and no distinct-value
        # sketch: the values are unknown, so they are counted as one category.
        notes[name] = (
            f"no categorical buckets (Model Monitor writes none for a column of many values, about "
            f"{statistics.get('distinct_count', '?')} here): its {present} values are one '{OTHER}' category, "
            "so its drift distance means nothing"
        )
        counts = {OTHER: present} if present else {}
        return CategoricalColumnProfile(count=present + missing, missing=missing, counts=counts)
    counts: dict[str, int] = {}
    for bucket in buckets:
        value = str(bucket.get("value"))
        counts[value] = counts.get(value, 0) + count(bucket.get("count"), f"{where}.buckets", path)
    if sum(counts.values()) != present:
        notes[name] = f"its buckets count {sum(counts.values())} values, not num_present {present}"
    return CategoricalColumnProfile.from_counts(counts, missing)


def import_statistics(path: Path) -> ImportedBaseline:
    document = read_document(path, WHAT)
    features = features_of(document, path, WHAT)
    imported = ImportedBaseline(DatasetProfile())
    columns: dict[str, ColumnProfile] = {}
    for feature in features:
        name, kind = feature["name"], feature["inferred_type"]
        if kind in NUMERIC_TYPES and isinstance(feature.get("numerical_statistics"), dict):
            reader, section = numeric_column, "numerical_statistics"
        elif kind == STRING_TYPE and isinstance(feature.get("string_statistics"), dict):
            reader, section = categorical_column, "string_statistics"
        else:
            imported.unmapped.append(
                f"statistics: feature '{name}' ({kind}): no numerical or string statistics of its type; not imported"
            )
            continue
        try:
            columns[name] = reader(feature[section], name, path, imported.notes)
        except (AttributeError, TypeError, KeyError, ValueError, IndexError) as error:
            raise misshapen(path, WHAT, f"features.{name}.{section}", error) from None
        imported.types[name] = kind
    if not columns:
        raise NotModelMonitorFileError(f"{path}: not Model Monitor's {WHAT} (no feature with statistics)")
    dataset = document.get("dataset")
    rows = dataset.get("item_count") if isinstance(dataset, dict) else None
    imported.profile.rows = (
        count(rows, "dataset.item_count", path)
        if rows is not None
        else max(column.count for column in columns.values())
    )
    imported.profile.columns = columns
    return imported
