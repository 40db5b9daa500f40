"""Drift statistics on profiles; each returns a result with its statistic and p-value."""
