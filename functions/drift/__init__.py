"""Drift: the scheduled check of every window the spec names."""
