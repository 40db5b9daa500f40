"""Which drift method a feature gets, and computing any method on a pair of column profiles."""

from __future__ import annotations

from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.profiles.dataset import ColumnProfile
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.spec.models import DriftMethod, DriftSettings
from modelwatch.stats import categorical, numeric
from modelwatch.stats.distributions import counts_of
from modelwatch.stats.linf import categorical_linf, numeric_linf
from modelwatch.stats.results import StatisticResult

# Evidently treats numeric columns with at most this many distinct values as categorical.
FEW_VALUES = 5


def is_categorical_like(reference: ColumnProfile) -> bool:
    if isinstance(reference, CategoricalColumnProfile):
        return True
    distinct = reference.distinct_values
    return distinct is not None and distinct <= FEW_VALUES


def distinct_count(reference: ColumnProfile) -> int | None:
    if isinstance(reference, CategoricalColumnProfile):
        return len(reference.counts)
    return reference.distinct_values


def default_method(reference: ColumnProfile, settings: DriftSettings) -> DriftMethod:
    """Evidently's documented rule, keyed on the reference's size and number of values."""
    small = reference.valid <= settings.small_sample_max_rows
    if not is_categorical_like(reference):
        return DriftMethod.KS if small else DriftMethod.WASSERSTEIN
    if small:
        distinct = distinct_count(reference)
        return DriftMethod.Z_TEST if distinct is not None and distinct <= 2 else DriftMethod.CHI_SQUARE
    return DriftMethod.JENSEN_SHANNON


def default_threshold(method: DriftMethod, settings: DriftSettings) -> float:
    return settings.p_value_threshold if method.uses_p_value else settings.distance_threshold


_NUMERIC = {
    DriftMethod.KS: lambda ref, cur, bins: numeric.kolmogorov_smirnov(ref, cur),
    DriftMethod.WASSERSTEIN: lambda ref, cur, bins: numeric.normed_wasserstein(ref, cur),
    DriftMethod.PSI: numeric.numeric_psi,
    DriftMethod.JENSEN_SHANNON: numeric.numeric_jensen_shannon,
}
_CATEGORICAL = {
    DriftMethod.CHI_SQUARE: categorical.chi_square,
    DriftMethod.Z_TEST: categorical.proportion_z_test,
    DriftMethod.JENSEN_SHANNON: categorical.categorical_jensen_shannon,
    DriftMethod.PSI: categorical.categorical_psi,
}


def compute(method: DriftMethod, reference: ColumnProfile, current: ColumnProfile, bins: int) -> StatisticResult:
    """Compute `method` on two profiles of the same column."""
    numeric_pair = isinstance(reference, NumericColumnProfile) and isinstance(current, NumericColumnProfile)
    if method.is_linf:
        # Model Monitor judges every numeric column on its CDF (its KLL sketch), however few
        # values it takes, and a string column on its category shares.
        if numeric_pair:
            return numeric_linf(method, reference, current)  # type: ignore[arg-type]
        return categorical_linf(method, counts_of(reference), counts_of(current))
    if numeric_pair and (method in (DriftMethod.KS, DriftMethod.WASSERSTEIN) or not is_categorical_like(reference)):
        if method not in _NUMERIC:
            raise ValueError(f"method '{method.value}' does not apply to a numeric column with many values")
        return _NUMERIC[method](reference, current, bins)
    ref_counts, cur_counts = counts_of(reference), counts_of(current)
    if method is DriftMethod.Z_TEST and len(set(ref_counts) | set(cur_counts)) > 2:
        # The reference was binary but the current window has more values: test them all.
        method = DriftMethod.CHI_SQUARE
    if method not in _CATEGORICAL:
        raise ValueError(f"method '{method.value}' does not apply to a categorical column")
    return _CATEGORICAL[method](ref_counts, cur_counts)
