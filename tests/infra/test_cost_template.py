"""The cost model's alarm count, from the alarm plan and the function catalogue, is the alarms
the synthesized stack creates (metric math billed per metric it reads); the cuts that are
configuration are off in the default template."""

from __future__ import annotations

from modelwatch.cost.usage import alarms_from_plan, alarms_from_template
from modelwatch.spec import load_spec
from tests.conftest import ROOT


def test_alarms_counted_from_the_plan_are_the_templates(template):
    assert alarms_from_plan(load_spec(ROOT / "monitoring.toml")) == alarms_from_template(template)


def test_kms_keys_counted_are_the_templates(template):
    from modelwatch.cost.usage import MonthlyUsage

    keys = sum(1 for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key")
    assert MonthlyUsage().kms_keys == keys


def test_api_per_route_metrics_are_off_by_default(template):
    stages = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    assert stages and all(not s.get("DefaultRouteSettings", {}).get("DetailedMetricsEnabled") for s in stages)
