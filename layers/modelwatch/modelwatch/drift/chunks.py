"""Drift over time: each chunk of the current rows (profiles.chunking) checked against the
reference as a window of its own, by the same engine, so each chunk keeps the spec's false-flag
rate."""

from __future__ import annotations

from collections.abc import Callable

from modelwatch.drift.engine import analyze
from modelwatch.drift.results import ChunkedDrift, ChunkResult
from modelwatch.profiles.chunking import Chunk, ChunkPlan
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.spec.models import LOWER_IS_BETTER, MonitoringSpec


def analyze_chunks(
    spec: MonitoringSpec,
    reference: DatasetProfile,
    chunks: list[tuple[Chunk, DatasetProfile]],
    plan: ChunkPlan,
    done: Callable[[], object] = lambda: None,
) -> ChunkedDrift:
    """Each chunk analysed as a window of its own (`done` is called after each: progress)."""
    results = []
    for chunk, profile in chunks:
        results.append(ChunkResult(chunk, analyze(spec, reference, profile)))
        done()
    metric = spec.performance_metric
    return ChunkedDrift(
        plan,
        results,
        metric,
        spec.retraining.performance_tolerance,
        metric in LOWER_IS_BETTER,
        [chunk.label(plan) for chunk, _ in chunks],
    )
