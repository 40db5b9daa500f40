"""What a function reads from its environment, validated when it starts: every variable the
function catalogue gives it must be there (no silent production defaults), and a missing or
empty one stops the cold start with a message naming it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelwatch.catalog import functions as catalog


class SettingsError(RuntimeError):
    """A function's environment is missing a variable or has a bad value."""


class Settings(BaseModel):
    """Every function: its spec, the data bucket, and the model registry."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    spec_path: str = Field(alias=catalog.SPEC_FILE, min_length=1)
    data_bucket: str = Field(alias=catalog.DATA_BUCKET, min_length=3)
    model_bucket: str = Field(alias=catalog.MODEL_BUCKET, min_length=3)
    model_prefix: str = Field(alias=catalog.MODEL_PREFIX, pattern=r"^([^/].*/)?$")
    pointer_parameter: str = Field(alias=catalog.POINTER_PARAMETER, pattern=r"^/")
    region: str = Field(alias="AWS_REGION", min_length=1)  # set by Lambda itself
    # Off only to measure what monitoring costs (benchmarks): no metrics, no capture.
    monitoring: bool = Field(default=True, alias="MODELWATCH_MONITORING")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Self:
        values = {key: environ[key] for key in environ if key.startswith("MODELWATCH_") or key == "AWS_REGION"}
        if values.get("MODELWATCH_MONITORING", "").lower() == "off":
            values["MODELWATCH_MONITORING"] = "false"
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)
            )
            raise SettingsError(f"{cls.__name__}: environment: {problems}") from None


class NotifySettings(Settings):
    """The notifier: the notices topic email subscribes to, where the Slack webhook is kept (empty:
    Slack is not configured, and notices go by email only), and the dashboard its notices link to."""

    notices_topic: str = Field(alias=catalog.NOTICES_TOPIC, pattern=r"^arn:[^:]+:sns:")
    slack_secret: str = Field(alias=catalog.SLACK_SECRET)
    dashboard_name: str = Field(alias=catalog.DASHBOARD_NAME, min_length=1)
    # The first retry's wait; each next one doubles it (tests shorten it).
    backoff_seconds: float = Field(default=0.5, alias="MODELWATCH_NOTIFY_BACKOFF_SECONDS", ge=0, le=10)
    # How long one post waits for Slack's answer (tests shorten it).
    timeout_seconds: float = Field(default=5.0, alias="MODELWATCH_NOTIFY_TIMEOUT_SECONDS", gt=0, le=15)
