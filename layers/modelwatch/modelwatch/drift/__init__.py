"""Drift analysis: method choice, thresholds, corrections and the dataset verdict."""

from modelwatch.drift.engine import analyze
from modelwatch.drift.results import ColumnDrift, DriftReport

__all__ = ["ColumnDrift", "DriftReport", "analyze"]
