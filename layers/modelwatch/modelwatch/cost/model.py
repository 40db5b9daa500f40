"""Monthly cost by component: a month's usage (`modelwatch.cost.usage`) times the list prices
(`prices.toml`), plus SageMaker's real-time endpoint with Model Monitor at the same volume for
comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelwatch.catalog.layout import CAPTURE
from modelwatch.cost.usage import (
    HOURS_PER_MONTH,
    SNAPSTART_INACTIVE_AFTER_DAYS,
    MonthlyUsage,
    Traffic,
    load_footprint,
    load_prices,
    monthly_usage,
    months_kept,
)
from modelwatch.spec.models import MonitoringSpec

GB = 1e9
# SageMaker Model Monitor: an hourly monitoring schedule runs one processing job per hour; a job
# is billed from instance start to end, about ten minutes for a small data-quality job (stated
# assumption: AWS publishes no duration).
MONITOR_JOB_MINUTES = 10
# A real-time endpoint for production runs two instances or more, in two Availability Zones, so it
# survives an instance or a zone (AWS's best practice for endpoints); one ml.m5.large also has to
# keep up with 38 requests a second at 100M a month, which two do with room.
SAGEMAKER_ENDPOINT_INSTANCES = 2


@dataclass(frozen=True)
class CostEstimate:
    components: dict[str, float]  # component -> USD a month
    usage: MonthlyUsage
    traffic: Traffic
    prices: Mapping[str, Any]
    footprint: Mapping[str, Any]

    @property
    def prices_checked(self) -> str:
        return str(self.prices["checked"])

    @property
    def total_per_month(self) -> float:
        return sum(self.components.values())

    @property
    def per_million_predictions(self) -> float | None:
        """Undefined without traffic (null, not zero)."""
        if self.traffic.predictions <= 0:
            return None
        return self.total_per_month / (self.traffic.predictions / 1e6)

    def as_json(self) -> dict[str, Any]:
        usage = self.usage
        stream = usage.stream
        return {
            "total_per_month": round(self.total_per_month, 4),
            "per_million_predictions": None
            if self.per_million_predictions is None
            else round(self.per_million_predictions, 4),
            "components": {name: round(value, 4) for name, value in self.components.items()},
            "inputs": {
                "requests_per_month": self.traffic.requests_per_month,
                "records_per_request": self.traffic.records_per_request,
                "labels_per_month": self.traffic.labels,
            },
            "assumptions": self.assumptions(),
            "counts": {
                "invocations": {k: round(v, 1) for k, v in usage.invocations.items()},
                "custom_metrics": round(usage.custom_metrics, 2),
                "metric_series": {k: round(v, 2) for k, v in usage.metric_series.items() if v},
                "alarms": usage.alarms,
                "alarm_metrics": usage.alarm_metrics,
                "log_gb": round(sum(usage.log_bytes.values()) / GB, 4),
                "s3_put_list_requests": round(sum(usage.s3_puts.values()) + sum(usage.s3_lists.values())),
                "s3_get_requests": round(sum(usage.s3_gets.values())),
                "s3_puts_by_writer": {k: round(v) for k, v in usage.s3_puts.items() if v},
                "s3_notifications": round(usage.s3_notifications),
                "s3_stored_gb": {k: round(v, 4) for k, v in usage.s3_stored_gb.items()},
                "delivery_objects": round(stream.objects, 1),
                "delivery_objects_per_traffic_hour": round(stream.objects_per_traffic_hour, 2),
                "capture_groups": round(stream.capture_groups, 1),
                "label_groups": round(stream.label_groups, 1),
                "firehose_records": round(stream.lines),
                "firehose_billed_gb": round(stream.billed_bytes / GB, 4),
                "firehose_decompressed_gb": round(stream.decompressed_bytes / GB, 4),
                "kms_keys": usage.kms_keys,
                "snapstart_active_share": round(usage.snapstart_active_share, 4),
                "xray_traces": round(usage.xray_traces),
            },
            # Charges the model counts but cannot price (prices.toml says why): what each applies to.
            "unpriced": {"firehose_cloudwatch_logs_decompression_gb": round(stream.decompressed_bytes / GB, 4)}
            if "cloudwatch_logs_decompression_per_gb" not in self.prices["firehose"]
            else {},
            "sagemaker_comparison_per_month": round(sagemaker_per_month(self.traffic, self.prices, self.footprint), 2),
            "prices_checked": self.prices_checked,
        }

    def assumptions(self) -> dict[str, str]:
        """What the numbers stand on that the inputs do not say."""
        traffic, usage = self.traffic, self.usage
        if traffic.requests_per_month > 0:
            snapstart = (
                f"active while invoked at least every {SNAPSTART_INACTIVE_AFTER_DAYS} days "
                f"({usage.snapstart_active_share:.0%} of this month)"
            )
        elif traffic.idle_month == "first":
            snapstart = (
                f"the first idle month: the snapshot billed up to {SNAPSTART_INACTIVE_AFTER_DAYS} days "
                "after the last invocation"
            )
        else:
            snapstart = (
                f"a steady idle month: inactive {SNAPSTART_INACTIVE_AFTER_DAYS} days after the last invocation, "
                "not billed"
            )
        kms = self.prices["kms"]
        per_key = kms["key_per_month"] + usage.kms_rotations_billed * kms["rotation_per_month"]
        if traffic.key_age_years is None:
            keys = f"steady state (third year on): each key and its first two yearly rotations, ${per_key:.2f} a month"
        else:
            keys = (
                f"keys {traffic.key_age_years:g} years old: {usage.kms_rotations_billed} rotation(s) billed, "
                f"${per_key:.2f} a month a rotating key"
            )
        return {
            "logs_batching": "worst case: one log event per Logs record (AWS documents no batch size)",
            "delivery_objects": (
                "an hour with traffic: max(ceil(bytes / buffer_mib), min(3600 / buffer_seconds, records)); else none"
            ),
            "hour_straddle": "one object an hour spans two hours (buffer_seconds / 3600 of them while time-bound)",
            "snapstart": snapstart if traffic.snap_start else "off",
            "kms_rotation": keys,
        }


def priced(usage: MonthlyUsage, traffic: Traffic, prices: Mapping[str, Any]) -> dict[str, float]:
    lam, cw, s3 = prices["lambda"], prices["cloudwatch"], prices["s3"]
    per_gb_second = lam["arm64_per_gb_second"] if traffic.architecture == "arm64" else lam["x86_64_per_gb_second"]
    components: dict[str, float] = {
        "api_gateway": usage.api_requests / 1e6 * prices["api_gateway"]["http_per_million_requests"]
    }
    for name, count in usage.invocations.items():
        components[f"lambda_{name}"] = (
            count / 1e6 * lam["per_million_requests"] + usage.gb_seconds[name] * per_gb_second
        )
    components["lambda_snapstart"] = (
        usage.snapstart_cached_gb_seconds * lam["snapstart_cache_per_gb_second"]
        + usage.snapstart_restored_gb * lam["snapstart_restore_per_gb"]
    )
    ingested_gb = sum(usage.log_bytes.values()) / GB
    components["logs_ingestion"] = ingested_gb * cw["logs_ingestion_per_gb"]
    # Steady state: each month's logs are kept for the retention period.
    components["logs_storage"] = ingested_gb * traffic.log_retention_days / 30 * cw["logs_storage_per_gb_month"]
    components["custom_metrics"] = usage.custom_metrics * cw["custom_metric_per_month"]
    components["alarms"] = usage.alarm_metrics * cw["alarm_metric_per_month"]
    components["dashboard"] = usage.dashboards * cw["dashboard_per_month"]
    put_list = sum(usage.s3_puts.values()) + sum(usage.s3_lists.values())
    components["s3_requests"] = (
        put_list / 1000 * s3["put_copy_post_list_per_thousand"]
        + sum(usage.s3_gets.values()) / 1000 * s3["get_select_per_thousand"]
    )
    components["s3_storage"] = sum(usage.s3_stored_gb.values()) * s3["standard_per_gb_month"]
    stream, firehose = usage.stream, prices["firehose"]
    components["firehose"] = stream.billed_bytes / GB * firehose["direct_put_ingestion_per_gb"]
    # Priced once its figure is in prices.toml (see the note there); counted either way.
    if "cloudwatch_logs_decompression_per_gb" in firehose:
        components["firehose"] += stream.decompressed_bytes / GB * firehose["cloudwatch_logs_decompression_per_gb"]
    components["step_functions"] = (
        usage.state_transitions / 1000 * prices["step_functions"]["standard_per_thousand_transitions"]
    )
    components["xray"] = usage.xray_traces / 1e6 * prices["xray"]["per_million_traces_recorded"]
    kms = prices["kms"]
    # Each key, each of its billed rotations; the alerts topic is KMS-encrypted: each publish asks
    # the key for a data key.
    components["kms"] = (
        usage.kms_keys * kms["key_per_month"]
        + usage.kms_rotating_keys * usage.kms_rotations_billed * kms["rotation_per_month"]
        + usage.sns_publishes / 1e4 * kms["per_ten_thousand_requests"]
    )
    secrets = prices["secrets_manager"]
    components["secrets_manager"] = (
        usage.secrets * secrets["secret_per_month"] + usage.secret_calls / 1e4 * secrets["per_ten_thousand_calls"]
    )
    sns = prices["sns"]
    components["sns"] = (
        usage.sns_publishes / 1e6 * sns["per_million_publishes"]
        + usage.sns_publishes * traffic.alert_emails / 1e5 * sns["email_per_hundred_thousand"]
    )
    return components


def estimate(
    spec: MonitoringSpec,
    traffic: Traffic,
    template: Mapping[str, Any] | None = None,
    footprint: Mapping[str, Any] | None = None,
    prices: Mapping[str, Any] | None = None,
) -> CostEstimate:
    prices = prices or load_prices()
    footprint = footprint or load_footprint()
    usage = monthly_usage(spec, traffic, template, footprint, prices)
    return CostEstimate(priced(usage, traffic, prices), usage, traffic, prices, footprint)


def sagemaker_per_month(
    traffic: Traffic, prices: Mapping[str, Any], footprint: Mapping[str, Any] | None = None
) -> float:
    """SageMaker's way at the same traffic, at list prices: a real-time endpoint of
    SAGEMAKER_ENDPOINT_INSTANCES always-on instances, an hourly Model Monitor schedule, and data
    capture's JSON lines in S3 kept as long as ModelWatch keeps its captures. (Data capture's
    PUT requests are left out: AWS documents no file cadence. Model Monitor is closed to new
    customers: the comparison is with what it costs those who have it.)"""
    footprint = footprint or load_footprint()
    sagemaker = prices["sagemaker"]
    endpoint = sagemaker["endpoint_per_hour"] * HOURS_PER_MONTH * SAGEMAKER_ENDPOINT_INSTANCES
    monitor = sagemaker["monitor_per_hour"] * HOURS_PER_MONTH * MONITOR_JOB_MINUTES / 60
    captured = traffic.predictions * footprint["sagemaker"]["capture_line_bytes"]
    capture_storage = captured * months_kept(CAPTURE, traffic) / GB * prices["s3"]["standard_per_gb_month"]
    return endpoint + monitor + capture_storage
