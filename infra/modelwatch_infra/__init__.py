"""Deployment: Lambda packages built locally (no Docker) and the CDK app's constructs."""
