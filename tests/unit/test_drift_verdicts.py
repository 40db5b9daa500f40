"""Drift verdicts you can trust at any window size (issue 12's acceptance suite).

Stable windows (skewed, heavy-tailed, tied numeric values, rare categories) of 30 to 100,000
rows against references of 1,000 and 50,000 rows: the dataset-drift false-alarm rate is at most
5% at every size (40 windows each), and a 0.5 sd mean shift in half the features is found in at
least 95% of windows of 1,000 rows and more. Profiles are built from arrays directly, so the
suite runs in CI in well under a minute.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.drift_scenarios import SHIFTED, counted, spec_document, window
from modelwatch.drift import analyze
from modelwatch.profiles import ProfileSchema, profile_batch
from modelwatch.spec import parse_spec

WINDOWS = 40
# The per-feature verdicts; multivariate methods are judged below, on fewer sizes (the classifier
# trains two models per window).
SPEC = parse_spec(spec_document(multivariate={"pca_reconstruction": False, "domain_classifier": False}))
SCHEMA = ProfileSchema.from_spec(SPEC)
MULTIVARIATE_SPEC = parse_spec(spec_document())


def _profile(rng: np.random.Generator, rows: int, shifted: tuple[str, ...] = ()):
    return profile_batch(SCHEMA, counted(window(rng, rows, shifted)))


@pytest.fixture(scope="module", params=[1000, 50_000], ids=lambda n: f"reference{n}")
def reference(request):
    return _profile(np.random.default_rng(request.param), request.param)


@pytest.mark.parametrize("rows", [30, 100, 300, 1000, 10_000, 100_000])
def test_stable_windows_raise_no_dataset_drift(reference, rows):
    rng = np.random.default_rng(rows)
    alarms = feature_alarms = judged = 0
    for _ in range(WINDOWS):
        report = analyze(SPEC, reference, _profile(rng, rows))
        if rows >= 100:
            assert report.dataset_drift is not None, "windows of 100 rows and more get a verdict"
        alarms += bool(report.dataset_drift)
        feature_alarms += len(report.drifted)
        judged += len(report.evaluated)
    assert alarms / WINDOWS <= 0.05
    # Each feature's own rate stays near its 5% level too (the dataset verdict alone would hide
    # a miscalibrated feature behind the 50% share).
    assert feature_alarms / judged <= 0.10


@pytest.mark.parametrize("rows", [1000, 10_000, 100_000])
def test_half_sigma_shift_in_half_the_features_is_found(reference, rows):
    rng = np.random.default_rng(rows + 1)
    windows = WINDOWS if rows < 100_000 else 20
    found = sum(bool(analyze(SPEC, reference, _profile(rng, rows, SHIFTED)).dataset_drift) for _ in range(windows))
    assert found / windows >= 0.95


def test_default_dataset_share_is_one_half():
    assert SPEC.drift.dataset_drift_share == 0.5 and SPEC.drift.rule == "size-aware"


@pytest.mark.parametrize("reference_rows", [1000, 50_000])
def test_stable_windows_raise_few_multivariate_alarms(reference_rows):
    # Eight references with ten windows each (300 to 5,000 rows): the methods hold their 5% over
    # references; windows against one fixed reference share its luck (0% to 20% measured,
    # depending on the draw). 80 windows at a true 5%: more than 8 alarms 2% of the time.
    alarms = {"pca_reconstruction": 0, "domain_classifier": 0}
    for seed in range(8):
        rng = np.random.default_rng([reference_rows, seed])
        reference = _profile(rng, reference_rows)
        for rows in (300, 1000, 5000, 300, 1000, 5000, 300, 1000, 5000, 2000):
            for result in analyze(MULTIVARIATE_SPEC, reference, _profile(rng, rows)).multivariate:
                assert result.status == "ok"
                alarms[result.method] += bool(result.drifted)
    assert all(count <= 8 for count in alarms.values()), alarms
