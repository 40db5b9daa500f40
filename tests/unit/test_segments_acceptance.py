"""Issue 26's acceptance, at the level of profiles and verdicts (each window profiled once, in
one pass, into its whole profile and its segments' profiles; the baseline profiled once):

- a 0.5 sigma shift in one numeric feature, confined to a segment holding 5% of 100,000 current
  rows, is listed by that segment, and only that one, in at least 95% of 40 windows, while the
  whole window reports no drift for it (0.025 sigma there: below the effect size);
- on stable traffic with 50 segments, at most 5% of windows flag any segment (the family
  correction across segments x features).

The stable case holds the issue's line as written, at most 5 of 100 windows: the family's rate
is at most the spec's (measured on three references: 6 of 300 windows, 2%, with the bridge
null's 2,000 draws). Without the correction across segments, nearly every stable window would
flag one of its 153 checks."""

from __future__ import annotations

import numpy as np

from modelwatch.drift import analyze
from modelwatch.profiles import ProfileSchema
from modelwatch.profiles.segmented import SegmentedProfile, SegmentedProfileBuilder
from modelwatch.segments.verdicts import analyze_segments
from modelwatch.spec import parse_spec
from tests.unit.test_drift_verdicts import RATE, _at_most


def _spec(max_values: int):
    return parse_spec(
        {
            "model": {"name": "segments"},
            "features": {
                "x1": {"type": "numeric"},
                "x2": {"type": "numeric"},
                "region": {"type": "categorical"},
            },
            "drift": {"multivariate": {"pca_reconstruction": False, "domain_classifier": False}},
            "segments": [{"name": "by_region", "by": ["region"], "max_values": max_values}],
        }
    )


def _rows(rng: np.random.Generator, rows: int, shares: np.ndarray, shift: float = 0.0) -> dict[str, np.ndarray]:
    """Two standard normal features; `region` drawn with `shares` (r00, r01, ...); region r00's
    x1 moved by `shift` standard deviations."""
    names = np.array([f"r{i:02d}" for i in range(len(shares))], dtype=object)
    region = names[rng.choice(len(shares), size=rows, p=shares)]
    x1 = rng.normal(size=rows)
    x1[region == "r00"] += shift
    return {"x1": x1, "x2": rng.normal(size=rows), "region": region}


def _profiled(spec, rows: dict[str, np.ndarray], kept=None) -> SegmentedProfile:
    builder = SegmentedProfileBuilder(ProfileSchema.from_spec(spec), spec.segments, kept)
    builder.add(rows)
    return builder.result()


def test_a_shift_confined_to_a_5_percent_segment_is_found_there_and_only_there():
    spec = _spec(max_values=20)
    shares = np.full(20, 0.95 / 19)
    shares[0] = 0.05
    reference = _profiled(spec, _rows(np.random.default_rng(2600), 100_000, shares))
    windows, found, elsewhere, whole_flags = 40, 0, 0, 0
    for index in range(windows):
        rows = _rows(np.random.default_rng(2601 + index), 100_000, shares, shift=0.5)
        current = _profiled(spec, rows, reference.cut(spec))
        results = analyze_segments(spec, reference, current)
        listing = {result.values["region"] for result in results if "x1" in {f.name for f in result.report.drifted}}
        found += "r00" in listing
        elsewhere += bool(listing - {"r00"})
        whole = analyze(spec, reference.whole, current.whole)
        whole_flags += any(feature.name == "x1" and feature.drifted for feature in whole.features)
    print(f"segment r00 lists x1 in {found}/{windows} windows; another segment in {elsewhere}; whole {whole_flags}")
    assert found >= 0.95 * windows
    assert elsewhere <= _at_most(RATE, windows)
    assert whole_flags == 0


def test_stable_traffic_with_50_segments_rarely_flags_any_segment():
    spec = _spec(max_values=50)
    # 50 kept regions and 5 rare ones that fall in "other": 51 segment values, 2 features each.
    shares = np.concatenate([np.full(50, 0.98 / 50), np.full(5, 0.02 / 5)])
    reference = _profiled(spec, _rows(np.random.default_rng(2650), 500_000, shares))
    assert len(reference.segments["by_region"]) == 51
    windows, flagged = 100, 0
    for index in range(windows):
        current = _profiled(spec, _rows(np.random.default_rng(2700 + index), 50_000, shares), reference.cut(spec))
        flagged += any(result.drifted for result in analyze_segments(spec, reference, current))
    print(f"{flagged}/{windows} stable windows flag a segment")
    assert RATE == 0.05 and flagged <= RATE * windows
