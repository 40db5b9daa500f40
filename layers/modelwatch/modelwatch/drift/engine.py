"""Compare a current profile with a reference profile: every feature, the dataset verdict,
prediction and label drift, data quality and performance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from modelwatch.cbpe import (
    binary_score_histograms,
    estimate,
    estimate_multiclass,
    fit_calibration,
    fit_multiclass_calibration,
)
from modelwatch.dle import estimate_regression
from modelwatch.drift import thresholds
from modelwatch.drift.methods import compute, default_method, default_threshold, is_categorical_like
from modelwatch.drift.multivariate import analyze_multivariate
from modelwatch.drift.results import ColumnDrift, DriftReport
from modelwatch.drift.thresholds import MIN_CALIBRATION_GROUPS, calibrated_threshold
from modelwatch.errors import UserInputError
from modelwatch.performance import ClassificationCounts, MulticlassCounts, RegressionMoments
from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.profiles.dataset import ColumnProfile, DatasetProfile
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.quality import assess_quality
from modelwatch.sketches import SKETCH_RANK_ERROR
from modelwatch.spec.models import (
    CALIBRATED,
    LOWER_IS_BETTER,
    DriftMethod,
    DriftSettings,
    FeatureDrift,
    MonitoringSpec,
)
from modelwatch.stats.categorical import total_variation, two_sample_chi_square
from modelwatch.stats.correction import adjust_p_values
from modelwatch.stats.distributions import category_shares, counts_of, numeric_bins
from modelwatch.stats.results import StatisticResult


def _distribution(reference: ColumnProfile, current: ColumnProfile, bins: int):
    if isinstance(reference, NumericColumnProfile) and not is_categorical_like(reference):
        assert isinstance(current, NumericColumnProfile)
        return numeric_bins(reference, current, bins)
    return category_shares(counts_of(reference), counts_of(current))


def _kind(profile: ColumnProfile) -> str:
    return "numeric" if isinstance(profile, NumericColumnProfile) else "categorical"


@dataclass(frozen=True)
class _Pending:
    """A column whose statistic is computed, waiting for the p-value correction."""

    name: str
    result: StatisticResult
    threshold: float
    source: str
    base: dict
    # What the threshold applies to: the (corrected) p-value, or the statistic itself.
    compare: Literal["p_value", "statistic"]
    note: str | None = None
    # The size-aware rule's second test: the effect, and the size it must reach.
    effect: float | None = None
    min_effect: float | None = None
    # How far the sketches can move the effect (0 when both sides are exact).
    effect_error: float = 0.0

    @property
    def corrected(self) -> bool:
        return self.compare == "p_value" and self.result.p_value is not None


def _evaluate(
    name: str,
    override: FeatureDrift,
    spec: MonitoringSpec,
    reference_profile: DatasetProfile,
    reference: ColumnProfile,
    current: ColumnProfile,
) -> ColumnDrift | _Pending:
    settings = spec.drift
    min_size = override.min_sample_size or settings.min_sample_size
    base = {
        "name": name,
        "kind": _kind(reference),
        "reference_count": reference.valid,
        "current_count": current.valid,
        "min_sample_size": min_size,
    }
    if reference.valid < min_size or current.valid < min_size:
        return ColumnDrift(status="insufficient_data", **base)
    if isinstance(reference, CategoricalColumnProfile) and isinstance(current, CategoricalColumnProfile):
        reference, current = reference.aligned(current)
    method = override.method or default_method(reference, settings)
    result = compute(method, reference, current, settings.numeric_bins)
    base["distribution"] = _distribution(reference, current, settings.numeric_bins)
    method = result.method  # compute() may swap a Z-test for chi-square on a non-binary window
    note = result.note
    if method.is_linf and override.threshold != CALIBRATED:
        # Model Monitor's rule: the distance against a fixed threshold (it has no null to test).
        threshold = default_threshold(method, settings) if override.threshold is None else override.threshold
        source = "default" if override.threshold is None else "spec"
        return _Pending(name, result, float(threshold), source, base, "statistic", note)
    if override.threshold == CALIBRATED:
        calibration = calibrated_threshold(
            name, method, reference_profile, current.valid, settings.numeric_bins, settings.calibration_sigmas
        )
        if calibration is not None:
            # Calibrated on the statistic, so the statistic is what it is compared with (for
            # p-value tests too: their statistic, never their p-value).
            return _Pending(name, result, calibration.threshold, "calibrated", base, "statistic", note)
        if method.is_linf:
            note = _join(
                note,
                f"the baseline's chunks cannot form {MIN_CALIBRATION_GROUPS} held-out groups of about "
                f"{current.valid} rows: drift.distance_threshold instead",
            )
            return _Pending(name, result, settings.distance_threshold, "default", base, "statistic", note)
        note = _join(
            note,
            f"the baseline's chunks cannot form {MIN_CALIBRATION_GROUPS} held-out groups of about "
            f"{current.valid} rows: threshold from the simulated null instead",
        )
        return _size_aware(name, result, reference, current, settings, base, note, override.min_effect)
    if override.threshold is not None:
        compare = "p_value" if method.uses_p_value else "statistic"
        return _Pending(name, result, float(override.threshold), "spec", base, compare, note)
    if settings.rule == "evidently":
        compare = "p_value" if method.uses_p_value else "statistic"
        return _Pending(name, result, default_threshold(method, settings), "default", base, compare, note)
    return _size_aware(name, result, reference, current, settings, base, note, override.min_effect)


def _join(first: str | None, second: str) -> str:
    return second if first is None else f"{first}; {second}"


def _size_aware(
    name: str,
    result: StatisticResult,
    reference: ColumnProfile,
    current: ColumnProfile,
    settings: DriftSettings,
    base: dict,
    note: str | None,
    min_effect: float | None = None,
) -> _Pending:
    """The default rule, two tests for every method: a p-value, corrected across all features
    (KS and Z-test from their known null; the other statistics from their null simulated from
    the reference at both samples' sizes), and an effect at least `min_effect`."""
    method = result.method
    effect = _effect(result, reference, current)
    minimum = settings.min_effect.of(method) if min_effect is None else min_effect
    # Each sketched side moves a rank-based effect by up to its rank error (the other distances
    # by about as much), which the JSON says when it is that close to min_effect.
    sketched = sum(isinstance(p, NumericColumnProfile) and not p.is_exact for p in (reference, current))
    tests = (effect, minimum, SKETCH_RANK_ERROR * sketched)
    if method in (DriftMethod.KS, DriftMethod.Z_TEST):
        return _Pending(name, result, settings.p_value_threshold, "default", base, "p_value", note, *tests)
    null_distribution = thresholds.null_distribution(method, reference, current, settings.numeric_bins)
    statistic = result.statistic
    if method is DriftMethod.CHI_SQUARE:
        # Evidently's chi-square fits the window to the reference's shares as if they were exact,
        # and is infinite for a category the reference lacks (a rare one, often, in a small
        # reference). The two-sample chi-square treats both as samples; its p-value comes from the
        # simulated null, which holds for rare categories where the asymptotic one does not.
        statistic = two_sample_chi_square(counts_of(reference), counts_of(current)).statistic
    tested = StatisticResult(method, statistic, null_distribution.p_value(statistic), note)
    return _Pending(name, tested, settings.p_value_threshold, "null", base, "p_value", note, *tests)


def _effect(result: StatisticResult, reference: ColumnProfile, current: ColumnProfile) -> float:
    """The size of the difference: the distance itself, or for the categorical tests the total
    variation distance between the category shares."""
    if result.method in (DriftMethod.CHI_SQUARE, DriftMethod.Z_TEST):
        return total_variation(counts_of(reference), counts_of(current))
    return abs(result.statistic)


def _finish(pending: _Pending, adjusted: float | None) -> ColumnDrift:
    result = pending.result
    note = pending.note
    decided_by: Literal["p_value", "effect", "both", "threshold"] = "threshold"
    p = adjusted if adjusted is not None else result.p_value
    significant = pending.compare == "p_value" and p is not None and p < pending.threshold
    if pending.min_effect is not None and pending.effect is not None:
        drifted = significant and pending.effect >= pending.min_effect
        decided_by = "both" if drifted else ("p_value" if not significant else "effect")
        margin = pending.effect_error
        if significant and margin and abs(pending.effect - pending.min_effect) <= margin:
            note = _join(note, f"the effect is within the sketches' error ({margin:.4f}) of min_effect")
    elif pending.compare == "p_value":
        drifted = significant
    else:
        size = abs(result.statistic)  # |z| for a calibrated Z-test; other statistics are >= 0
        # Model Monitor's check is "distance exceeds threshold": a distance equal to it passes.
        drifted = size > pending.threshold if result.method.is_linf else size >= pending.threshold
    return ColumnDrift(
        status="ok",
        method=result.method,
        statistic=result.statistic,
        p_value=result.p_value,
        p_value_adjusted=adjusted if pending.corrected else None,
        threshold=pending.threshold,
        threshold_source=pending.source,  # type: ignore[arg-type]
        drifted=bool(drifted),
        compared=pending.compare,
        note=note,
        effect=pending.effect if pending.effect is not None else abs(result.statistic),
        min_effect=pending.min_effect,
        decided_by=decided_by,
        **pending.base,
    )


def _column_pair(name: str, reference: DatasetProfile, current: DatasetProfile) -> tuple[ColumnProfile, ColumnProfile]:
    """The column in both profiles. A current window without the column has no values of it (an
    hour without traffic): an empty profile of the same kind, judged "insufficient data"."""
    if name not in reference.columns:
        raise UserInputError(f"column '{name}' is missing from the reference data")
    ref = reference.columns[name]
    return ref, current.columns.get(name) or type(ref)()


FeatureTests = list[ColumnDrift | _Pending]


def evaluate_features(spec: MonitoringSpec, reference: DatasetProfile, current: DatasetProfile) -> FeatureTests:
    """Every feature's statistic and p-value, before the correction decides the verdicts."""
    evaluated: FeatureTests = []
    for name in spec.features:
        ref, cur = _column_pair(name, reference, current)
        if type(ref) is not type(cur):
            raise UserInputError(
                f"column '{name}' is {_kind(ref)} in the reference but {_kind(cur)} in the current data"
            )
        evaluated.append(_evaluate(name, spec.feature_drift(name), spec, reference, ref, cur))
    return evaluated


def corrected_p_values(tested: FeatureTests) -> list[float]:
    """The p-values the correction takes, in order (a family larger than one window's, such as
    every segment's, is corrected together and handed back to analyze as `adjusted`)."""
    return [p.result.p_value for p in tested if isinstance(p, _Pending) and p.corrected]  # type: ignore[misc]


def analyze(
    spec: MonitoringSpec,
    reference: DatasetProfile,
    current: DatasetProfile,
    tested: FeatureTests | None = None,
    adjusted: list[float] | None = None,
    fitted: FittedEstimator | None = None,
) -> DriftReport:
    """The full comparison of `current` against `reference` under `spec`. `tested` and
    `adjusted`: this window's evaluate_features and its share of a larger family's correction;
    `fitted`: CBPE's calibration when fitted once for many comparisons (fit_estimator)."""
    evaluated = tested if tested is not None else evaluate_features(spec, reference, current)

    # The correction runs across all features tested with p-values (every method under the
    # size-aware rule), together: the chance that a stable window flags any is the spec's rate.
    pending_tests = [p for p in evaluated if isinstance(p, _Pending) and p.corrected]
    if adjusted is None:
        adjusted = adjust_p_values(corrected_p_values(evaluated), spec.drift.correction)
    adjusted_by_name = {p.name: a for p, a in zip(pending_tests, adjusted, strict=True)}
    features = [
        _finish(item, adjusted_by_name.get(item.name)) if isinstance(item, _Pending) else item for item in evaluated
    ]

    performance = None if current.performance is None else current.performance.metrics()
    undefined = None if current.performance is None else current.performance.undefined_reasons()
    labeled_rows = 0 if current.performance is None else current.performance.total
    reference_performance = None if reference.performance is None else reference.performance.metrics()
    estimated, calibration = _estimated_performance(spec, reference, current, fitted)
    dataset_drift_now = _dataset_drift(features, spec.drift.dataset_drift_share)
    return DriftReport(
        features=features,
        share_threshold=spec.drift.dataset_drift_share,
        correction=spec.drift.correction,
        quality=assess_quality(spec, reference, current),
        reference_rows=reference.rows,
        current_rows=current.rows,
        prediction_drift=_role_drift(spec, spec.columns.prediction, reference, current),
        label_drift=_role_drift(spec, spec.columns.target, reference, current),
        performance=performance,
        reference_performance=reference_performance,
        estimated_performance=estimated,
        multivariate=analyze_multivariate(reference.multivariate, current.multivariate, spec.drift),
        extra={
            "calibration": calibration,
            "performance_undefined": undefined,
            "labeled_rows": labeled_rows,
            "concept_drift": _concept_drift(spec, performance, reference_performance, dataset_drift_now, labeled_rows),
            **_performance_pictures(current.performance),
        },
    )


ERROR_RANKS = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]


