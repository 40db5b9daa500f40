"""The HTTP API: POST /predict and POST /feedback, IAM authorization by default (JWT as an
option), each route authorized apart (a managed policy per route's callers with IAM, a scope per
route with JWT), throttling, and JSON access logs."""

from __future__ import annotations

import json

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as rest
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from modelwatch.catalog.functions import API_ROUTES
from modelwatch.registry import stack_outputs
from modelwatch_infra.functions import vended_log_group
from modelwatch_infra.settings import DeploymentSettings

# The access log is the only record of a request the functions never saw: refused by the
# authorizer, throttled by the stage, or failed in the integration (a Lambda throttle, timeout or
# crash, answered 5xx by API Gateway). "lean" (the default) keeps what answers who, what, when and
# why for those; every count and latency is a free API Gateway metric (Count, 4xx, 5xx, Latency),
# and a request that reached a function is in that function's own log. cdk-nag's AwsSolutions-APIG1
# asks only that access logging is on, with a format.
LEAN_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",  # the caller's apigw-requestid header: a support ticket's key
    "time": "$context.requestTimeEpoch",  # milliseconds since the epoch (a third of requestTime's length)
    "ip": "$context.identity.sourceIp",  # who was refused, when no identity was accepted
    "caller": "$context.identity.caller",  # the SigV4 caller (apiAuth=iam)
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationError": "$context.integrationErrorMessage",  # why a 5xx the function did not answer
}
# context accessLogFields=full: the fields the access log had before, for teams whose tooling reads them.
FULL_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latency": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
}
ACCESS_LOG_FIELDS = {"lean": LEAN_ACCESS_LOG_FIELDS, "full": FULL_ACCESS_LOG_FIELDS}


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, log_group: logs.ILogGroup, fields: dict[str, str]) -> None:
        self._destination = apigw.LogGroupLogDestination(log_group)
        self._fields = fields

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> rest.AccessLogFormat:
        return rest.AccessLogFormat.custom(json.dumps(self._fields, separators=(",", ":")))


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        settings: DeploymentSettings,
        routes: dict[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, id)
        if settings.api_auth == "jwt":
            authorizer: apigw.IHttpRouteAuthorizer = authorizers.HttpJwtAuthorizer(
                "Jwt", settings.jwt_issuer, jwt_audience=settings.jwt_audience
            )
        else:
            authorizer = authorizers.HttpIamAuthorizer()
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            api_name=f"{settings.stack_name}-api",
            create_default_stage=False,
            default_authorizer=authorizer,
        )
        self.access_logs = vended_log_group(self, "AccessLogs", "apigateway", f"{settings.stack_name}-api-access")
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=settings.throttle_rate, burst_limit=settings.throttle_burst),
            access_log_settings=_AccessLogs(self.access_logs, ACCESS_LOG_FIELDS[settings.access_log_fields]),
            # Per-route metrics are billed as custom metrics (six per route): off unless asked for;
            # the API's own Count, 4xx, 5xx and Latency stay, and the 5xx alarm reads those.
            detailed_metrics_enabled=settings.api_detailed_metrics,
        )
        self.callers: dict[str, iam.ManagedPolicy] = {}
        for path, function in routes.items():
            name = API_ROUTES[path].name
            scope = settings.jwt_scopes.get(name, "") if settings.api_auth == "jwt" else ""
            self.http_api.add_routes(
                path=path,
                methods=[apigw.HttpMethod.POST],
                integration=integrations.HttpLambdaIntegration(f"{path.strip('/').capitalize()}Integration", function),
                authorization_scopes=[scope] if scope else None,
            )
            if settings.api_auth == "iam":
                self.callers[name] = self._callers_policy(name, path)

    def _callers_policy(self, name: str, path: str) -> iam.ManagedPolicy:
        """What a caller of one route needs (apiAuth=iam), to attach to that route's clients only:
        POST on that route of this API's stage, nothing else (a client that may predict cannot
        send labels, and a labelling job cannot predict)."""
        stack = cdk.Stack.of(self)
        route = stack.format_arn(
            service="execute-api",
            resource=self.http_api.api_id,
            resource_name=f"{self.stage.stage_name}/POST{path}",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        policy = iam.ManagedPolicy(
            self,
            f"{name.capitalize()}Callers",
            description=f"ModelWatch: call POST {path}",
            statements=[iam.PolicyStatement(actions=["execute-api:Invoke"], resources=[route])],
        )
        output = stack_outputs.callers_policy(name)
        cdk.CfnOutput(self, output, value=policy.managed_policy_arn).override_logical_id(output)
        return policy
