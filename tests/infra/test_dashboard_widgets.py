"""One widget catalogue (modelwatch.alerts.dashboard) feeds both dashboards: the synthesized
CloudWatch dashboard has exactly its widgets, in order, each with its series (metric, statistic,
period), and the local dashboard draws the same widgets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from modelwatch.alerts.dashboard import dashboard_widgets
from modelwatch.spec import load_spec
from modelwatch_local.dashboard import render
from modelwatch_local.metrics import MetricStore
from tests.conftest import ROOT

SPEC = load_spec(ROOT / "monitoring.toml")


def _body(template: dict) -> dict:
    """The dashboard's JSON, its CloudFormation tokens (names, ARNs) replaced by a placeholder."""
    (dashboard,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, dict):
        body = "".join(part if isinstance(part, str) else "TOKEN" for part in body["Fn::Join"][1])
    return json.loads(body)


def _metric_queries(properties: dict) -> list[tuple[str, str, int]]:
    """(metric name or expression, statistic, period) of a graph's series, as CloudWatch lists them."""
    found = []
    for row in properties.get("metrics", []):
        options = row[-1] if isinstance(row[-1], dict) else {}
        if "expression" in options:
            found.append((options["expression"], "", options.get("period", properties.get("period"))))
            continue
        names = [item for item in row if isinstance(item, str)]
        # The CDK leaves out CloudWatch's defaults: statistic Average, period 300 seconds.
        found.append((names[1], options.get("stat", "Average"), options.get("period", properties.get("period", 300))))
    return found


def test_the_cdk_dashboard_is_the_catalogues_widgets_with_their_series(template):
    deployed = [w for w in _body(template)["widgets"] if w["type"] != "text"]
    declared = dashboard_widgets(SPEC)
    assert [w["properties"].get("title") for w in deployed] == [w.title for w in declared]
    for built, widget in zip(deployed, declared, strict=True):
        assert built["width"] == widget.width
        if widget.kind != "graph" and widget.kind != "retraining":
            continue
        queries = _metric_queries(built["properties"])
        assert len(queries) == len(widget.series), widget.title
        for (name, stat, period), series in zip(queries, widget.series, strict=True):
            assert series.name in name, (widget.title, series)
            if series.source in ("each", "total"):  # a SEARCH expression names statistic and period
                assert f"'{series.statistic}', {series.period_seconds})" in name, (widget.title, name)
            else:
                assert (stat, period) == (series.statistic, series.period_seconds), (widget.title, series)


def test_the_local_dashboard_draws_the_same_widgets_in_the_same_order():
    start = datetime(2026, 11, 23, tzinfo=UTC)
    page = render(SPEC, MetricStore(), [], [], [], start, start + timedelta(hours=2))
    drawn = [part.split('"', 1)[0] for part in page.split('data-widget="')[1:]]
    assert drawn == [w.title for w in dashboard_widgets(SPEC)]
