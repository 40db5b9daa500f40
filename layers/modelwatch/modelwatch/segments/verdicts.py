"""A drift verdict per segment value, each against its own slice of the baseline, with the
p-value correction run over every segment x feature check together: on stable traffic the
chance that a window flags any segment is the spec's rate (drift.p_value_threshold), as the
chance that it flags any feature is for the whole window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelwatch.drift.engine import (
    FeatureTests,
    FittedEstimator,
    analyze,
    corrected_p_values,
    evaluate_features,
    fit_estimator,
)
from modelwatch.drift.results import DriftReport
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.segment_values import OTHER, SegmentValue
from modelwatch.profiles.segmented import (
    SegmentedProfile,
    against_whole_reference,
    folded_to,
    most_frequent_of,
    unsliced_attribute_segments,
)
from modelwatch.spec.models import CALIBRATED, MonitoringSpec
from modelwatch.spec.segments import Segment
from modelwatch.stats.correction import adjust_p_values


@dataclass(frozen=True)
class SegmentDrift:
    segment: Segment
    value: SegmentValue  # None: "other"
    report: DriftReport

    @property
    def values(self) -> dict[str, str]:
        labels = self.value if self.value is not None else (OTHER,) * len(self.segment.by)
        return dict(zip(self.segment.by, labels, strict=True))

    @property
    def drifted(self) -> bool:
        return bool(self.report.drifted)

    def label(self) -> str:
        """How the console names it: by_region[region=eu]."""
        return f"{self.segment.name}[{', '.join(f'{k}={v}' for k, v in self.values.items())}]"

    def to_dict(self) -> dict[str, Any]:
        report = self.report
        return {
            "segment": self.segment.name,
            "values": self.values,
            "status": report.status,
            "reference_rows": report.reference_rows,
            "current_rows": report.current_rows,
            "dataset_drift": report.dataset_drift,
            "drift_share": report.drift_share,
            "drifted_features": [feature.name for feature in report.drifted],
            "features": [feature.to_dict() for feature in report.features],
            "quality": report.quality.to_dict(),
            "performance": report.performance,
            "estimated_performance": report.estimated_performance,
        }


# Evidently's small-sample tests (KS, chi-square) for a segment value's slice of any size.
SEGMENT_TEST_ROWS = 2**62


def segment_spec(spec: MonitoringSpec, segment: Segment) -> MonitoringSpec:
    """The spec a segment value is judged under. Its `by` features are left out (constant
    within a value: their shift is the whole window's check). A calibrated threshold falls back
    to the size-aware rule: it is calibrated on the baseline's chunks, which a segment's slice
    does not keep, and the rule's p-value joins the family correction. No multivariate methods:
    the segment's verdict is per feature (and they would cost a model fit per value).

    Under the size-aware rule a value's features are tested as Evidently tests small samples,
    whatever the slice's size: KS on numeric features, chi-square (or the Z-test) on
    categorical ones, each with its effect size. Counted over bins (segment_table), a rank test
    and a count test read the bins exactly (KS conservatively); the normed Wasserstein null is
    drawn over the reference's values, whose far tails bins gather into one point each, and it
    came out too narrow on skewed and heavy-tailed features (stable lognormal windows flagged a
    segment in 15 of 300, against 3 with a profile per value). A spec's own method still wins."""
    features = {}
    for name, feature in spec.features.items():
        if name in segment.by or name in spec.sensitive_features:  # sensitive: the whole's check only
            continue
        if feature.drift.threshold == CALIBRATED:
            feature = feature.model_copy(update={"drift": feature.drift.model_copy(update={"threshold": None})})
        features[name] = feature
    by_type = {
        kind: getattr(spec.drift, kind).model_copy(update={"threshold": None})
        for kind in ("numeric", "categorical")
        if getattr(spec.drift, kind).threshold == CALIBRATED
    }
    multivariate = spec.drift.multivariate.model_copy(update={"pca_reconstruction": False, "domain_classifier": False})
    tests = {"small_sample_max_rows": SEGMENT_TEST_ROWS} if spec.drift.rule == "size-aware" else {}
    drift = spec.drift.model_copy(update={**by_type, "multivariate": multivariate, **tests})
    return spec.model_copy(update={"features": features, "drift": drift})


def _empty_like(profile: DatasetProfile) -> DatasetProfile:
    """No rows, the same columns: a value the baseline never had ("other" when the baseline
    held max_values values or fewer) is judged "insufficient data", not compared with nothing."""
    return DatasetProfile(rows=0, columns={name: type(column)() for name, column in profile.columns.items()})


def analyze_segments(
    spec: MonitoringSpec,
    reference: SegmentedProfile,
    current: SegmentedProfile,
    fitted: FittedEstimator | None = None,
) -> list[SegmentDrift]:
    """Every value of every segment seen in the baseline or the window, in the spec's order
    (then by the baseline's rows). The cost is one analysis per value: at most
    (max_values + 1) per segment, whatever the traffic. Estimated performance uses CBPE's
    calibration fitted once, on the whole reference's labelled rows: the model's calibration,
    which a value's slice (a fiftieth of them) would only estimate more noisily; a segment whose
    calibration differs shows it in its labelled performance."""
    fitted = fitted if fitted is not None else fit_estimator(spec, reference.whole)
    checks: list[tuple[Segment, SegmentValue, MonitoringSpec, DatasetProfile, DatasetProfile, FeatureTests]] = []
    for segment in spec.segments:
        judged_by = segment_spec(spec, segment)
        references = reference.segments.get(segment.name, {})
        currents = current.segments.get(segment.name, {})
        for value in [*references, *(v for v in currents if v not in references)]:
            ref = references.get(value) or _empty_like(reference.whole)
            cur = currents.get(value) or DatasetProfile()
            checks.append((segment, value, judged_by, ref, cur, evaluate_features(judged_by, ref, cur)))

    # One family: every segment value's p-values corrected together, by the spec's correction.
    family = [corrected_p_values(check[-1]) for check in checks]
    adjusted = adjust_p_values([p for p_values in family for p in p_values], spec.drift.correction)
    results, start = [], 0
    for (segment, value, judged_by, ref, cur, tested), p_values in zip(checks, family, strict=True):
        share = adjusted[start : start + len(p_values)]
        start += len(p_values)
        results.append(SegmentDrift(segment, value, analyze(judged_by, ref, cur, tested, share, fitted)))
    return results


def segment_verdicts(
    spec: MonitoringSpec, baseline: DatasetProfile, window: DatasetProfile, fitted: FittedEstimator | None = None
) -> list[SegmentDrift]:
    """Stored profiles' segments (a deployed baseline and a window merged from hourly rollups):
    the window's values its baseline did not keep (captures profiled before the baseline was
    known, or cut by another version's) count as "other". A segment by a request attribute the
    baseline holds no slices of (its training data lacked the column: a client id seldom is one)
    keeps the window's own max_values most frequent values, each judged against the whole
    baseline, so a run makes at most max_values + 1 analyses per segment whatever the number of
    clients. A baseline made without the spec's other segments gives none for them."""
    reference = SegmentedProfile.of(baseline)
    unsliced = unsliced_attribute_segments(spec, reference.tables)
    if not reference.tables and not unsliced:
        return []
    seen = SegmentedProfile.of(window)
    sliced = SegmentedProfile(seen.whole, {n: t for n, t in seen.tables.items() if n not in unsliced})
    current = folded_to(sliced, reference.kept())
    for segment in spec.segments:
        if segment.name in unsliced and segment.name in seen.tables:
            current.tables[segment.name] = most_frequent_of(seen.tables[segment.name], segment)
    return analyze_segments(spec, against_whole_reference(reference, current, unsliced), current, fitted)
