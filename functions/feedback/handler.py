"""POST /feedback: delayed ground truth and business outcomes, one item or a batch.

Each piece is a log line, delivered to S3 in batches by the same Logs subscription as captures
(no S3 call per label). A label whose request id ModelWatch did not issue (or whose capture has
not landed yet) is accepted and counted.
"""

# No `from __future__ import annotations`: Powertools reads the route's parameter types at
# import to find the body model, and string annotations would hide it.
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from functions.shared.api import error_response, quarantine, resolve_checked, write_capture
from functions.shared.emit import add_metric
from functions.shared.tracing import TRACED_MODULES
from modelwatch.catalog import metrics as catalog
from modelwatch.data_access.platform import current_platform
from modelwatch.labels import label_of
from modelwatch.serving import capture
from modelwatch.serving.http import field_errors
from modelwatch.serving.request_ids import request_time
from modelwatch.serving.request_models import api_models, route_responses

SPEC = current_platform().spec
MODELS = api_models(SPEC)
FeedbackRequest = MODELS["FeedbackRequest"]
FeedbackResponse = MODELS["FeedbackResponse"]

logger = Logger(service=SPEC.metrics.service)
metrics = Metrics(namespace=SPEC.metrics.namespace, service=SPEC.metrics.service)
tracer = Tracer(service=SPEC.metrics.service, patch_modules=TRACED_MODULES)
app = APIGatewayHttpResolver(enable_validation=True)
ROUTE = "/feedback"
SUMMARY = "Report ground truth and business outcomes for earlier predictions"


@app.exception_handler(RequestValidationError)
def _invalid(error: RequestValidationError) -> Response:
    errors = field_errors(error.errors())
    quarantine(app.current_event.raw_event, ROUTE, 422, errors)
    add_metric(metrics, catalog.VALIDATION_ERRORS, 1)
    return error_response(422, "invalid request", errors)


def _stored_label(label: Any) -> str | float:
    """A regression's true value stays a number; a class becomes its label (1, 1.0, "1" alike)."""
    return float(label) if SPEC.task == "regression" else label_of(label)


@app.post(
    ROUTE,
    summary=SUMMARY,
    responses=route_responses(FeedbackResponse, "How many items were stored", 400, 413, 415, 422),
)
@tracer.capture_method
def feedback(body: FeedbackRequest) -> FeedbackResponse:  # type: ignore[valid-type]
    received = current_platform().clock()
    items = body.feedback_items()  # type: ignore[attr-defined]
    records = [
        capture.label_record(
            item.request_id, None if item.label is None else _stored_label(item.label), dict(item.outcomes), received
        )
        for item in items
    ]
    write_capture(capture.LABEL, records)
    unknown = sum(1 for item in items if request_time(item.request_id) is None)
    add_metric(metrics, catalog.FEEDBACK, len(items))
    add_metric(metrics, catalog.UNKNOWN_REQUEST_IDS, unknown)
    return FeedbackResponse(accepted=len(items), unknown_request_ids=unknown)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolve_checked(
        app,
        event,
        context,
        ROUTE,
        SPEC.serving.max_body_bytes,
        lambda: add_metric(metrics, catalog.VALIDATION_ERRORS, 1),
    )
