"""A ModelWatch Lambda function, as the function catalogue (modelwatch.catalog.functions)
declares it: arm64 (or x86_64), Python 3.12, X-Ray when asked for, its own log group with
retention and the leanest logging that keeps every line someone reads, the monitoring spec beside
the code, a dead-letter queue when invoked asynchronously, and SnapStart behind a "live" alias
where cold starts reach users."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from modelwatch.catalog.functions import (
    ASYNC_RETRY_ATTEMPTS,
    CORE_LAYER,
    FUNCTIONS,
    SPEC_FILE,
    SPEC_NAME,
    FunctionDefinition,
)
from modelwatch.catalog.permissions import dead_letter_statements
from modelwatch_infra.assets import function_code, image_code, layer_code
from modelwatch_infra.settings import DeploymentSettings


def dead_letter_queue(scope: Construct, id: str, key: kms.IKey | None = None) -> sqs.Queue:
    """A dead-letter queue; with `key`, encrypted with the deployment's own key (inputs in it)."""
    return sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS if key is not None else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
    )


def layer_description(name: str) -> str:
    if name == CORE_LAYER:
        return "ModelWatch core library (layers/modelwatch)"
    return f"ModelWatch {name} dependencies (layers/requirements/{name}.txt)"


class Layers(Construct):
    def __init__(self, scope: Construct, id: str, settings: DeploymentSettings) -> None:
        super().__init__(scope, id)
        architecture = architecture_of(settings)
        self.by_name = {
            name: lambda_.LayerVersion(
                self,
                name.capitalize(),
                code=layer_code(name, settings.architecture),
                compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
                compatible_architectures=[architecture],
                description=layer_description(name),
            )
            for name in sorted({layer for f in FUNCTIONS.values() for layer in f.layers})
        }


def function_log_group(scope: Construct, settings: DeploymentSettings, key: kms.IKey | None) -> logs.LogGroup:
    """A function's own log group, with the deployment's retention; with `key`, encrypted with
    the deployment's own key (its lines carry inputs)."""
    return logs.LogGroup(
        scope,
        "Logs",
        retention=retention_days(settings.log_retention_days),
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


def vended_log_group(scope: Construct, id: str, service: str, name: str) -> logs.LogGroup:
    """A log group a service delivers to on the account's behalf (Step Functions' execution
    logs, API Gateway's access logs), named under /aws/vendedlogs/ as AWS asks: deliveries there
    need no statement in the account's CloudWatch Logs resource policy, which is capped at
    5,120 characters."""
    return logs.LogGroup(
        scope,
        id,
        log_group_name=f"/aws/vendedlogs/{service}/{name}",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


def own_log_writer(scope: Construct, log_group: logs.ILogGroup) -> iam.Role:
    """The function's role, allowed to write its own log group only: AWSLambdaBasicExecutionRole
    would let any function write any log group (and so forge capture lines into the predict
    function's, which the capture function stores)."""
    role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(
        iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn])
    )
    return role


def function_environment(definition: FunctionDefinition, values: dict[str, str]) -> dict[str, str]:
    """Exactly the variables the catalogue gives the function. Powertools' service and namespace
    are not among them: the handlers take both from the spec, the one place they are set."""
    values = {SPEC_FILE: f"/var/task/{SPEC_NAME}", **values}
    return {name: values[name] for name in definition.environment}


def tracing_of(definition: FunctionDefinition, settings: DeploymentSettings) -> lambda_.Tracing:
    """X-Ray records a function's invocations only when context asks for it (`tracing` on the
    request path, `traceBackground` elsewhere); otherwise the function passes traces through.
    X-Ray bills every trace it records, and Lambda samples active tracing at the default rule's
    rate (the first request each second, then 5%), which no setting lowers."""
    traced = settings.tracing if definition.on_request_path else settings.trace_background
    return lambda_.Tracing.ACTIVE if traced else lambda_.Tracing.PASS_THROUGH


