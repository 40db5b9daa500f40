"""The CDK app deploys from a spec imported from SageMaker Model Monitor (its L∞ drift methods
and per-feature missing-rate limits), cdk-nag's checks included."""

from __future__ import annotations

from pathlib import Path

from modelwatch.cli.main import main
from tests.infra.conftest import synthesize
from tests.sagemaker_examples import PIPELINE_CONSTRAINTS, PIPELINE_STATISTICS


def test_the_stack_synthesizes_from_an_imported_spec(tmp_path: Path) -> None:
    assert main(["import-sagemaker", "--statistics", str(PIPELINE_STATISTICS), "--constraints",
                 str(PIPELINE_CONSTRAINTS), "--out", str(tmp_path)]) == 0  # fmt: skip
    _, template, _ = synthesize({"spec": str(tmp_path / "monitoring.toml")})
    # The dashboard draws each imported feature's drift score (the L∞ distance).
    dashboards = template.find_resources("AWS::CloudWatch::Dashboard")
    assert dashboards and all(f"_c{i}" in str(dashboards) for i in range(6))
