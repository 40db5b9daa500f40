"""CloudWatch computes no percentile over a period that holds a negative value, so a percentile
widget of a value that may be negative goes blank: percentiles are drawn only where the value
cannot be negative (latencies, durations, probabilities, features the spec bounds at 0)."""

from __future__ import annotations

import pytest

from modelwatch.alerts.dashboard import dashboard_widgets
from modelwatch.catalog import metrics as catalog
from modelwatch.spec import load_spec
from tests.conftest import ROOT

NON_NEGATIVE = {catalog.CONFIDENCE.name, catalog.PREDICTION_LATENCY.name, catalog.MODEL_LATENCY.name,
                catalog.LAMBDA_DURATION, catalog.API_LATENCY}  # fmt: skip


def _spec(task: str, minimum: float | None):
    spec = load_spec(ROOT / "monitoring.toml")
    return spec.model_copy(
        update={
            "model": spec.model.model_copy(update={"task": task}),
            "features": {
                name: f.model_copy(update={"min": minimum}) if getattr(f, "type", "") == "numeric" else f
                for name, f in spec.features.items()
            },
        }
    )


@pytest.mark.parametrize("minimum", [None, -5.0, 0.0])
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_percentiles_only_of_values_that_cannot_be_negative(task, minimum):
    spec = _spec(task, minimum)
    for widget in dashboard_widgets(spec):
        for series in widget.series:
            if not series.statistic.startswith("p") or series.source == "logs":
                continue  # Logs Insights computes a percentile of any values; metric math does not
            feature = series.name.removeprefix(f"{catalog.FEATURE_VALUE.name}.")
            if feature != series.name:
                assert minimum is not None and minimum >= 0, (widget.title, series)
            else:
                assert series.name in NON_NEGATIVE, (widget.title, series)
