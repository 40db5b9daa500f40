"""Typed model of the monitoring spec.

The spec is the single source of every name, threshold and rule ModelWatch uses: the CDK
stack builds alarms and the dashboard from it, the functions read it, and the drift engine
takes its methods and thresholds from it. Every model forbids unknown keys, so a typo in the
user's file is reported instead of silently ignored.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from modelwatch.catalog import capture_line
from modelwatch.catalog import metrics as catalog
from modelwatch.spec.attributes import Attributes, attribute_problems
from modelwatch.spec.segments import Segment, segment_problems

# The validation context key that says whether a spec may be deployed (the default) or is a
# command-line inference from a data file (parse_spec(..., deployable=False)).
DEPLOYABLE = "deployable"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftMethod(StrEnum):
    """Drift statistics ModelWatch computes on profiles."""

    KS = "ks"
    WASSERSTEIN = "wasserstein"
    PSI = "psi"
    JENSEN_SHANNON = "jensenshannon"
    CHI_SQUARE = "chisquare"
    Z_TEST = "ztest"
    # SageMaker Model Monitor's (Deequ's) L-infinity distance: the largest gap between the two
    # CDFs (numeric) or category shares (categorical). "Robust" subtracts the two-sample KS
    # allowance 1.8 * sqrt((n + m) / (n * m)), so small windows do not read as drift.
    LINF_SIMPLE = "linf_simple"
    LINF_ROBUST = "linf_robust"

    @property
    def uses_p_value(self) -> bool:
        return self in (DriftMethod.KS, DriftMethod.CHI_SQUARE, DriftMethod.Z_TEST)

    @property
    def bounded_score(self) -> bool:
        """Its statistic is a score with the same meaning at any window size (KS D, normed
        Wasserstein, Jensen-Shannon, PSI): what the DriftScore metric carries."""
        return self in (
            DriftMethod.KS,
            DriftMethod.WASSERSTEIN,
            DriftMethod.JENSEN_SHANNON,
            DriftMethod.PSI,
            DriftMethod.LINF_SIMPLE,
            DriftMethod.LINF_ROBUST,
        )

    @property
    def is_linf(self) -> bool:
        """Model Monitor's distance: judged as Model Monitor judges it, distance > a fixed threshold
        (drift.distance_threshold when the spec gives none; it has no simulated null)."""
        return self in (DriftMethod.LINF_SIMPLE, DriftMethod.LINF_ROBUST)

    @property
    def for_numeric(self) -> bool:
        return self.is_linf or self in (
            DriftMethod.KS,
            DriftMethod.WASSERSTEIN,
            DriftMethod.PSI,
            DriftMethod.JENSEN_SHANNON,
        )

    @property
    def for_categorical(self) -> bool:
        return self.is_linf or self in (
            DriftMethod.CHI_SQUARE,
            DriftMethod.Z_TEST,
            DriftMethod.PSI,
            DriftMethod.JENSEN_SHANNON,
        )


CALIBRATED = "calibrated"


class FeatureDrift(_Strict):
    """Per-feature (or per-type) override of the default drift rule."""

    method: DriftMethod | None = None
    # A number, or "calibrated": derived from the baseline's own chunk-to-chunk variability.
    threshold: float | Literal["calibrated"] | None = None
    min_sample_size: Annotated[int, Field(ge=1)] | None = None
    # The size-aware rule's smallest effect that counts as drift (default: drift.min_effect).
    min_effect: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _threshold_is_positive(self) -> FeatureDrift:
        # "calibrated" works with every method: it calibrates the statistic and compares the
        # statistic, so a p-value test is never compared with a threshold made for its statistic.
        if isinstance(self.threshold, float) and self.threshold <= 0:
            raise ValueError("threshold must be greater than 0")
        if isinstance(self.threshold, float) and self.method is not None and self.method.uses_p_value:
            _check_p_value_threshold(self.method, self.threshold, "threshold")
        return self


def _check_p_value_threshold(method: DriftMethod, threshold: float, key: str) -> None:
    if not 0 < threshold < 1:
        raise ValueError(
            f"{key}: {threshold} is not a p-value threshold; '{method.value}' compares its p-value, "
            "so the threshold must be between 0 and 1 (or 'calibrated', or a distance method)"
        )


SensitiveAction = Literal["hash", "drop"]


def _check_sensitive_action(feature: NumericFeature | CategoricalFeature) -> None:
    """`sensitive = true` marks personal data whose value must not reach logs or captures;
    `sensitive_action` says what becomes of it ("hash": a keyed pseudonym, HMAC-SHA256 under the
    stack's own secret, on which a categorical feature's drift is still judged; "drop": removed,
    and its drift is no longer monitored). An action without `sensitive` is a mistake."""
    if feature.sensitive_action is not None and not feature.sensitive:
        raise ValueError("sensitive_action is set but sensitive is not: add sensitive = true, or remove it")


class NumericFeature(_Strict):
    type: Literal["numeric"]
    min: float | None = None
    max: float | None = None
    nullable: bool = True
    # This feature's own missing-rate limit, over quality.max_missing_rate (an imported Model
    # Monitor completeness constraint is one per feature).
    max_missing_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    description: str = ""
    drift: FeatureDrift = FeatureDrift()
    sensitive: bool = False
    sensitive_action: SensitiveAction | None = None

    @property
    def protection(self) -> SensitiveAction | None:
        """What happens to its value before logs and captures: None (kept), "drop"."""
        return "drop" if self.sensitive else None

    @model_validator(mode="after")
    def _numbers_are_dropped_not_hashed(self) -> NumericFeature:
        _check_sensitive_action(self)
        if self.sensitive_action == "hash":
            raise ValueError(
                'sensitive_action = "hash" does not apply to a numeric feature: a pseudonym keeps neither order '
                'nor distance, so no numeric drift method could use it; use "drop" (its drift is then not '
                "monitored)"
            )
        return self

    @model_validator(mode="after")
    def _range_is_ordered(self) -> NumericFeature:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.drift.method is not None and not self.drift.method.for_numeric:
            raise ValueError(f"drift method '{self.drift.method.value}' does not apply to a numeric feature")
        return self


class CategoricalFeature(_Strict):
    type: Literal["categorical"]
    categories: Annotated[list[str], Field(min_length=1)] | None = None
    nullable: bool = True
    # As NumericFeature.max_missing_rate.
    max_missing_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    description: str = ""
    drift: FeatureDrift = FeatureDrift()
    sensitive: bool = False
    sensitive_action: SensitiveAction | None = None

    @property
    def protection(self) -> SensitiveAction | None:
        """What happens to its value before logs and captures: None (kept), "hash" or "drop"."""
        return (self.sensitive_action or "hash") if self.sensitive else None

    @model_validator(mode="after")
    def _action_needs_sensitive(self) -> CategoricalFeature:
        _check_sensitive_action(self)
        return self

    @model_validator(mode="after")
    def _categories_are_unique(self) -> CategoricalFeature:
        if self.categories is not None and len(set(self.categories)) != len(self.categories):
            raise ValueError("categories must not repeat")
        if self.drift.method is not None and not self.drift.method.for_categorical:
            raise ValueError(f"drift method '{self.drift.method.value}' does not apply to a categorical feature")
        return self


Feature = Annotated[NumericFeature | CategoricalFeature, Field(discriminator="type")]


Task = Literal["binary", "multiclass", "regression"]

# Performance keys per task (the JSON keys of `performance`, `reference_performance` and
# `estimated_performance`), and which of them are errors, where lower is better.
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
    "multiclass": (
        "accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "f1_weighted",
        "roc_auc_ovr",
        "log_loss",
    ),
    "regression": ("mae", "rmse", "mape", "r2"),
}
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse", "mape"})
# The metric a task is judged on when the spec names none (concept drift, retraining).
MAIN_METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "mae"}


class ModelColumns(_Strict):
    """Which columns of captured data are not features."""

    target: str | None = None
    prediction: str | None = None
    # Binary only. The score column: either the probability of `positive_class`, or the
    # confidence (highest class probability) of the predicted class.
    score: str | None = None
    # Multiclass only: column `<score_prefix><class>` holds P(class), as NannyML's data sets
    # name them. `classes` fixes their order; without it they are read from the data's columns.
    score_prefix: Annotated[str, Field(min_length=1)] | None = None
    classes: Annotated[list[str], Field(min_length=2)] | None = None
    score_kind: Literal["positive_probability", "confidence"] = "positive_probability"
    positive_class: str = "1"
    request_id: str = "request_id"
    timestamp: str = "timestamp"


class Window(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9_-]+$")]
    hours: Annotated[float, Field(gt=0)]


class MultivariateSettings(_Strict):
    """Multivariate drift methods, on wherever a spec has two or more numeric features."""

    pca_reconstruction: bool = True
    domain_classifier: bool = True
    # Share of the standardised variance the kept principal components explain (NannyML's 65%).
    pca_explained_variance: Annotated[float, Field(gt=0, lt=1)] = 0.65


class MinEffects(_Strict):
    """Under the size-aware rule a feature drifts when its test is significant after the
    correction across features AND its effect reaches this size: on a million rows the tiniest
    difference is significant, and is reported with its p-value, not as drift.

    The effect is the method's own distance (KS's D, normed Wasserstein, PSI, Jensen-Shannon
    distance), and for the categorical tests (chi-square, Z-test) the total variation distance
    between the category shares (the share of rows that would have to change category). The
    distances default to Evidently's fixed thresholds (0.1); 0.05 for KS's D is about the gap
    a 0.125-sigma mean shift of a normal column makes, and 0.05 of rows moving category is a
    change anyone reading a dashboard would notice."""

    ks: Annotated[float, Field(ge=0)] = 0.05
    wasserstein: Annotated[float, Field(ge=0)] = 0.1
    psi: Annotated[float, Field(ge=0)] = 0.1
    jensenshannon: Annotated[float, Field(ge=0)] = 0.1
    chisquare: Annotated[float, Field(ge=0, le=1)] = 0.05
    ztest: Annotated[float, Field(ge=0, le=1)] = 0.05

    def of(self, method: DriftMethod) -> float:
        return float(getattr(self, method.value))


class DriftSettings(_Strict):
    # "size-aware" (default): distances are judged against their own null distribution at the
    # sizes of both samples, simulated from the reference; KS and Z-tests by their p-values.
    # "evidently": Evidently's rule as documented (distances at a fixed distance_threshold).
    rule: Literal["size-aware", "evidently"] = "size-aware"
    # Evidently's documented default rule: up to this many reference rows, statistical tests
    # with p-values; above it, distances.
    small_sample_max_rows: Annotated[int, Field(ge=1)] = 1000
    p_value_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.05
    distance_threshold: Annotated[float, Field(gt=0)] = 0.1
    # Across every feature the size-aware rule tests (all methods): on stable data, the chance
    # that any feature is flagged stays at p_value_threshold.
    correction: Literal["none", "bonferroni", "benjamini-hochberg"] = "benjamini-hochberg"
    min_effect: MinEffects = MinEffects()
    # Below this many non-missing values in either window a feature gets "insufficient data".
    min_sample_size: Annotated[int, Field(ge=1)] = 30
    dataset_drift_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    # Below this many labelled rows in a window there is no concept-drift verdict: an accuracy
    # on 50 rows moves by +-0.1 by chance alone.
    min_labeled_rows: Annotated[int, Field(ge=1)] = 200
    # Bins (cut at reference quantiles) for PSI and Jensen-Shannon on numeric features.
    numeric_bins: Annotated[int, Field(ge=2, le=1000)] = 10
    # "calibrated" thresholds: mean + sigmas x std of the statistic between each baseline
    # chunk and the whole baseline (NannyML's approach).
    calibration_chunks: Annotated[int, Field(ge=3, le=100)] = 10
    calibration_sigmas: Annotated[float, Field(gt=0)] = 3.0
    numeric: FeatureDrift = FeatureDrift()
    categorical: FeatureDrift = FeatureDrift()
    multivariate: MultivariateSettings = MultivariateSettings()
    windows: list[Window] = [Window(name="1h", hours=1), Window(name="1d", hours=24), Window(name="7d", hours=168)]

    @model_validator(mode="after")
    def _type_defaults_fit(self) -> DriftSettings:
        if self.numeric.method is not None and not self.numeric.method.for_numeric:
            raise ValueError(f"drift.numeric.method '{self.numeric.method.value}' does not apply to numeric features")
        if self.categorical.method is not None and not self.categorical.method.for_categorical:
            raise ValueError(
                f"drift.categorical.method '{self.categorical.method.value}' does not apply to categorical features"
            )
        names = [w.name for w in self.windows]
        if len(set(names)) != len(names):
            raise ValueError("window names must be unique")
        return self


class QualityLimits(_Strict):
    """Rates above which a data-quality breach is reported (and alarmed on)."""

    max_missing_rate: Annotated[float, Field(ge=0, le=1)] = 0.05
    max_out_of_range_rate: Annotated[float, Field(ge=0, le=1)] = 0.05
    max_unseen_category_rate: Annotated[float, Field(ge=0, le=1)] = 0.05
    max_type_error_rate: Annotated[float, Field(ge=0, le=1)] = 0.0


Comparison = Literal[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]


class AlertRule(_Strict):
    """One CloudWatch alarm. `metric` names an entry of the metric catalogue."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
    metric: str
    statistic: str
    comparison: Comparison
    threshold: float
    period_seconds: Annotated[int, Field(ge=10)] = 60
    evaluation_periods: Annotated[int, Field(ge=1)] = 1
    datapoints_to_alarm: Annotated[int, Field(ge=1)] | None = None
    treat_missing_data: Literal["breaching", "notBreaching", "ignore", "missing"] = "notBreaching"
    severity: Literal["critical", "warning", "info"] = "warning"
    description: str = ""
    # Percentile alarms only, CloudWatch's EvaluateLowSampleCountPercentile: "ignore" keeps the
    # alarm's state while a period has fewer than 10/(1-p) samples (10/p below p50): 200 for p95,
    # 20 for p50; "evaluate" (CloudWatch's default when unset) judges the percentile anyway.
    evaluate_low_sample_count_percentile: Literal["evaluate", "ignore"] | None = None
    # For the drift check's metrics: which window (default: the first in drift.windows).
    window: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _min_samples_was_removed(cls, data: object) -> object:
        # CloudWatch has no per-alarm sample minimum, so a key the stack cannot deploy is refused
        # with what to write instead, rather than as an unknown key.
        if isinstance(data, dict) and "min_samples" in data:
            raise ValueError(
                "min_samples was removed: CloudWatch has no such setting. Use "
                'evaluate_low_sample_count_percentile = "ignore" (a period with fewer than '
                "10/(1-p) samples, 200 for p95, keeps the alarm's state)"
            )
        return data

    @field_validator("statistic")
    @classmethod
    def _known_statistic(cls, value: str) -> str:
        if value not in ("Average", "Sum", "Minimum", "Maximum", "SampleCount") and not re.fullmatch(
            r"p(\d{1,2})(\.\d+)?", value
        ):
            raise ValueError(
                f"'{value}' is not a CloudWatch statistic: use Average, Sum, Minimum, Maximum, "
                "SampleCount or a percentile such as p95"
            )
        return value

    @model_validator(mode="after")
    def _datapoints_fit(self) -> AlertRule:
        if self.datapoints_to_alarm is not None and self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError("datapoints_to_alarm cannot exceed evaluation_periods")
        if self.evaluate_low_sample_count_percentile is not None and not self.is_percentile:
            raise ValueError("evaluate_low_sample_count_percentile applies to percentile statistics (pNN) only")
        return self

    @property
    def is_percentile(self) -> bool:
        return self.statistic.startswith("p")