def _performance_pictures(counts: object) -> dict[str, Any]:
    """What the report draws beside the numbers: a multiclass window's confusion matrix, a
    regression window's error distribution (signed error, prediction - actual, by quantile)."""
    if isinstance(counts, MulticlassCounts) and counts.total:
        labels, rows = counts.confusion_matrix()
        return {"confusion_matrix": {"labels": labels, "rows": rows}}
    if isinstance(counts, RegressionMoments) and counts.total:
        return {"error_quantiles": {"ranks": ERROR_RANKS, "errors": counts.error_quantiles(ERROR_RANKS)}}
    return {}


def _dataset_drift(features: list[ColumnDrift], share_threshold: float) -> bool | None:
    judged = [f for f in features if f.status == "ok"]
    if not judged:
        return None
    return sum(1 for f in judged if f.drifted) / len(judged) >= share_threshold


@dataclass(frozen=True)
class FittedEstimator:
    """CBPE's calibration, fitted on a reference's labelled rows: binary, one map; multiclass,
    one per class. A run judging many segment values fits it once, on the whole reference."""

    binary: Any = None  # cbpe.Calibration
    multiclass: dict[str, Any] | None = None


def fit_estimator(spec: MonitoringSpec, reference: DatasetProfile) -> FittedEstimator:
    if spec.task == "regression":
        return FittedEstimator()
    if isinstance(reference.performance, MulticlassCounts):
        return FittedEstimator(multiclass=fit_multiclass_calibration(reference.performance))
    if isinstance(reference.performance, ClassificationCounts):
        return FittedEstimator(binary=fit_calibration(reference.performance))
    return FittedEstimator()


