"""The drift check's metrics, from each window's typed result, as CloudWatch EMF.

Dimensions: service and window (a handful of names from the spec); DriftScore and FeatureDrifted
add the feature, Kpi the KPI's name, the multivariate metrics the method. DriftScore is only ever
a bounded score (KS D, normed Wasserstein, Jensen-Shannon, PSI); p-value tests still give
FeatureDrifted. What a window leaves undefined (a verdict below the minimum sample size, a
metric without labels) gives no datapoint, never a 0.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import Metrics

from functions.shared.emit import add_metric, emit_with_dimensions
from modelwatch.alerts.consumed import sends_drift_series
from modelwatch.catalog import metrics as catalog
from modelwatch.catalog.metrics import Metric
from modelwatch.jobs.reconciliation import Reconciled
from modelwatch.jobs.window_check import WindowCheck
from modelwatch.spec.models import DriftMethod, MonitoringSpec

Datapoint = tuple[Metric, float, dict[str, str]]


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


def metric_values(check: WindowCheck) -> list[Datapoint]:
    """(metric, value, extra dimensions) for one window's check."""
    if check.current_rows == 0:
        # No traffic in the window: nothing to report, and nothing sent. CloudWatch bills a metric
        # for every hour it is sent, so an idle stack's hourly check would otherwise cost its
        # always-sent metrics (about 15 for the demo spec, $4.50 a month); the alarms on them see
        # missing data, which the spec treats as not breaching by default.
        return []
    values: list[Datapoint] = [(catalog.INSUFFICIENT_DATA, _flag(not check.judged), {})]
    values += [(metric, float(check.quality[key]), {}) for key, metric in catalog.QUALITY_RATES.items()]
    values.append((catalog.NEW_LABELED_ROWS, float(check.new_labeled_rows), {}))
    values += [(catalog.KPI, float(value), {"kpi": name}) for name, value in check.kpis.items() if value is not None]
    for measured, metrics in (
        (check.performance, catalog.PERFORMANCE),
        (check.estimated_performance, catalog.ESTIMATED_PERFORMANCE),
    ):
        for key, metric in metrics.items():
            value = (measured or {}).get(key)
            if isinstance(value, int | float):
                values.append((metric, float(value), {}))
    if not check.judged:
        return values  # no verdict below the minimum sample size
    values.append((catalog.DRIFT_SHARE, float(check.drift_share or 0.0), {}))
    values.append((catalog.DATASET_DRIFT, _flag(bool(check.dataset_drift)), {}))
    scores = []
    for feature in check.features:
        if not feature.judged:
            continue
        per_feature = {"feature": feature.name}
        values.append((catalog.FEATURE_DRIFTED, _flag(bool(feature.drifted)), per_feature))
        if feature.method is not None and DriftMethod(feature.method).bounded_score and feature.statistic is not None:
            values.append((catalog.DRIFT_SCORE, feature.statistic, per_feature))
            scores.append(feature.statistic)
    if scores:
        values.append((catalog.MAX_DRIFT_SCORE, max(scores), {}))
    for column, metric in (
        (check.prediction_drift, catalog.PREDICTION_DRIFT),
        (check.label_drift, catalog.LABEL_DRIFT),
    ):
        if column is not None and column.judged and column.statistic is not None:
            values.append((metric, column.statistic, {}))
    for method in check.multivariate:
        if method.score is None or method.drifted is None:
            continue  # not computed on this window (too few rows, or switched off)
        per_method = {"method": method.method}
        values.append((catalog.MULTIVARIATE_DRIFT_SCORE, float(method.score), per_method))
        values.append((catalog.MULTIVARIATE_DRIFT, _flag(method.drifted), per_method))
    if check.concept_drift is not None:  # None: below the labelled minimum, or no labels
        values.append((catalog.CONCEPT_DRIFT, _flag(check.concept_drift), {}))
    worst = check.worst_segment_drift_share
    if worst is not None:  # one series for every segment value: drift.json says which
        values.append((catalog.WORST_SEGMENT_DRIFT_SHARE, worst, {}))
    return values


def emit(check: WindowCheck, spec: MonitoringSpec) -> None:
    namespace, service = spec.metrics.namespace, spec.metrics.service
    for metric, value, extra in metric_values(check):
        if not sends_drift_series(spec, metric, check.window):
            continue  # not read by any alarm, trigger or the dashboard: kept in drift.json only
        emit_with_dimensions(metric, value, namespace, {"service": service, "window": check.window, **extra})


def emit_reconciled(metrics: Metrics, reconciled: Reconciled) -> None:
    """For each hour reconciled: CapturesMissing and FeedbackMissing (beyond the at-least-once
    tolerance), 0 included, when that hour sent or filed anything. An idle hour sends nothing,
    like an empty window (CloudWatch bills a metric for every hour it is sent); their alarms treat
    no data as not breaching. Several hours (a catch-up) are several values of one document, which
    the alarms' Maximum judges together. AccountingHeartbeat (1) only when the accounting finished,
    whether or not an hour was due (a re-run sends what the run did): its alarm treats no data as
    breaching."""
    for hour in reconciled.hours:
        if hour.captures.active:
            add_metric(metrics, catalog.CAPTURES_MISSING, hour.captures.missing_beyond_tolerance)
        if hour.feedback.active:
            add_metric(metrics, catalog.FEEDBACK_MISSING, hour.feedback.missing_beyond_tolerance)
    if reconciled.failure is None:
        add_metric(metrics, catalog.ACCOUNTING_HEARTBEAT, 1)