class PerformanceTrigger(_Strict):
    # Any performance key of the model's task (TASK_METRICS); checked against [model] task.
    metric: str = "accuracy"
    # Scores (accuracy, f1, r2, ...) trigger below a floor; errors (mae, rmse, mape,
    # log_loss) above a ceiling. Without either, a score's floor is 0.80.
    below: float | None = None
    above: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _one_bound_that_fits(self) -> PerformanceTrigger:
        if self.below is not None and self.above is not None:
            raise ValueError("set either below or above, not both")
        if self.metric in LOWER_IS_BETTER:
            if self.below is not None:
                raise ValueError(f"'{self.metric}' is an error (lower is better): use above, not below")
            if self.above is None:
                raise ValueError(f"'{self.metric}' is an error (lower is better): set above")
        elif self.above is not None:
            raise ValueError(f"'{self.metric}' is a score (higher is better): use below, not above")
        elif self.below is None:
            object.__setattr__(self, "below", 0.80)
        return self

    @property
    def threshold(self) -> float:
        return self.above if self.above is not None else self.below  # type: ignore[return-value]


class DriftTrigger(_Strict):
    metric: Literal["drift_share", "max_drift_score"] = "drift_share"
    above: Annotated[float, Field(gt=0)] = 0.3


class Retraining(_Strict):
    """When the retraining state machine starts, and how it decides to promote."""

    # Triggers. EventBridge cron expression (UTC): minutes hours day-of-month month day-of-week year.
    schedule: str | None = "cron(0 2 ? * MON *)"
    performance: PerformanceTrigger | None = PerformanceTrigger()
    drift: DriftTrigger | None = DriftTrigger()
    new_labeled_rows: Annotated[int, Field(ge=1)] | None = 10_000
    manual: bool = True
    # Promotion: "auto" promotes the challenger Evaluate chose; "manual" waits for `modelwatch
    # approve RUN` or `modelwatch reject RUN` (the notice says which), and no decision within
    # approval_timeout_hours rejects it (at most 30 days; the run's approval request is kept
    # in the retraining area, so its retention, context captureRetentionDays, must be longer).
    approval: Literal["auto", "manual"] = "auto"
    approval_timeout_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    # The drift check's window whose metrics the performance, drift and new-rows triggers watch
    # (default: the longest in drift.windows).
    window: str | None = None
    # Concept drift: performance fell more than this below the validation metric while
    # the inputs are stable.
    performance_tolerance: Annotated[float, Field(ge=0, le=1)] = 0.05
    # Training data: labelled captured predictions of the last `lookback_hours`; the most recent
    # `holdout_share` of them is held out, and champion and challenger are scored on it alike.
    lookback_hours: Annotated[int, Field(ge=1)] = 24 * 28
    holdout_share: Annotated[float, Field(gt=0, lt=1)] = 0.2
    # Where promotion decisions are judged: "labels", the most recent holdout_share of the labelled
    # captures (what /feedback sent); "trusted", the team's curated, labelled files under the data
    # bucket's holdout/ area (CSV or Parquet with the features and the target), which no API
    # caller can write: every labelled capture then trains.
    holdout_source: Literal["labels", "trusted"] = "labels"
    min_rows: Annotated[int, Field(ge=10)] = 1000
    # At most this many labelled rows are kept for a run (train and holdout together), sampled
    # uniformly over the window when it holds more: the run's memory is bounded by it.
    max_training_rows: Annotated[int, Field(ge=10)] = 200_000
    # Promote only when the challenger beats the champion by at least this much on the
    # performance metric (performance.metric, accuracy when unset).
    min_improvement: Annotated[float, Field(ge=0, le=1)] = 0.0
    # ...and only when that improvement is significant at this level: McNemar's exact test for
    # accuracy, a paired bootstrap of the metric otherwise (one-sided: the challenger is better).
    significance: Annotated[float, Field(gt=0, le=0.5)] = 0.05
    # A holdout with fewer rows (or a single class) cannot tell two models apart: the run ends
    # as "not enough data" and nothing is promoted.
    min_holdout_rows: Annotated[int, Field(ge=2)] = 30
    # The team's training code, "package.module:function" (modelwatch.retraining.trainer); unset:
    # the built-in pipeline. Its requirements file (relative to the spec) is installed in the
    # retrain function's image; CDK context trainerRequirements overrides it.
    trainer: (
        Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")]
        | None
    ) = None
    trainer_requirements: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _sample_holds_min_rows(self) -> Retraining:
        if self.max_training_rows < self.min_rows:
            raise ValueError(
                f"max_training_rows ({self.max_training_rows}) is below min_rows ({self.min_rows}): "
                "no run could ever train"
            )
        return self

    @model_validator(mode="after")
    def _schedule_is_cron(self) -> Retraining:
        if self.schedule is not None:
            inner = self.schedule.removeprefix("cron(").removesuffix(")")
            if not self.schedule.startswith("cron(") or len(inner.split()) != 6:
                raise ValueError(
                    "schedule must be an EventBridge cron expression with six fields, for example 'cron(0 2 ? * MON *)'"
                )
        return self

    @property
    def metric(self) -> str:
        """The performance metric champion and challenger are compared on (binary: accuracy
        when unset; MonitoringSpec.performance_metric knows every task's default)."""
        return self.performance.metric if self.performance is not None else "accuracy"


