"""Monitoring over time: partial profiles of capture objects, windows of hours, label joins."""
