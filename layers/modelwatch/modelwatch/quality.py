"""Data quality of a window against the spec and the baseline, computed from profiles.

Allowed ranges and categories come from the spec; where the spec gives none, from the baseline
(its min and max, its categories). Out-of-range shares are read from the current window's
sketch, so they are exact under SKETCH_K values and within its rank error above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.profiles.dataset import ColumnProfile, DatasetProfile
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.spec.models import MonitoringSpec

UNSEEN_EXAMPLES = 10


@dataclass(frozen=True)
class FeatureQuality:
    name: str
    rows: int
    missing: int
    type_errors: int
    out_of_range: int
    unseen: int
    reference_missing_rate: float | None
    unseen_values: list[str] = field(default_factory=list)
    allowed: str = ""

    def _rate(self, n: int) -> float:
        return n / self.rows if self.rows else 0.0

    @property
    def missing_rate(self) -> float:
        return self._rate(self.missing)

    @property
    def type_error_rate(self) -> float:
        return self._rate(self.type_errors)

    @property
    def out_of_range_rate(self) -> float:
        return self._rate(self.out_of_range)

    @property
    def unseen_category_rate(self) -> float:
        return self._rate(self.unseen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": self.rows,
            "allowed": self.allowed,
            "missing": self.missing,
            "missing_rate": self.missing_rate,
            "reference_missing_rate": self.reference_missing_rate,
            "type_errors": self.type_errors,
            "type_error_rate": self.type_error_rate,
            "out_of_range": self.out_of_range,
            "out_of_range_rate": self.out_of_range_rate,
            "unseen_categories": self.unseen,
            "unseen_category_rate": self.unseen_category_rate,
            "unseen_examples": self.unseen_values,
        }


@dataclass(frozen=True)
class QualityReport:
    features: list[FeatureQuality]
    breaches: list[str]

    def _overall(self, attribute: str) -> float:
        cells = sum(f.rows for f in self.features)
        return sum(getattr(f, attribute) for f in self.features) / cells if cells else 0.0

    @property
    def missing_rate(self) -> float:
        return self._overall("missing")

    @property
    def out_of_range_rate(self) -> float:
        return self._overall("out_of_range")

    @property
    def unseen_category_rate(self) -> float:
        return self._overall("unseen")

    @property
    def type_error_rate(self) -> float:
        return self._overall("type_errors")

    def to_dict(self) -> dict[str, Any]:
        return {
            "missing_rate": self.missing_rate,
            "out_of_range_rate": self.out_of_range_rate,
            "unseen_category_rate": self.unseen_category_rate,
            "type_error_rate": self.type_error_rate,
            "breaches": self.breaches,
            "features": [f.to_dict() for f in self.features],
        }


def _out_of_range(current: NumericColumnProfile, low: float | None, high: float | None) -> int:
    if not current.valid:
        return 0
    share = 0.0
    if low is not None and current.minimum < low:
        share += current.sketch.get_rank(low, False)
    if high is not None and current.maximum > high:
        share += 1.0 - current.sketch.get_rank(high, True)
    return round(share * current.valid)


def _feature_quality(
    name: str, spec: MonitoringSpec, reference: ColumnProfile | None, current: ColumnProfile
) -> FeatureQuality:
    feature = spec.features[name]
    out_of_range = unseen = type_errors = 0
    unseen_values: list[str] = []
    allowed = ""
    if isinstance(current, NumericColumnProfile):
        type_errors = current.type_errors
        low = getattr(feature, "min", None)
        high = getattr(feature, "max", None)
        if low is None and high is None and isinstance(reference, NumericColumnProfile) and reference.valid:
            low, high = reference.minimum, reference.maximum
        allowed = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
        out_of_range = _out_of_range(current, low, high)
    elif isinstance(current, CategoricalColumnProfile):
        categories = getattr(feature, "categories", None)
        if categories is None and isinstance(reference, CategoricalColumnProfile):
            categories = list(reference.counts)
        if categories is not None:
            known = set(categories)
            allowed = ", ".join(categories[:20]) + (" …" if len(categories) > 20 else "")
            strangers = sorted(((n, k) for k, n in current.counts.items() if k not in known), reverse=True)
            unseen = sum(n for n, _ in strangers)
            unseen_values = [k for _, k in strangers[:UNSEEN_EXAMPLES]]
    reference_missing_rate = reference.missing / reference.count if reference is not None and reference.count else None
    return FeatureQuality(
        name=name,
        rows=current.count,
        missing=current.missing,
        type_errors=type_errors,
        out_of_range=out_of_range,
        unseen=unseen,
        reference_missing_rate=reference_missing_rate,
        unseen_values=unseen_values,
        allowed=allowed,
    )


def _missing_rate_limit(spec: MonitoringSpec, name: str) -> float:
    """The feature's own limit (features.<name>.max_missing_rate), else quality.max_missing_rate."""
    own = spec.features[name].max_missing_rate
    return spec.quality.max_missing_rate if own is None else own


def assess_quality(spec: MonitoringSpec, reference: DatasetProfile, current: DatasetProfile) -> QualityReport:
    features = [
        _feature_quality(name, spec, reference.columns.get(name), current.columns[name])
        for name in spec.features
        if name in current.columns
    ]
    limits = spec.quality
    breaches = []
    for f in features:
        for label, rate, limit in (
            ("missing rate", f.missing_rate, _missing_rate_limit(spec, f.name)),
            ("out-of-range rate", f.out_of_range_rate, limits.max_out_of_range_rate),
            ("unseen-category rate", f.unseen_category_rate, limits.max_unseen_category_rate),
            ("type-error rate", f.type_error_rate, limits.max_type_error_rate),
        ):
            if rate > limit:
                breaches.append(f"{f.name}: {label} {rate:.2%} above the limit {limit:.2%}")
        if not spec.features[f.name].nullable and f.missing:
            breaches.append(f"{f.name}: {f.missing} missing values in a non-nullable feature")
    return QualityReport(features=features, breaches=breaches)