class Kpi(_Strict):
    """A business KPI computed from feedback outcomes."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9]*$")]
    outcome: str
    aggregation: Literal["rate", "mean", "sum"]
    description: str = ""


class Serving(_Strict):
    max_batch_size: Annotated[int, Field(ge=1, le=10_000)] = 100
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1_048_576
    pointer_ttl_seconds: Annotated[float, Field(ge=0)] = 60.0
    # What one record may carry, so that every record the API accepts fits one capture line
    # (modelwatch.catalog.capture_line); more is refused with a 422 naming the field. Outcome
    # keys per feedback item; the longest outcome text or label; the longest categorical value.
    # Unset lengths are derived from the line's budget at load (at most 1024 and 256 characters).
    max_outcomes: Annotated[int, Field(ge=0)] = capture_line.DEFAULT_MAX_OUTCOMES
    max_text_chars: Annotated[int, Field(ge=1)] | None = None
    max_category_chars: Annotated[int, Field(ge=1)] | None = None


class CaptureSettings(_Strict):
    # Share of predictions whose inputs are captured for drift checks and retraining, chosen by
    # request id (modelwatch.serving.capture_sampling), so a label joins whenever its
    # prediction was kept. Per-request metrics still see every request.
    sample_rate: Annotated[float, Field(gt=0, le=1)] = 1.0
    # CloudWatch counts the predict function's EMF documents at least once, so the records it says
    # were sent may include a duplicated document. Capture accounting alarms only on records
    # missing beyond this share of those sent (at least one record is always tolerated).
    sent_count_tolerance: Annotated[float, Field(ge=0, lt=1)] = 0.01
    # The delivery stream's buffer (Firehose's BufferingHints): capture and feedback lines are
    # written to S3 when either limit is reached, so the capture path's objects per hour are at
    # most 3600 / buffer_seconds plus the traffic's bytes / buffer_mib, whatever the traffic.
    # Firehose takes 0-900 seconds and 1-128 MiB; a drift window sees a line at most
    # buffer_seconds after it was logged (plus the profiling invocation).
    buffer_seconds: Annotated[int, Field(ge=0, le=900)] = 300
    buffer_mib: Annotated[int, Field(ge=1, le=128)] = 32


class MetricsSettings(_Strict):
    namespace: Annotated[str, Field(min_length=1, max_length=255)] = "ModelWatch"
    service: Annotated[str, Field(min_length=1)] = "modelwatch"
    # "all": every drift metric of every window; "consumed": only the (metric, window) series an
    # alarm, a retraining trigger or the dashboard reads (modelwatch.alerts.consumed).
    drift_series: Literal["all", "consumed"] = "consumed"
    # The same for every other catalogued metric the functions send: "consumed" sends only those an
    # alarm, a retraining trigger, a dashboard widget or a function's read-back reads; the others
    # stay plain properties of the function's EMF document (searchable in Logs Insights, no metric).
    series: Literal["all", "consumed"] = "consumed"


class ModelSection(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
    description: str = ""
    task: Task = "binary"


def task_column_problems(task: str, columns: ModelColumns, features: dict[str, object]) -> list[str]:
    """Every [columns] key that does not fit the task, as 'key: what is wrong'."""
    # A key counts as given when it differs from its default, so that a spec dumped in full
    # (defaults included, as profiling workers receive it) parses back the same.
    defaults = ModelColumns()
    given = {key for key in ModelColumns.model_fields if getattr(columns, key) != getattr(defaults, key)}
    problems = []
    if task != "binary":
        for key in ("score", "score_kind", "positive_class"):
            if key in given:
                hint = " (name the class probabilities with columns.score_prefix)" if task == "multiclass" else ""
                problems.append(f"columns.{key}: only a binary model has it, not a {task} one{hint}")
    if task != "multiclass":
        for key in ("score_prefix", "classes"):
            if key in given:
                hint = " (a binary model's score column is columns.score)" if task == "binary" else ""
                problems.append(f"columns.{key}: only a multiclass model has it, not a {task} one{hint}")
    if columns.classes is not None and len(set(columns.classes)) != len(columns.classes):
        problems.append("columns.classes: classes must not repeat")
    if columns.score_prefix is not None:
        clashing = sorted(name for name in features if name.startswith(columns.score_prefix))
        if clashing:
            problems.append(
                f"columns.score_prefix: '{columns.score_prefix}' also starts feature names ({', '.join(clashing)})"
            )
    return problems


class MonitoringSpec(_Strict):
    version: Literal[1] = 1
    model: ModelSection
    columns: ModelColumns = ModelColumns()
    features: Annotated[dict[str, Feature], Field(min_length=1)]
    drift: DriftSettings = DriftSettings()
    quality: QualityLimits = QualityLimits()
    alerts: list[AlertRule] = []
    retraining: Retraining = Retraining()
    kpis: list[Kpi] = []
    serving: Serving = Serving()
    capture: CaptureSettings = CaptureSettings()
    metrics: MetricsSettings = MetricsSettings()
    segments: list[Segment] = []
    # Request attributes the API accepts beside the features (never given to the model), which
    # segments may cut by: modelwatch.spec.attributes.
    attributes: Attributes = {}

    @model_validator(mode="after")
    def _columns_fit_the_task(self) -> MonitoringSpec:
        problems = task_column_problems(self.model.task, self.columns, self.features)
        if self.model.task == "regression" and "performance" not in self.retraining.model_fields_set:
            # The default trigger (accuracy below 0.80) means nothing for a regression, and an
            # error's ceiling has units only the user knows: no performance trigger unless set.
            # A copy: without a [retraining] table this is the field's one shared default
            # instance, and setting it in place would take the trigger from every spec after it.
            object.__setattr__(self, "retraining", self.retraining.model_copy(update={"performance": None}))
        trigger = self.retraining.performance
        if trigger is not None and trigger.metric not in TASK_METRICS[self.model.task]:
            problems.append(
                f"retraining.performance.metric: '{trigger.metric}' is not a {self.model.task} metric "
                f"(one of: {', '.join(TASK_METRICS[self.model.task])})"
            )
        if problems:
            raise ValueError(" | ".join(problems))
        return self

    @model_validator(mode="after")
    def _columns_are_consistent(self) -> MonitoringSpec:
        problems = []
        for role in ("target", "prediction", "score"):
            column = getattr(self.columns, role)
            if column is not None and column in self.features:
                problems.append(f"columns.{role} '{column}' is also listed as a feature")
        names = [a.name for a in self.alerts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"alert names repeat: {', '.join(duplicates)}")
        windows = {w.name for w in self.drift.windows}
        for alert in self.alerts:
            if alert.window is not None and alert.window not in windows:
                problems.append(f"alert {alert.name}: window '{alert.window}' is not in drift.windows")
        if self.retraining.window is not None and self.retraining.window not in windows:
            problems.append(f"retraining: window '{self.retraining.window}' is not in drift.windows")
        problems += self._effective_drift_problems()
        protected = {n: f.protection for n, f in self.features.items() if f.protection is not None}
        roles = {
            role: column
            for role in ("target", "prediction", "score", "request_id", "timestamp")
            if (column := getattr(self.columns, role)) is not None
        }
        problems += attribute_problems(self.attributes, self.features, roles, self.columns.score_prefix)
        problems += segment_problems(self.segments, self.categorical_features, protected, list(self.attributes))
        kpi_names = [k.name for k in self.kpis]
        if len(set(kpi_names)) != len(kpi_names):
            problems.append("kpi names must be unique")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _fits_cloudwatch_limits(self, info: ValidationInfo) -> MonitoringSpec:
        """Every request's metrics must be accepted by CloudWatch, or every request would fail
        to publish them: checked here, at load, naming the key. Not for a spec inferred from a
        data file for the command line's own use (context deployable=False): nothing of it is
        ever sent to CloudWatch, and a wide or oddly named table must still profile."""
        deployable = info.context is None or info.context.get(DEPLOYABLE, True)
        problems = self._cloudwatch_problems() if deployable else []
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _records_fit_a_capture_line(self, info: ValidationInfo) -> MonitoringSpec:
        """The serving limits, unset ones derived, such that the largest record the API accepts
        still fits one capture line (or it would be cut after a 200): a limit set too high is
        refused here, naming it. A spec inferred for the command line (deployable=False) serves
        nothing: its limits are derived, never refused."""
        deployable = info.context is None or info.context.get(DEPLOYABLE, True)
        serving, numeric, categorical = self.serving, self.numeric_features, self.categorical_features
        text_room = capture_line.largest_text_chars(serving.max_outcomes)
        attributes = {name: attribute.max_length for name, attribute in self.attributes.items()}
        category_room = capture_line.largest_category_chars(numeric, categorical, attributes)
        text = serving.max_text_chars or min(capture_line.DEFAULT_MAX_TEXT_CHARS, text_room)
        category = serving.max_category_chars or min(capture_line.DEFAULT_MAX_CATEGORY_CHARS, category_room)
        line = f"one capture line ({capture_line.MAX_LINE_BYTES} bytes, every character at its longest encoding)"
        problems = []
        if text > text_room or text < 1:
            problems.append(
                f"serving.max_text_chars: {text} characters with serving.max_outcomes = {serving.max_outcomes} "
                f"do not fit {line}; at most {text_room} with that many outcomes (or fewer outcomes)"
            )
        if attributes and capture_line.capture_record_bytes(numeric, categorical, 1, attributes) > (
            capture_line.MAX_LINE_BYTES
        ):
            problems.append(
                f"attributes: {len(attributes)} request attributes of at most "
                f"{max(attributes.values())} characters do not fit {line} beside the features; lower "
                "their max_length"
            )
        elif category > category_room or category < 1:
            problems.append(
                f"serving.max_category_chars: {category} characters for {len(categorical)} categorical features "
                f"do not fit {line}; at most {category_room}"
            )
        if problems and deployable:
            raise ValueError("; ".join(problems))
        derived = {"max_text_chars": max(1, text), "max_category_chars": max(1, category)}
        object.__setattr__(self, "serving", serving.model_copy(update=derived))
        return self

    @model_validator(mode="after")
    def _multivariate_rows_are_whole(self) -> MonitoringSpec:
        dropped_numbers = [n for n in self.numeric_features if self.features[n].protection == "drop"]
        if dropped_numbers and self.multivariate_methods:
            raise ValueError(
                f"features.{dropped_numbers[0]}.sensitive: a dropped numeric feature leaves no row with every "
                "numeric value, which the multivariate drift methods need; set drift.multivariate."
                f"{self.multivariate_methods[0]} = false"
            )
        return self

    def _cloudwatch_problems(self) -> list[str]:

        problems = []
        if self.serving.max_batch_size > catalog.EMF_MAX_VALUES_PER_METRIC:
            problems.append(
                f"serving.max_batch_size: at most {catalog.EMF_MAX_VALUES_PER_METRIC} (a request's EMF document "
                "holds one Confidence and one value per numeric feature for each record, and CloudWatch takes at "
                f"most {catalog.EMF_MAX_VALUES_PER_METRIC} values of a metric in one document)"
            )
        classes = self.columns.classes or []
        room = catalog.EMF_MAX_METRICS_PER_DOCUMENT - len(catalog.per_request_metrics(self.model.task)) - len(classes)
        if len(self.numeric_features) > room:
            problems.append(
                f"features: at most {room} numeric features (each is a metric of the request's EMF document, "
                f"which CloudWatch limits to {catalog.EMF_MAX_METRICS_PER_DOCUMENT} metrics)"
            )
        named = [("features", catalog.FEATURE_VALUE, name) for name in self.features]
        named += [("columns.classes", catalog.PREDICTIONS, name) for name in classes]
        for key, metric, name in named:
            if len(metric.name_for(name)) > catalog.METRIC_NAME_MAX_LENGTH:
                problems.append(
                    f"{key}.{name[:40]}…: the name is too long for a metric name "
                    f"({metric.name_for('')}<name>, at most {catalog.METRIC_NAME_MAX_LENGTH} characters)"
                )
            elif not name.isascii() or not name.isprintable():
                problems.append(f"{key}.{name}: CloudWatch metric and dimension names take printable ASCII only")
        return problems

    def _effective_drift_problems(self) -> list[str]:
        """Each feature's own drift settings over its type's: every combination must run."""
        problems = []
        for name, feature in self.features.items():
            own, by_type = feature.drift, (self.drift.numeric if feature.type == "numeric" else self.drift.categorical)
            method = own.method or by_type.method
            threshold = own.threshold if own.threshold is not None else by_type.threshold
            source = "" if own.threshold is not None else f" (from drift.{feature.type}.threshold)"
            if method is not None and method.uses_p_value and isinstance(threshold, float):
                try:
                    _check_p_value_threshold(method, threshold, f"features.{name}.drift.threshold{source}")
                except ValueError as problem:
                    problems.append(str(problem))
        return problems

    def feature_drift(self, name: str) -> FeatureDrift:
        """The effective override for one feature: its own settings over its type's."""
        feature = self.features[name]
        by_type = self.drift.numeric if feature.type == "numeric" else self.drift.categorical
        own = feature.drift
        return FeatureDrift(
            method=own.method or by_type.method,
            threshold=own.threshold if own.threshold is not None else by_type.threshold,
            min_sample_size=own.min_sample_size or by_type.min_sample_size,
            min_effect=own.min_effect if own.min_effect is not None else by_type.min_effect,
        )

    @property
    def multivariate_methods(self) -> list[str]:
        """The multivariate drift methods a drift check runs: those switched on, and only with
        two or more numeric features (one feature has no correlations to lose)."""
        if len(self.numeric_features) < 2:
            return []
        settings = self.drift.multivariate
        switched_on = {
            "pca_reconstruction": settings.pca_reconstruction,
            "domain_classifier": settings.domain_classifier,
        }
        return [method for method, on in switched_on.items() if on]

    @property
    def task(self) -> str:
        return self.model.task

    @property
    def performance_metric(self) -> str:
        """The metric concept drift and retraining judge the model on: the spec's, or the task's main one."""
        if self.retraining.performance is not None:
            return self.retraining.performance.metric
        return MAIN_METRIC[self.model.task]

    @property
    def segment_window(self) -> str:
        """The drift window the segments' alarm watches: the longest of at most a day (a segment
        holds a slice of the traffic, so an hour of it is seldom enough rows; a week reacts a
        week late), else the shortest."""
        within_a_day = [w for w in self.drift.windows if w.hours <= 24]
        if within_a_day:
            return max(within_a_day, key=lambda w: w.hours).name
        return min(self.drift.windows, key=lambda w: w.hours).name

    @property
    def retraining_window(self) -> str:
        """The drift window the retraining triggers watch."""
        if self.retraining.window is not None:
            return self.retraining.window
        return max(self.drift.windows, key=lambda w: w.hours).name

    @property
    def numeric_features(self) -> list[str]:
        return [n for n, f in self.features.items() if f.type == "numeric"]

    @property
    def segment_attributes(self) -> list[str]:
        """The request attributes some segment cuts by, in the spec's order: the only columns
        beside the features and roles that a table is read for (as segment keys, never profiled)."""
        named = {name for segment in self.segments for name in segment.by}
        return [name for name in self.attributes if name in named]

    @property
    def categorical_features(self) -> list[str]:
        return [n for n, f in self.features.items() if f.type == "categorical"]

    @property
    def plain_numeric_features(self) -> list[str]:
        """Numeric features whose values reach logs and captures as served (not sensitive): the
        ones a request's EMF document carries (FeatureValue.<feature>) and DLE's loss model reads."""
        return [n for n, f in self.features.items() if f.type == "numeric" and f.protection is None]

    @property
    def plain_categorical_features(self) -> list[str]:
        """Categorical features whose values reach captures as served (not hashed or dropped)."""
        return [n for n, f in self.features.items() if f.type == "categorical" and f.protection is None]

    @property
    def sensitive_features(self) -> dict[str, SensitiveAction]:
        """Feature name -> "hash" or "drop", for every feature marked sensitive."""
        return {n: f.protection for n, f in self.features.items() if f.protection is not None}
