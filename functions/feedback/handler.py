"""POST /feedback: delayed ground truth and business outcomes, one item or a batch.

Each piece is a log line, delivered to S3 in batches by the same Logs subscription as captures
(no S3 call per label). Only a request id POST /predict issued is accepted (its signature, see
modelwatch.serving.request_ids); one whose capture has not landed yet is kept for the join. The
pieces logged are counted (FeedbackRecordsSent, in
the EMF document stamped with their received time, so both fall in the same hour) for the drift
run's reconciliation with what the capture function filed.
"""

# No `from __future__ import annotations`: Powertools reads the route's parameter types at
# import to find the body model, and string annotations would hide it.
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from functions.shared.api import error_response, quarantine, resolve_checked, write_capture
from functions.shared.emit import add_metric
from functions.shared.request_ids import request_id_signer
from functions.shared.setup import instruments
from functions.shared.tracing import function_tracer
from modelwatch.catalog import metrics as catalog
from modelwatch.catalog.functions import FEEDBACK
from modelwatch.data_access.model_store import registry_of
from modelwatch.data_access.platform import Platform, current_platform
from modelwatch.labels import label_errors, stored_label
from modelwatch.registry.manifest import ModelManifest
from modelwatch.serving import capture
from modelwatch.serving.current_model import CurrentModel, ModelUnavailableError
from modelwatch.serving.http import field_errors
from modelwatch.serving.request_models import api_models, route_responses

SPEC, logger, metrics = instruments()
MODELS = api_models(SPEC)
FeedbackRequest = MODELS["FeedbackRequest"]
FeedbackResponse = MODELS["FeedbackResponse"]

tracer = function_tracer(SPEC)
app = APIGatewayHttpResolver(enable_validation=True)
ROUTE = FEEDBACK.route or ""  # declared in the function catalogue
RECEIVED_AT = "received_at"
SUMMARY = "Report ground truth and business outcomes for earlier predictions"


@app.exception_handler(RequestValidationError)
def _invalid(error: RequestValidationError) -> Response:
    errors = field_errors(error.errors())
    quarantine(app.current_event.raw_event, ROUTE, 422, errors)
    add_metric(metrics, catalog.VALIDATION_ERRORS, 1)
    return error_response(422, "invalid request", errors)


def _classes_of(manifest: ModelManifest, artifact: bytes) -> list[str]:
    return list(manifest.classes)


@cache
def _served_classes(platform: Platform) -> CurrentModel[list[str]]:
    """The served version's classes, from its manifest, re-read on the pointer's TTL as the
    predict function re-reads its model (so a label is checked against what was predicted)."""
    registry = registry_of(platform, request_path=True)
    return CurrentModel(registry, _classes_of, SPEC.serving.pointer_ttl_seconds, platform.clock, artifacts=False)


def _check_request_ids(platform: Platform, items: list[Any], batch: bool) -> None:
    """Feedback attaches only to predictions this deployment made: an id POST /predict did not
    issue (its signature does not verify) is a 422 naming the field, and the request is kept in
    quarantine like any other refused one."""
    signer = request_id_signer(platform)
    errors = [
        {
            "loc": ("body", "items", index, "request_id") if batch else ("body", "request_id"),
            "type": "issued_by_predict",
            "msg": "not a request id this deployment issued: give the request_id POST /predict returned",
            "input": item.request_id,
        }
        for index, item in enumerate(items)
        if not signer.issued(item.request_id)
    ]
    if errors:
        raise RequestValidationError(errors)


def _check_labels(platform: Platform, items: list[Any], batch: bool) -> None:
    """A classifier's labels must be classes of the served model (the core's rule): a 422 naming
    each wrong field. Without a loadable model there is nothing to check against, and ground truth
    is kept."""
    if SPEC.task == "regression" or all(item.label is None for item in items):
        return  # a regression's label is already a JSON number (the request model's rule)
    try:
        served, _ = _served_classes(platform).get()
    except ModelUnavailableError as error:
        logger.warning("labels stored unchecked: no model version to check them against", extra={"reason": str(error)})
        return
    errors = label_errors([item.label for item in items], served.model, batch)
    if errors:
        raise RequestValidationError(errors)


@app.post(
    ROUTE,
    summary=SUMMARY,
    responses=route_responses(FeedbackResponse, "How many items were stored", 400, 413, 415, 422),
)
@tracer.capture_method
def feedback(body: FeedbackRequest) -> FeedbackResponse:  # type: ignore[valid-type]
    received = app.context[RECEIVED_AT]
    items = body.feedback_items()  # type: ignore[attr-defined]
    platform = current_platform()
    _check_request_ids(platform, items, batch=body.items is not None)  # type: ignore[attr-defined]
    _check_labels(platform, items, batch=body.items is not None)  # type: ignore[attr-defined]
    records = [
        capture.label_record(
            item.request_id,
            None if item.label is None else stored_label(item.label, SPEC.task),
            dict(item.outcomes),
            received,
        )
        for item in items
    ]
    write_capture(capture.LABEL, records)
    add_metric(metrics, catalog.FEEDBACK, len(items))
    add_metric(metrics, catalog.FEEDBACK_RECORDS_SENT, len(records))
    return FeedbackResponse(accepted=len(items))


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # One instant per invocation: the pieces' received_at and the EMF document's timestamp, so a
    # piece and its count in FeedbackRecordsSent fall in the same hour (set every time: Powertools
    # keeps a document timestamp across invocations).
    received = current_platform().clock()
    metrics.set_timestamp(received)
    app.append_context(**{RECEIVED_AT: received})
    return resolve_checked(
        app,
        event,
        context,
        ROUTE,
        SPEC.serving.max_body_bytes,
        lambda: add_metric(metrics, catalog.VALIDATION_ERRORS, 1),
    )