def _estimated_performance(
    spec: MonitoringSpec, reference: DatasetProfile, current: DatasetProfile, fitted: FittedEstimator | None = None
) -> tuple[dict | None, dict | None]:
    """Binary and multiclass: CBPE on the current window, calibrated on the reference's labelled
    rows (the holdout), or as `fitted` says. Regression: DLE, the mean of the records' expected
    losses."""
    if spec.task == "regression":
        return estimate_regression(current), None
    fitted = fitted if fitted is not None else fit_estimator(spec, reference)
    if fitted.multiclass is not None:
        calibrations = fitted.multiclass
        return estimate_multiclass(calibrations, current), {
            label: calibration.to_dict() for label, calibration in calibrations.items()
        }
    if fitted.binary is None or not isinstance(reference.performance, ClassificationCounts):
        return None, None
    scores = binary_score_histograms(current, reference.performance.positive_class)
    if scores is None:
        return None, None
    return estimate(fitted.binary, *scores), fitted.binary.to_dict()


def _concept_drift(
    spec: MonitoringSpec,
    performance: dict[str, float | None] | None,
    reference: dict[str, float | None] | None,
    dataset_drift: bool | None,
    labeled_rows: int,
) -> dict[str, object] | None:
    """P(Y|X) changed: performance fell beyond the tolerance while the inputs stayed put. The
    task's metric (the spec's, or accuracy or mae); an error (mae, rmse, mape, log loss) is worse
    when it rises, by more than the tolerance as a share of the reference's (errors have units)."""
    metric = spec.performance_metric
    if performance is None or reference is None:
        return None
    minimum = spec.drift.min_labeled_rows
    reason = None
    if labeled_rows < minimum:
        reason = f"{labeled_rows} labelled rows, fewer than drift.min_labeled_rows ({minimum})"
    elif performance.get(metric) is None or reference.get(metric) is None:
        reason = f"{metric} is undefined on the {'window' if performance.get(metric) is None else 'reference'}"
    if reason is not None:
        return {
            "metric": metric,
            "current": performance.get(metric),
            "reference": reference.get(metric),
            "tolerance": spec.retraining.performance_tolerance,
            "labeled_rows": labeled_rows,
            "min_labeled_rows": minimum,
            "performance_fell": None,
            "drifted": None,
            "reason": reason,
        }
    tolerance = spec.retraining.performance_tolerance
    if metric in LOWER_IS_BETTER:
        fell = performance[metric] > reference[metric] * (1 + tolerance)  # type: ignore[operator]
    else:
        fell = performance[metric] < reference[metric] - tolerance  # type: ignore[operator]
    return {
        "metric": metric,
        "current": performance[metric],
        "reference": reference[metric],
        "tolerance": tolerance,
        "labeled_rows": labeled_rows,
        "min_labeled_rows": minimum,
        "performance_fell": fell,
        "drifted": bool(fell and dataset_drift is False),
        "reason": None,
    }


def _role_drift(
    spec: MonitoringSpec, column: str | None, reference: DatasetProfile, current: DatasetProfile
) -> ColumnDrift | None:
    """Drift of the prediction or label column, judged on its own (no correction, not in the share):
    classes by the Jensen-Shannon distance of their shares, a bounded score at any window size;
    a numeric target or prediction (regression) by the default numeric method, as a feature."""
    if column is None or column not in reference.columns or column not in current.columns:
        return None
    if type(reference.columns[column]) is not type(current.columns[column]):
        return None
    numeric = isinstance(reference.columns[column], NumericColumnProfile)
    method = FeatureDrift() if numeric else FeatureDrift(method=DriftMethod.JENSEN_SHANNON)
    item = _evaluate(column, method, spec, reference, reference.columns[column], current.columns[column])
    return _finish(item, None) if isinstance(item, _Pending) else item
