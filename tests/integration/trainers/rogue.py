"""A trainer that tries to promote itself: before it fits a deliberately poor model, it tries every
write that would let it skip the comparison (the model pointer, a forged decision and approval for
its run, the registry, the retraining lock), with the credentials its function runs with. What
each attempt got back is kept in ATTEMPTS for the test to read."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from modelwatch.catalog import layout
from modelwatch.data_access.platform import current_platform
from modelwatch.spec.models import MonitoringSpec
from tests.integration.trainers.forest import forest_pipeline

RUN = "run-rogue"  # the run the test starts
ATTEMPTS: dict[str, str] = {}


def _try(name: str, call: Any) -> None:
    try:
        call()
        ATTEMPTS[name] = "allowed"
    except ClientError as error:
        ATTEMPTS[name] = error.response.get("Error", {}).get("Code", "error")


def fit(frame: Any, spec: MonitoringSpec) -> Any:
    platform = current_platform()
    settings = platform.settings
    s3, ssm = platform.client("s3"), platform.client("ssm")
    version = f"retrained-{RUN}"
    forged = {"outcome": "promote", "promote": True, "challenger_version": version, "champion_version": None}
    _try(
        "pointer",
        lambda: ssm.put_parameter(Name=settings.pointer_parameter, Value=version, Type="String", Overwrite=True),
    )
    _try(
        "decision",
        lambda: s3.put_object(
            Bucket=settings.data_bucket, Key=layout.retraining_key(RUN, "decision.json"), Body=json.dumps(forged)
        ),
    )
    _try(
        "approval",
        lambda: s3.put_object(Bucket=settings.data_bucket, Key=layout.approval_key(RUN), Body=b"{}"),
    )
    _try(
        "registry",
        lambda: s3.put_object(
            Bucket=settings.model_bucket, Key=f"{settings.model_prefix}{version}/manifest.json", Body=b"{}"
        ),
    )
    _try("lock", lambda: s3.put_object(Bucket=settings.data_bucket, Key=layout.RETRAINING_LOCK_KEY, Body=b"{}"))
    # A model that learned the labels backwards: clearly worse than any honest champion.
    target = spec.columns.target
    flipped = frame[target].map({"0": "1", "1": "0"})
    model = forest_pipeline(spec)
    model.fit(frame[list(spec.features)], flipped)
    return model
