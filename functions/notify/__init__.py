"""Notify: CloudWatch alarm notifications from SNS to Slack."""
