"""What infra teams set through CDK context (`cdk deploy -c key=value`), with the defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk

from modelwatch.catalog.functions import API_ROUTES
from modelwatch.catalog.layout import DEFAULT_MODEL_PREFIX
from modelwatch.spec import MonitoringSpec, load_spec
from modelwatch_infra.bundling import ROOT

DEFAULTS: dict[str, str] = {
    "stackName": "ModelWatch",
    "spec": "monitoring.toml",  # the monitoring spec, relative to the repo
    "alertEmails": "",  # comma-separated addresses subscribed to the alerts topic
    "slackSecretName": "modelwatch/slack-webhook",  # Secrets Manager: the webhook URL, or {"webhook_url": ...}
    "modelBucketName": "",  # an existing bucket for the model registry; empty: the stack creates one
    "modelPrefix": DEFAULT_MODEL_PREFIX,
    "apiAuth": "iam",  # iam | jwt
    "jwtIssuer": "",
    "jwtAudience": "",
    # apiAuth=jwt: the scope a token needs on each route (empty: any valid token), so /feedback
    # can be authorized apart from /predict.
    **{f"jwt{f.name.capitalize()}Scope": "" for f in API_ROUTES.values()},
    "captureRetentionDays": "90",
    "logRetentionDays": "30",
    "throttleRate": "100",  # requests per second, steady
    "throttleBurst": "200",
    "architecture": "arm64",  # arm64 | x86_64
    "snapStart": "true",  # SnapStart for the predict function (not offered in every region)
    "tracing": "false",  # X-Ray on the API path's functions (billed per trace)
    "traceBackground": "false",  # X-Ray on the other functions and the state machines (billed per trace)
    "apiDetailedMetrics": "false",  # per-route API metrics (billed as custom metrics)
    # Errors and throttles alarms on every function, beside the alarms that already cover each
    # function's failures (the API's 5xx rate, dead letters, failed executions: modelwatch.alerts.plan).
    "alarmEachFunction": "false",
    # A second customer-managed key for what holds raw inputs, apart from the alerting topics' key.
    "separateInputsKey": "false",
    # Lambda's own START, END and REPORT lines (its Text log format): off, the JSON format at
    # system log level WARN drops them (modelwatch_infra.functions.logging_config).
    "lambdaPlatformLogs": "false",
    # The HTTP API's access log fields: "lean" (what someone reads) or "full" (modelwatch_infra.api).
    "accessLogFields": "lean",
    # The retrain image's extra requirements for the team's trainer, relative to the repo; empty:
    # the spec's [retraining] trainer_requirements (relative to the spec), if any.
    "trainerRequirements": "",
}


@dataclass(frozen=True)
class DeploymentSettings:
    stack_name: str
    spec_path: Path
    spec: MonitoringSpec
    alert_emails: list[str]
    slack_secret_name: str
    model_bucket_name: str | None
    model_prefix: str
    api_auth: str
    jwt_issuer: str
    jwt_audience: list[str]
    jwt_scopes: dict[str, str]  # route function name -> the scope its tokens need ("" none)
    capture_retention_days: int
    log_retention_days: int
    throttle_rate: float
    throttle_burst: int
    architecture: str
    snap_start: bool
    tracing: bool = False
    trace_background: bool = False
    api_detailed_metrics: bool = False
    alarm_each_function: bool = False
    separate_inputs_key: bool = False
    lambda_platform_logs: bool = False
    access_log_fields: str = "lean"
    trainer_requirements: Path | None = None

    def retention_days(self, context_key: str) -> int:
        """The number of days a retention context setting (named by the layout catalogue) holds."""
        return {"captureRetentionDays": self.capture_retention_days}[context_key]

    @classmethod
    def from_context(cls, scope: cdk.App) -> DeploymentSettings:
        def get(key: str) -> str:
            value = scope.node.try_get_context(key)
            return DEFAULTS[key] if value is None else str(value)

        spec_path = (ROOT / get("spec")).resolve()
        auth = get("apiAuth").lower()
        if auth not in ("iam", "jwt"):
            raise ValueError(f"context apiAuth must be iam or jwt, not {auth!r}")
        if auth == "jwt" and not (get("jwtIssuer") and get("jwtAudience")):
            raise ValueError("apiAuth=jwt needs context jwtIssuer and jwtAudience")
        architecture = get("architecture")
        if architecture not in ("arm64", "x86_64"):
            raise ValueError(f"context architecture must be arm64 or x86_64, not {architecture!r}")
        if not [e for e in get("alertEmails").split(",") if e.strip()]:
            raise ValueError(
                "context alertEmails is required (-c alertEmails=oncall@example.com): when Slack is down, "
                "alerts about the alerting path itself reach on-call only by email"
            )
        flags = {}
        for key in (
            "snapStart",
            "tracing",
            "traceBackground",
            "apiDetailedMetrics",
            "alarmEachFunction",
            "separateInputsKey",
            "lambdaPlatformLogs",
        ):
            flags[key] = get(key).lower()
            if flags[key] not in ("true", "false"):
                raise ValueError(f"context {key} must be true or false, not {flags[key]!r}")
        access_log_fields = get("accessLogFields")
        if access_log_fields not in ("lean", "full"):
            raise ValueError(f"context accessLogFields must be lean or full, not {access_log_fields!r}")
        if scope.node.try_get_context("driftSchedule") is not None:
            raise ValueError(
                "context driftSchedule is no longer a setting: the drift check runs hourly (the function "
                "catalogue's cadence), which its alarms, capture accounting and cost model all assume"
            )
        spec = load_spec(spec_path)
        return cls(
            stack_name=get("stackName"),
            spec_path=spec_path,
            spec=spec,
            alert_emails=[e.strip() for e in get("alertEmails").split(",") if e.strip()],
            slack_secret_name=get("slackSecretName"),
            model_bucket_name=get("modelBucketName") or None,
            model_prefix=get("modelPrefix"),
            api_auth=auth,
            jwt_issuer=get("jwtIssuer"),
            jwt_audience=[a.strip() for a in get("jwtAudience").split(",") if a.strip()],
            jwt_scopes={f.name: get(f"jwt{f.name.capitalize()}Scope").strip() for f in API_ROUTES.values()},
            capture_retention_days=int(get("captureRetentionDays")),
            log_retention_days=int(get("logRetentionDays")),
            throttle_rate=float(get("throttleRate")),
            throttle_burst=int(get("throttleBurst")),
            architecture=architecture,
            snap_start=flags["snapStart"] == "true",
            tracing=flags["tracing"] == "true",
            trace_background=flags["traceBackground"] == "true",
            api_detailed_metrics=flags["apiDetailedMetrics"] == "true",
            alarm_each_function=flags["alarmEachFunction"] == "true",
            separate_inputs_key=flags["separateInputsKey"] == "true",
            lambda_platform_logs=flags["lambdaPlatformLogs"] == "true",
            access_log_fields=access_log_fields,
            trainer_requirements=trainer_requirements(get("trainerRequirements"), spec_path, spec),
        )


def trainer_requirements(context_value: str, spec_path: Path, spec: MonitoringSpec) -> Path | None:
    """The requirements file the retrain image installs for the team's trainer: context
    trainerRequirements (relative to the repo) over the spec's retraining.trainer_requirements
    (relative to the spec). A file that is not there is an error naming where it was set."""
    if context_value:
        path, where = (ROOT / context_value).resolve(), "context trainerRequirements"
    elif spec.retraining.trainer_requirements:
        path = (spec_path.parent / spec.retraining.trainer_requirements).resolve()
        where = f"{spec_path.name}: retraining.trainer_requirements"
    else:
        return None
    if not path.is_file():
        raise ValueError(f"{where}: {path} is not a file")
    return path
