"""Benchmarks: each prints its figures and a final ratio line."""
