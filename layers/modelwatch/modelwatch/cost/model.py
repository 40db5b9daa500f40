"""Monthly cost by component: a month's usage (`modelwatch.cost.usage`) times the list prices
(`prices.toml`), plus SageMaker's real-time endpoint with Model Monitor at the same volume for
comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelwatch.cost.usage import HOURS_PER_MONTH, MonthlyUsage, Traffic, load_prices, monthly_usage
from modelwatch.spec.models import MonitoringSpec

GB = 1e9
# SageMaker Model Monitor: an hourly monitoring schedule runs one processing job per hour; a job
# is billed from instance start to end, about ten minutes for a small data-quality job (stated
# assumption: AWS publishes no duration).
MONITOR_JOB_MINUTES = 10


@dataclass(frozen=True)
class CostEstimate:
    components: dict[str, float]  # component -> USD a month
    usage: MonthlyUsage
    traffic: Traffic
    prices_checked: str

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
            "counts": {
                "invocations": {k: round(v, 1) for k, v in usage.invocations.items()},
                "custom_metrics": round(usage.custom_metrics, 2),
                "metric_series": {k: round(v, 2) for k, v in usage.metric_series.items() if v},
                "alarms": usage.alarms,
                "alarm_metrics": usage.alarm_metrics,
                "log_gb": round(sum(usage.log_bytes.values()) / GB, 4),
                "s3_put_list_requests": round(sum(usage.s3_puts.values()) + sum(usage.s3_lists.values())),
                "s3_get_requests": round(sum(usage.s3_gets.values())),
                "xray_traces": round(usage.xray_traces),
            },
            "sagemaker_comparison_per_month": round(sagemaker_per_month(self.traffic, load_prices()), 2),
            "prices_checked": self.prices_checked,
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
    components["s3_storage"] = usage.s3_stored_gb * s3["standard_per_gb_month"]
    components["step_functions"] = (
        usage.state_transitions / 1000 * prices["step_functions"]["standard_per_thousand_transitions"]
    )
    components["xray"] = usage.xray_traces / 1e6 * prices["xray"]["per_million_traces_recorded"]
    kms = prices["kms"]
    # The alerts topic is KMS-encrypted: each publish asks the key for a data key.
    components["kms"] = (
        usage.kms_keys * kms["key_per_month"] + usage.sns_publishes / 1e4 * kms["per_ten_thousand_requests"]
    )
    secrets = prices["secrets_manager"]
    components["secrets_manager"] = (
        secrets["secret_per_month"] + usage.secret_calls / 1e4 * secrets["per_ten_thousand_calls"]
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
    usage = monthly_usage(spec, traffic, template, footprint, prices)
    return CostEstimate(priced(usage, traffic, prices), usage, traffic, prices["checked"])


def sagemaker_per_month(traffic: Traffic, prices: Mapping[str, Any]) -> float:
    """One always-on real-time endpoint instance and an hourly Model Monitor schedule, at list
    prices. (One instance has no redundancy; AWS recommends two or more in production.)"""
    sagemaker = prices["sagemaker"]
    endpoint = sagemaker["endpoint_per_hour"] * HOURS_PER_MONTH
    monitor = sagemaker["monitor_per_hour"] * HOURS_PER_MONTH * MONITOR_JOB_MINUTES / 60
    return endpoint + monitor
