"""The monitoring spec: the worked example loads, and every mistake is reported with its place."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from modelwatch.spec import SpecError, load_spec, parse_spec
from tests.conftest import ROOT


def test_demo_spec_loads_with_the_seed_rules(demo_spec):
    assert demo_spec.numeric_features == ["age", "income", "score"]
    assert demo_spec.categorical_features == ["category", "region"]
    assert demo_spec.columns.target == "label"
    alerts = {a.name: a for a in demo_spec.alerts}
    latency = alerts["HighPredictionLatency"]
    assert (latency.statistic, latency.threshold, latency.period_seconds * latency.evaluation_periods) == (
        "p95",
        500,
        300,
    )
    confidence = alerts["LowPredictionConfidence"]
    assert (confidence.statistic, confidence.threshold, confidence.period_seconds * confidence.evaluation_periods) == (
        "p50",
        0.6,
        900,
    )
    errors = alerts["HighServerErrorRate"]
    assert (errors.metric, errors.threshold, errors.period_seconds * errors.evaluation_periods) == (
        "Api5xxRate",
        5,
        120,
    )
    assert demo_spec.retraining.schedule == "cron(0 2 ? * MON *)"
    assert demo_spec.retraining.new_labeled_rows == 10_000
    assert demo_spec.retraining.performance.below == 0.80
    assert demo_spec.retraining.drift.above == 0.3


def _document() -> dict:
    return tomllib.loads((ROOT / "monitoring.toml").read_text())


def _problems(document: dict) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(document, "spec.toml")
    return caught.value.problems


def test_every_problem_is_reported_with_file_and_key():
    document = _document()
    document["features"]["age"]["min"] = 200  # above max
    document["features"]["region"]["colour"] = "red"  # unknown key
    document["drift"]["p_value_threshold"] = 2
    document["alerts"][0]["statistic"] = "median"
    problems = _problems(document)
    assert len(problems) == 4, problems
    joined = "\n".join(problems)
    assert "spec.toml: features.age: min (200.0) is greater than max (100.0)" in joined
    assert "spec.toml: features.region.colour: Extra inputs are not permitted" in joined
    assert "spec.toml: drift.p_value_threshold:" in joined
    assert "spec.toml: alerts[0].statistic:" in joined


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["features"]["age"].update(drift={"method": "chisquare"}), "does not apply to a numeric feature"),
        (lambda d: d["features"]["age"].update(type="text"), "features.age"),
        (lambda d: d["alerts"][0].update(metric="Latency"), "unknown metric 'Latency'"),
        (lambda d: d["retraining"].update(schedule="every monday"), "cron expression"),
        (lambda d: d["retraining"].update(window="2h"), "retraining: window '2h' is not in drift.windows"),
        (lambda d: d["retraining"].update(holdout_share=1.5), "holdout_share"),
        (lambda d: d["columns"].update(target="age"), "also listed as a feature"),
        (lambda d: d.pop("features"), "features: Field required"),
    ],
)
def test_specific_mistakes(change, expected):
    document = _document()
    change(document)
    assert expected in "\n".join(_problems(document))


def test_unreadable_and_malformed_files(tmp_path: Path):
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\nname = 1")
    with pytest.raises(SpecError, match=r"broken.toml: not valid TOML: .*line 1"):
        load_spec(broken)


def test_feature_override_falls_back_to_type_defaults():
    document = _document()
    document["drift"]["numeric"] = {"method": "psi", "threshold": 0.2}
    document["features"]["age"]["drift"] = {"threshold": 0.25}
    spec = parse_spec(document)
    assert spec.feature_drift("age").method.value == "psi"
    assert spec.feature_drift("age").threshold == 0.25
    assert spec.feature_drift("income").threshold == 0.2
    assert spec.feature_drift("region").method.value == "jensenshannon"


def test_a_spec_error_survives_a_trip_to_a_worker_process():
    """Profiling runs in worker processes: an error raised there is pickled back to the parent,
    which must print it as the one-line error it is, not a broken process pool."""
    import pickle

    from modelwatch.spec.loader import SpecError

    error = pickle.loads(pickle.dumps(SpecError("m.toml", ["m.toml: features: a", "m.toml: columns: b"])))
    assert isinstance(error, SpecError) and error.problems == ["m.toml: features: a", "m.toml: columns: b"]
    assert str(error) == "invalid monitoring spec: m.toml: features: a | m.toml: columns: b"
