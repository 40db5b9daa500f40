"""How many capture records the predict function logged per model version in one hour, as
CloudWatch counted them from its EMF lines (CaptureRecordsSent), and how many feedback pieces
the feedback function logged (FeedbackRecordsSent). CloudWatch extracts EMF metrics when the log
events are ingested, before and apart from the Logs subscription that carries the capture and
feedback lines: a subscription that skips or cannot deliver loses the lines but not these counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from modelwatch.catalog import layout
from modelwatch.catalog.metrics import CAPTURE_RECORDS_SENT, FEEDBACK_RECORDS_SENT

HOUR_SECONDS = 3600
MAX_QUERIES = 500  # GetMetricData's limit per call


def hourly_sum(query_id: str, namespace: str, service: str, name: str) -> dict[str, Any]:
    """A GetMetricData query of one of the service's counts, summed per hour."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": "service", "Value": service}],
            },
            "Period": HOUR_SECONDS,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


class SentCaptures:
    def __init__(self, cloudwatch: Any, namespace: str, service: str) -> None:
        self.cloudwatch, self.namespace, self.service = cloudwatch, namespace, service

    def versions(self) -> list[str]:
        """Every model version with a CaptureRecordsSent.<version> series (ListMetrics: the last two
        weeks). ListMetrics matches whole names only, so the service's series are listed and the
        counts picked out by their prefix."""
        prefix = CAPTURE_RECORDS_SENT.name_for("")
        found = set()
        paginator = self.cloudwatch.get_paginator("list_metrics")
        for page in paginator.paginate(
            Namespace=self.namespace, Dimensions=[{"Name": "service", "Value": self.service}]
        ):
            for metric in page.get("Metrics", []):
                if metric["MetricName"].startswith(prefix):
                    found.add(metric["MetricName"].removeprefix(prefix))
        return sorted(found)

    def per_version(self, hour: str) -> dict[str, int]:
        """model version -> records sent in `hour` (versions that sent none are left out)."""
        versions = self.versions()
        start = layout.hour_start(hour)
        sent: dict[str, int] = {}
        for first in range(0, len(versions), MAX_QUERIES):
            chunk = versions[first : first + MAX_QUERIES]
            queries = [
                hourly_sum(f"v{i}", self.namespace, self.service, CAPTURE_RECORDS_SENT.name_for(version))
                for i, version in enumerate(chunk)
            ]
            paginator = self.cloudwatch.get_paginator("get_metric_data")
            for page in paginator.paginate(
                MetricDataQueries=queries, StartTime=start, EndTime=start + timedelta(hours=1)
            ):
                for result in page["MetricDataResults"]:
                    total = round(sum(result.get("Values", [])))
                    if total:
                        version = chunk[int(result["Id"][1:])]
                        sent[version] = sent.get(version, 0) + total
        return sent


class SentFeedback:
    """FeedbackRecordsSent: one series (feedback is filed by hour, not by model version)."""

    def __init__(self, cloudwatch: Any, namespace: str, service: str) -> None:
        self.cloudwatch, self.namespace, self.service = cloudwatch, namespace, service

    def in_hour(self, hour: str) -> int:
        """Feedback pieces logged in `hour`."""
        start = layout.hour_start(hour)
        query = hourly_sum("feedback", self.namespace, self.service, FEEDBACK_RECORDS_SENT.name)
        paginator = self.cloudwatch.get_paginator("get_metric_data")
        pages = paginator.paginate(MetricDataQueries=[query], StartTime=start, EndTime=start + timedelta(hours=1))
        return round(sum(sum(result.get("Values", [])) for page in pages for result in page["MetricDataResults"]))
