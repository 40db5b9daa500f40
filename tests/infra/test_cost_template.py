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
    """The declared key count (no template given) is the template's, every key rotating."""
    from modelwatch.cost.usage import Traffic, monthly_usage

    spec = load_spec(ROOT / "monitoring.toml")
    keys = [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    rotating = sum(1 for k in keys if k["Properties"].get("EnableKeyRotation"))
    declared = monthly_usage(spec, Traffic(requests_per_month=0))
    from_template = monthly_usage(spec, Traffic(requests_per_month=0), template)
    assert (declared.kms_keys, declared.kms_rotating_keys) == (len(keys), rotating)
    assert (from_template.kms_keys, from_template.kms_rotating_keys) == (len(keys), rotating)


def test_api_per_route_metrics_are_off_by_default(template):
    stages = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    assert stages and all(not s.get("DefaultRouteSettings", {}).get("DetailedMetricsEnabled") for s in stages)
