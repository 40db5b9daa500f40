"""The resource policies moto holds for the local stack, read from its backends in this process
(no client call, so no call is itself judged): a topic's policy and its key's policy. The local
runtime's alarm actions and its enforcement judge with these, as AWS judges with its own."""

from __future__ import annotations

import json
from typing import Any


def key_policy(account: str, region: str, key: str) -> dict[str, Any] | None:
    """A customer managed key's policy; None for an AWS managed key (its service may use it)."""
    from moto.kms.models import kms_backends  # the local runtime's own dependency, loaded with moto

    found = kms_backends[account][region].describe_key(key)
    return None if found.key_manager == "AWS" else json.loads(found.policy)


def topic_policies(topic_arn: str) -> tuple[dict[str, Any], str, dict[str, Any] | None] | None:
    """(topic policy, its key, the key's policy or None) of a topic; None when there is no topic."""
    from moto.sns.models import sns_backends  # the local runtime's own dependency, loaded with moto

    _, _, _, region, account, _ = topic_arn.split(":", 5)
    topic = sns_backends[account][region].topics.get(topic_arn)
    if topic is None:
        return None
    key = topic.kms_master_key_id
    return json.loads(topic.policy), key, key_policy(account, region, key) if key else None


def bucket_key(bucket: str, account: str) -> str | None:
    """The customer managed key a bucket's default encryption names (SSE-KMS), or None."""
    from moto.s3.models import s3_backends  # the local runtime's own dependency, loaded with moto

    try:
        encryption = s3_backends[account]["aws"].get_bucket_encryption(bucket)
    except Exception:  # no such bucket (yet): nothing encrypts it
        return None
    rules = (encryption or {}).get("Rule") or []
    for rule in rules if isinstance(rules, list) else [rules]:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
            return str(default["KMSMasterKeyID"])
    return None
