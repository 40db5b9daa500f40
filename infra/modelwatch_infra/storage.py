"""Buckets and the model pointer: private, encrypted, TLS-only, access-logged, with lifecycles."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secrets
from constructs import Construct

from modelwatch.catalog import delivery, layout
from modelwatch.registry import stack_outputs
from modelwatch_infra.settings import DeploymentSettings


def _lifecycle(area: layout.Area, settings: DeploymentSettings) -> list[s3.LifecycleRule]:
    """An area's age limit, for its current and its older versions, and storage-class move, as
    the layout catalogue declares them."""
    rules = []
    expiry = area.expiry(settings.retention_days(area.retention_setting) if area.retention_setting else None)
    if expiry is not None:
        current, noncurrent = expiry
        rules.append(
            s3.LifecycleRule(
                id=area.name,
                prefix=area.prefix,
                expiration=cdk.Duration.days(current),
                noncurrent_version_expiration=cdk.Duration.days(noncurrent),
            )
        )
    if area.infrequent_access_after_days is not None:
        after = cdk.Duration.days(area.infrequent_access_after_days)
        rules.append(
            s3.LifecycleRule(
                id=f"infrequent-{area.name}",
                prefix=area.prefix,
                transitions=[s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=after)],
            )
        )
    return rules


def _private_bucket(
    scope: Construct, name: str, logs: s3.IBucket | None, key: kms.IKey | None = None, **extra
) -> s3.Bucket:
    """`key`: SSE-KMS with it (bucket keys on: S3 asks KMS once per bucket key, not per object);
    without, S3-managed keys (the access logs' bucket must be: S3 cannot log to SSE-KMS)."""
    encryption = (
        {"encryption": s3.BucketEncryption.KMS, "encryption_key": key, "bucket_key_enabled": True}
        if key is not None
        else {"encryption": s3.BucketEncryption.S3_MANAGED}
    )
    return s3.Bucket(
        scope,
        name,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        **encryption,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=logs,
        server_access_logs_prefix=f"{name.lower()}/" if logs else None,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        **extra,
    )


@dataclass(frozen=True)
class ModelPointer:
    """The SSM parameter holding the served version: its name and ARN (granted by ARN)."""

    parameter_name: str
    parameter_arn: str


class Storage(Construct):
    """The data bucket (capture, profiles, labels, reports), the model registry and its pointer.
    The data bucket holds inputs: it is encrypted with `inputs_key`, the stack's key for what holds
    raw inputs (the roles' grants on it come from modelwatch.catalog.permissions)."""

    def __init__(self, scope: Construct, id: str, settings: DeploymentSettings, inputs_key: kms.IKey) -> None:
        super().__init__(scope, id)
        self.access_logs = _private_bucket(
            self,
            "AccessLogs",
            None,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=cdk.Duration.days(365), noncurrent_version_expiration=cdk.Duration.days(30))
            ],
        )
        self.data_key = inputs_key
        self.data = _private_bucket(
            self,
            "Data",
            self.access_logs,
            inputs_key,
            lifecycle_rules=[
                *(rule for area in layout.DATA_AREAS for rule in _lifecycle(area, settings)),
                # Older versions of what no area rule covers (an area kept until deleted).
                s3.LifecycleRule(
                    id="old-versions", noncurrent_version_expiration=cdk.Duration.days(layout.NONCURRENT_DAYS)
                ),
            ],
        )
        if settings.model_bucket_name:
            self.models: s3.IBucket = s3.Bucket.from_bucket_name(self, "Models", settings.model_bucket_name)
        else:
            self.models = _private_bucket(
                self,
                "Models",
                self.access_logs,
                lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(90))],
            )
            # Published versions are write-once: a write to the registry must be conditional
            # (If-None-Match: *), which S3 refuses when the object exists. (An imported bucket
            # keeps its owner's policy: add this statement there.)
            self.models.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="RegistryVersionsAreWriteOnce",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["s3:PutObject"],
                    resources=[self.models.arn_for_objects(f"{settings.model_prefix}*")],
                    conditions={"Null": {"s3:if-none-match": "true"}},
                )
            )
        # The model pointer is not a stack resource: CloudFormation would write its template
        # value over the promoted version whenever the resource changed (the API would answer
        # 503). `modelwatch promote` creates and moves it; until then the API answers 503.
        name = f"/{settings.stack_name}/current-model"
        arn = cdk.Stack.of(self).format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))
        self.pointer = ModelPointer(name, arn)
        # Where `modelwatch publish --stack NAME` finds the registry (fixed keys, not CDK's hashed ids).
        for key, value in (
            (stack_outputs.MODEL_BUCKET, self.models.bucket_name),
            (stack_outputs.MODEL_PREFIX, settings.model_prefix),
            (stack_outputs.POINTER_PARAMETER, self.pointer.parameter_name),
        ):
            cdk.CfnOutput(self, key, value=value).override_logical_id(key)


def logs_key(scope: Construct, id: str, description: str) -> kms.Key:
    """A customer-managed key of its own for this account's log groups (context separateInputsKey)."""
    key = kms.Key(scope, id, enable_key_rotation=True, description=description)
    allow_log_groups(key)
    return key


def allow_log_groups(key: kms.Key) -> None:
    """Lets CloudWatch Logs use `key` for this account's log groups (modelwatch.catalog.delivery)."""
    stack = cdk.Stack.of(key)
    statement = delivery.logs_key_statement(partition=stack.partition, region=stack.region, account=stack.account)
    key.add_to_resource_policy(iam.PolicyStatement.from_json(statement))


def pseudonym_secret(scope: Construct, settings: DeploymentSettings, key: kms.IKey) -> secrets.Secret | None:
    """The key sensitive features are hashed with (modelwatch.serving.pseudonyms), generated at
    deploy time and never shown; only when the spec hashes a feature. Encrypted with the inputs'
    key, like everything else that could reveal inputs."""
    if "hash" not in settings.spec.sensitive_features.values():
        return None
    return _generated_key(scope, "PseudonymKey", "HMAC key for the sensitive features' pseudonyms", key)


def request_id_secret(scope: Construct, key: kms.IKey) -> secrets.Secret:
    """The key request ids are signed with (modelwatch.serving.request_ids): generated at deploy
    time and never shown; predict signs with it, feedback checks. Encrypted with the inputs' key:
    whoever could read it could make ids that feedback accepts."""
    return _generated_key(scope, "RequestIdKey", "HMAC key request ids are signed with", key)


def _generated_key(scope: Construct, id: str, purpose: str, key: kms.IKey) -> secrets.Secret:
    """A secret Secrets Manager generates at deploy time (64 letters and digits), encrypted with
    `key`: nobody ever sees or types it."""
    return secrets.Secret(
        scope,
        id,
        description=f"ModelWatch: {purpose}",
        encryption_key=key,
        generate_secret_string=secrets.SecretStringGenerator(password_length=64, exclude_punctuation=True),
    )
