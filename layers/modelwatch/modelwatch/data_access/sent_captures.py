"""How many capture records the predict function logged per model version in one hour, as
CloudWatch counted them from its EMF lines (CaptureRecordsSent). CloudWatch extracts EMF metrics
when the log events are ingested, before and apart from the Logs subscription that carries the
capture lines: a subscription that skips or cannot deliver loses captures but not this count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from modelwatch.catalog import layout
from modelwatch.catalog.metrics import CAPTURE_RECORDS_SENT

HOUR_SECONDS = 3600
MAX_QUERIES = 500  # GetMetricData's limit per call


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
            queries = [self._query(f"v{i}", version) for i, version in enumerate(chunk)]
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

    def _query(self, query_id: str, version: str) -> dict[str, Any]:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": CAPTURE_RECORDS_SENT.name_for(version),
                    "Dimensions": [{"Name": "service", "Value": self.service}],
                },
                "Period": HOUR_SECONDS,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
