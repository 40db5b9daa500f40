"""The README's cost tables ("What it costs"), written by the model: `modelwatch cost --spec
monitoring.toml --readme` prints them, and tests/unit/test_readme_cost.py holds the README to
that output, so no figure there is typed by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from modelwatch.cost.model import SAGEMAKER_ENDPOINT_INSTANCES, CostEstimate, estimate, sagemaker_per_month
from modelwatch.cost.usage import Traffic
from modelwatch.spec.models import MonitoringSpec

MILLION, HUNDRED_MILLION = 1_000_000.0, 100_000_000.0
VOLUMES = (0.0, MILLION, HUNDRED_MILLION)
# Issue 23's acceptance targets, as the issue states them.
IDLE_TARGET = 8.00  # USD a month without traffic
PER_MILLION_TARGETS = {MILLION: 12.00, HUNDRED_MILLION: 2.50}  # USD per 1M predictions at that volume
S3_REQUEST_SHARE_TARGET = 0.05  # of the total at 100M


Change = Callable[[MonitoringSpec, Traffic], tuple[MonitoringSpec, Traffic]]


@dataclass(frozen=True)
class Cut:
    setting: str
    default: str
    change: Change


def _traffic(change: Callable[[Traffic], Traffic]) -> Change:
    return lambda spec, traffic: (spec, change(traffic))


def _capture(**update: object) -> Change:
    return lambda spec, traffic: (
        spec.model_copy(update={"capture": spec.capture.model_copy(update=update)}),
        traffic,
    )


def _metrics(**update: object) -> Change:
    return lambda spec, traffic: (spec.model_copy(update={"metrics": spec.metrics.model_copy(update=update)}), traffic)


CUTS = (
    Cut("`-c snapStart=false` (`--no-snapstart`)", "on", _traffic(lambda t: replace(t, snap_start=False))),
    Cut(
        "no dashboard (`--no-dashboard`; the stack has no switch for it yet)",
        "on",
        _traffic(lambda t: replace(t, dashboard=False)),
    ),
    Cut(
        "`-c tracing=true`: X-Ray on the API functions (`--trace-api`)",
        "off",
        _traffic(lambda t: replace(t, trace_api=True)),
    ),
    Cut("`-c traceBackground=true`", "off", _traffic(lambda t: replace(t, trace_background=True))),
    Cut(
        "`-c lambdaPlatformLogs=true`: Lambda's START/END/REPORT lines (`--platform-log-lines`)",
        "off",
        _traffic(lambda t: replace(t, platform_log_lines=True)),
    ),
    Cut("`-c accessLogFields=full`", "`lean`", _traffic(lambda t: replace(t, access_log_fields="full"))),
    Cut(
        "`-c separateInputsKey=true`: a second key for the inputs",
        "one key",
        _traffic(lambda t: replace(t, kms_keys=2)),
    ),
    Cut(
        "`-c alarmEachFunction=true`: Errors and Throttles alarms on every function",
        "where no other alarm covers them",
        _traffic(lambda t: replace(t, alarm_each_function=True)),
    ),
    Cut('`[metrics] series = "all"`: every metric sent, read or not', '`"consumed"`', _metrics(series="all")),
    Cut('`[metrics] drift_series = "all"`', '`"consumed"`', _metrics(drift_series="all")),
    Cut("`-c apiDetailedMetrics=true`", "off", _traffic(lambda t: replace(t, api_detailed_metrics=True))),
    Cut("`[capture] sample_rate = 0.25`", "1.0", _capture(sample_rate=0.25)),
    Cut("`[capture] buffer_seconds = 900`", "300", _capture(buffer_seconds=900)),
    Cut("`[capture] buffer_seconds = 60`", "300", _capture(buffer_seconds=60)),
)


def every_option_off(traffic: Traffic) -> Traffic:
    """The floor: what the stack costs with every switch that adds cost off."""
    return replace(
        traffic,
        snap_start=False,
        dashboard=False,
        trace_api=False,
        trace_background=False,
        platform_log_lines=False,
        api_detailed_metrics=False,
    )


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _signed(value: float) -> str:
    return f"{'+' if value >= 0.005 else '−' if value <= -0.005 else '±'}${abs(value):,.2f}"


def _per_million(result: CostEstimate) -> str:
    value = result.per_million_predictions
    return "—" if value is None else _money(value)


def _volume(requests: float) -> str:
    return f"{requests:,.0f}" if requests else "0 (idle)"


def readme_tables(spec: MonitoringSpec) -> str:
    base = {volume: estimate(spec, Traffic(requests_per_month=volume)) for volume in VOLUMES}
    floor = {volume: estimate(spec, every_option_off(Traffic(requests_per_month=volume))) for volume in VOLUMES}
    first_idle = estimate(spec, Traffic(requests_per_month=0.0, idle_month="first"))
    lines = [
        "| predictions / month | ModelWatch, defaults | per 1M | every option off | per 1M "
        f"| SageMaker: {SAGEMAKER_ENDPOINT_INSTANCES} endpoint instances, Model Monitor, capture storage | per 1M |",
        "|---|---|---|---|---|---|---|",
    ]
    for volume in VOLUMES:
        result, low = base[volume], floor[volume]
        sagemaker = sagemaker_per_month(result.traffic, result.prices, result.footprint)
        per_million = _money(sagemaker / (volume / 1e6)) if volume else "—"
        lines.append(
            f"| {_volume(volume)} | {_money(result.total_per_month)} | {_per_million(result)} "
            f"| {_money(low.total_per_month)} | {_per_million(low)} | {_money(sagemaker)} | {per_million} |"
        )
    lines.append(
        f"| 0 (the first idle month) | {_money(first_idle.total_per_month)} | — | "
        f"{_money(floor[0.0].total_per_month)} | — | — | — |"
    )
    lines += ["", "| component, defaults | idle | 1M | 100M |", "|---|---|---|---|"]
    names = sorted(base[HUNDRED_MILLION].components, key=lambda name: -base[HUNDRED_MILLION].components[name])
    for name in names:
        values = [base[volume].components.get(name, 0.0) for volume in VOLUMES]
        if max(values) >= 0.005:
            lines.append(f"| {name} | " + " | ".join(_money(v) for v in values) + " |")
    lines.append("| **total** | " + " | ".join(f"**{_money(base[v].total_per_month)}**" for v in VOLUMES) + " |")

    lines += ["", "| issue 23's target | defaults | every option off |", "|---|---|---|"]
    lines.append(_target_row(f"idle at most {_money(IDLE_TARGET)} a month", base[0.0], floor[0.0], IDLE_TARGET))
    for volume, target in PER_MILLION_TARGETS.items():
        label = f"at most {_money(target)} per 1M at {volume:,.0f} a month"
        lines.append(_target_row(label, base[volume], floor[volume], target, per_million=True))
    share = [_s3_request_share(result) for result in (base[HUNDRED_MILLION], floor[HUNDRED_MILLION])]
    lines.append(
        f"| S3 requests at most {S3_REQUEST_SHARE_TARGET:.0%} of the total at 100,000,000 | "
        + " | ".join(f"{value:.1%} ({'met' if value <= S3_REQUEST_SHARE_TARGET else 'not met'})" for value in share)
        + " |"
    )

    lines += ["", "| setting | default | change: idle | 1M | 100M |", "|---|---|---|---|---|"]
    for cut in CUTS:
        changes = []
        for volume in VOLUMES:
            cut_spec, cut_traffic = cut.change(spec, Traffic(requests_per_month=volume))
            changes.append(estimate(cut_spec, cut_traffic).total_per_month - base[volume].total_per_month)
        lines.append(f"| {cut.setting} | {cut.default} | " + " | ".join(_signed(c) for c in changes) + " |")
    return "\n".join(lines) + "\n"


def _target_row(label: str, base: CostEstimate, floor: CostEstimate, target: float, per_million: bool = False) -> str:
    cells = []
    for result in (base, floor):
        value = (result.per_million_predictions or 0.0) if per_million else result.total_per_month
        cells.append(f"{_money(value)} ({'met' if value <= target else 'not met'})")
    return f"| {label} | " + " | ".join(cells) + " |"


def _s3_request_share(result: CostEstimate) -> float:
    return result.components["s3_requests"] / result.total_per_month
