"""drift.json documents with segments, made by the real code path (profiles per segment value,
analyze_segments, report_document) so tests of what reads them break when the format changes."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from modelwatch.drift import analyze
from modelwatch.profiles import ProfileSchema
from modelwatch.profiles.segmented import SegmentedProfileBuilder
from modelwatch.report import report_document
from modelwatch.segments.verdicts import analyze_segments
from modelwatch.spec import parse_spec

REGIONS = np.array(["eu", "us", "asia"], dtype=object)
WINDOW = {"window": "1d", "window_start": "2026-12-01T00:00:00+00:00", "window_end": "2026-12-02T00:00:00+00:00"}


def _rows(seed: int, rows: int, shift: float, unseen_rows: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    region = REGIONS[rng.choice(3, size=rows, p=[0.6, 0.3, 0.1])]
    # A region the reference never had: its rows are "other", which has no reference slice.
    region[:unseen_rows] = "mars"
    x1 = rng.normal(size=rows)
    x1[region == "asia"] += shift  # the shift only one segment holds
    return {"x1": x1, "x2": rng.normal(size=rows), "region": region, "app": np.full(rows, "ios", dtype=object)}


def segment_drift_document(shift: float = 1.0, rows: int = 20_000, unseen_rows: int = 400) -> dict[str, Any]:
    """A window where x1 moves by `shift` σ in region asia only (10% of the rows), with
    `unseen_rows` rows from a region the reference never had, as drift.json carries it."""
    spec = parse_spec(
        {
            "model": {"name": "segments"},
            "features": {
                "x1": {"type": "numeric"},
                "x2": {"type": "numeric"},
                "region": {"type": "categorical"},
                "app": {"type": "categorical"},
            },
            "drift": {"multivariate": {"pca_reconstruction": False, "domain_classifier": False}},
            "segments": [{"name": "by_region", "by": ["region"], "max_values": 20}],
        }
    )
    schema = ProfileSchema.from_spec(spec)
    reference = SegmentedProfileBuilder(schema, spec.segments)
    reference.add(_rows(1, rows, 0.0, 0))
    baseline = reference.result()
    window = SegmentedProfileBuilder(schema, spec.segments, baseline.cut(spec))
    window.add(_rows(2, rows, shift, unseen_rows))
    current = window.result()
    report = analyze(spec, baseline.whole, current.whole)
    report = dataclasses.replace(report, segments=analyze_segments(spec, baseline, current))
    return report_document(report, WINDOW)
