"""Capture: CloudWatch Logs subscription -> JSON-lines objects in S3."""
