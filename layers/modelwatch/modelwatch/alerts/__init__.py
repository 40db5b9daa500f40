"""Alerts: CloudWatch alarm notifications read and rendered for people."""