def logging_config(settings: DeploymentSettings) -> dict[str, object]:
    """Lambda's advanced logging controls, unless context lambdaPlatformLogs keeps the Text format.

    JSON format at system log level WARN: Lambda's START, END and REPORT lines are INFO events
    ("Log-level filtering", Lambda Developer Guide) and are not logged, a third of a prediction's
    log bytes. What they carried that someone reads is kept elsewhere: duration and errors are
    Lambda's own metrics, and the dashboard's memory panel reads the prediction document's peak
    memory (modelwatch.catalog.metrics.PEAK_MEMORY_PROPERTY). What the functions print is not
    touched: Python's print output is sent as written under the JSON format ("Log and monitor
    Python Lambda functions"), so EMF documents stay extractable and capture lines keep matching
    `{ $.modelwatch_capture = 1 }`; a printed line without a "level" is INFO, which application
    level INFO passes (modelwatch_infra.log_guard refuses any level that would drop it).
    Powertools' Logger writes its own JSON with a "level" and follows Lambda's level
    (AWS_LAMBDA_LOG_LEVEL, INFO: Powertools' default too)."""
    if settings.lambda_platform_logs:
        return {}
    return {
        "logging_format": lambda_.LoggingFormat.JSON,
        "system_log_level_v2": lambda_.SystemLogLevel.WARN,
        "application_log_level_v2": lambda_.ApplicationLogLevel.INFO,
    }


def architecture_of(settings: DeploymentSettings) -> lambda_.Architecture:
    return lambda_.Architecture.ARM_64 if settings.architecture == "arm64" else lambda_.Architecture.X86_64


class ModelWatchFunction(Construct):
    """One function of the catalogue: a zip package on its layers, or a container image."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        definition: FunctionDefinition,
        settings: DeploymentSettings,
        layers: Layers,
        environment: dict[str, str],
        inputs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        name = definition.name
        snap_start = settings.snap_start and definition.snap_start
        key = inputs_key if definition.handles_inputs else None
        self.definition = definition
        self.log_group = function_log_group(self, settings, key)
        self.dead_letters = dead_letter_queue(self, "DeadLetters", key) if definition.asynchronous else None
        common = {
            "role": own_log_writer(self, self.log_group),
            "architecture": architecture_of(settings),
            "memory_size": definition.memory_mb,
            "timeout": cdk.Duration.seconds(definition.timeout_seconds),
            "tracing": tracing_of(definition, settings),
            "log_group": self.log_group,
            **logging_config(settings),
            "dead_letter_queue": self.dead_letters,
            "retry_attempts": ASYNC_RETRY_ATTEMPTS if definition.asynchronous else None,
            "environment": function_environment(definition, environment),
            "description": f"ModelWatch {name}: {definition.description}",
        }
        if not definition.layers:
            code = image_code(name, settings.spec_path, settings.architecture, settings.trainer_requirements)
            self.function: lambda_.Function = lambda_.DockerImageFunction(self, "Function", code=code, **common)
        else:
            self.function = lambda_.Function(
                self,
                "Function",
                runtime=lambda_.Runtime.PYTHON_3_12,
                handler=definition.handler,
                code=function_code(name, settings.spec_path),
                layers=[layers.by_name[name] for name in definition.layers],
                # SnapStart runs the init (imports, clients, model load) when a version is
                # published; cold starts then resume from that snapshot (published versions only).
                snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
                **common,
            )
        if self.dead_letters is not None and key is not None:
            # Lambda sends a failed event to the queue with the function's role; an SSE-KMS queue
            # also needs the key (the CDK's dead-letter wiring grants only sqs:SendMessage).
            for statement in dead_letter_statements(self.dead_letters.queue_arn, key.key_arn):
                self.function.add_to_role_policy(iam.PolicyStatement.from_json(statement))
        # What callers invoke: with SnapStart, the "live" alias of the version this deploy
        # published (every deploy that changes the function publishes and snapshots anew).
        self.entry: lambda_.IFunction = self.function
        if snap_start:
            self.entry = lambda_.Alias(self, "Live", alias_name="live", version=self.function.current_version)
            cdk.Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish", "the live alias publishes a version on every deploy"
            )


RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention_days(days: int) -> logs.RetentionDays:
    """The nearest retention CloudWatch Logs offers (the shorter one on a tie)."""
    return RETENTION[min(RETENTION, key=lambda d: (abs(d - days), d))]
