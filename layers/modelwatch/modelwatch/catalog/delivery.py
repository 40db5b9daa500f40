"""Who may deliver to the alerting path's topics, and use the stack's key, declared once: the CDK
stack writes these statements into the topics' policies and the key's policy, and the local
runtime attaches the same statements to its topics and key and evaluates them on every publish
and dead-letter send.

The notices topic carries what the notifier rendered (one notice per incident state) to the email
subscriptions; the alerts topic carries the alarms' and retraining's raw messages to the notifier
only. No alarm may publish on the notices topic (its raw messages would reach email again).

A topic policy replaces SNS's default policy, which is what lets same-account sources publish:
so a topic with a policy must name every service that publishes to it. CloudWatch alarms
publish as the service principal, limited here to this account and to this stack's alarms
("Using Amazon SNS topic policies with CloudWatch alarms": aws:SourceArn, aws:SourceAccount)."""

from __future__ import annotations

from typing import Any

ALARM_PUBLISHER = "cloudwatch.amazonaws.com"
# The state machines the stack deploys, each alarmed on its failed executions (operations topic).
STATE_MACHINES = ("backfill", "retraining")
# The dead-letter queue of the EventBridge targets that start retraining (schedule, alarm trigger).
RETRAINING_START_DEAD_LETTERS = "retraining-start"
# The dead-letter queue of the drift schedule's target (the drift function).
DRIFT_SCHEDULE_DEAD_LETTERS = "drift-schedule"
# What CloudWatch needs of a KMS-encrypted topic's key to publish to it.
ALARM_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
# What CloudWatch Logs needs of the key of a log group it encrypts ("Encrypt log data in
# CloudWatch Logs using AWS Key Management Service").
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


def alarm_arns(partition: str, region: str, account: str, stack_name: str) -> str:
    """Every alarm of the stack: alarm names start with the stack's name (modelwatch_infra.alerting)."""
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{stack_name}-*"


def alarm_publish_statement(
    topic_arn: str, *, partition: str, region: str, account: str, stack_name: str
) -> dict[str, Any]:
    """The topic policy's statement that lets the stack's alarms publish."""
    return {
        "Sid": "AlarmsOfThisStackPublish",
        "Effect": "Allow",
        "Principal": {"Service": ALARM_PUBLISHER},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": alarm_arns(partition, region, account, stack_name)},
        },
    }


def tls_only_statement(topic_arn: str) -> dict[str, Any]:
    """The Deny CDK's enforce_ssl writes: no publish over plain HTTP."""
    return {
        "Sid": "AllowPublishThroughSSLOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def notices_topic_statements(topic_arn: str) -> list[dict[str, Any]]:
    """The notices topic's policy: TLS only, and no statement for CloudWatch, so no alarm can
    publish there. The notifier publishes with its role (same account: its role's sns:Publish and
    the topic key's account statement suffice, modelwatch.catalog.permissions)."""
    return [tls_only_statement(topic_arn)]


def alarm_key_statement() -> dict[str, Any]:
    """The topic key's policy statement that lets CloudWatch encrypt what its alarms publish (as
    AWS's example for alarms on an encrypted topic writes it: no condition, since the key is
    used only through the topic, whose policy holds the alarm conditions)."""
    return {
        "Sid": "AlarmsEncryptTheirNotices",
        "Effect": "Allow",
        "Principal": {"Service": ALARM_PUBLISHER},
        "Action": list(ALARM_KEY_ACTIONS),
        "Resource": "*",
    }


def logs_key_statement(*, partition: str, region: str, account: str) -> dict[str, Any]:
    """The key policy's statement that lets CloudWatch Logs use the key for this account's log
    groups (the inputs' log groups), as AWS's page writes it: the region's logs service principal,
    limited by the encryption context to log groups of this account. The stack's one key holds it
    beside the alarms' statement (context separateInputsKey: a key of its own)."""
    return {
        "Sid": "LogsEncryptThisAccountsLogGroups",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": list(LOGS_KEY_ACTIONS),
        "Resource": "*",  # in a key policy, "*" is this key
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:*"}},
    }


def account_key_statement(*, partition: str, account: str) -> dict[str, Any]:
    """A key's default statement: the account may use it through IAM (KMS's default key policy)."""
    return {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
