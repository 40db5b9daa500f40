"""The HTTP API: POST /predict and POST /feedback, IAM authorization by default (JWT as an
option), throttling, and JSON access logs."""

from __future__ import annotations

import json

import jsii
from aws_cdk import aws_apigateway as rest
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from modelwatch_infra.functions import vended_log_group
from modelwatch_infra.settings import DeploymentSettings

ACCESS_LOG_FIELDS = {
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


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigw.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> rest.AccessLogFormat:
        return rest.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


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
            access_log_settings=_AccessLogs(self.access_logs),
            # Per-route metrics are billed as custom metrics (six per route): off unless asked for;
            # the API's own Count, 4xx, 5xx and Latency stay, and the 5xx alarm reads those.
            detailed_metrics_enabled=settings.api_detailed_metrics,
        )
        for path, function in routes.items():
            self.http_api.add_routes(
                path=path,
                methods=[apigw.HttpMethod.POST],
                integration=integrations.HttpLambdaIntegration(f"{path.strip('/').capitalize()}Integration", function),
            )
