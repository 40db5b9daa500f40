"""POST /predict behind an API Gateway HTTP API (payload format 2.0).

Thin edge: refuse what cannot be parsed, validate with the spec's models, score with the served
model, emit metrics and capture lines. Clients, settings and clock come from the platform.
"""

# No `from __future__ import annotations`: Powertools reads the route's parameter types at
# import to find the body model, and string annotations would hide it.
import time
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from snapshot_restore_py import register_after_restore, register_before_snapshot

from functions.predict import telemetry
from functions.shared.api import error_response, quarantine, resolve_checked, write_capture
from functions.shared.request_ids import request_id_signer
from functions.shared.setup import instruments
from functions.shared.tracing import function_tracer
from modelwatch.catalog import functions as catalog
from modelwatch.data_access.model_store import registry_of
from modelwatch.data_access.platform import Platform, current_platform
from modelwatch.data_access.pseudonym_key import load_pseudonyms
from modelwatch.registry.manifest import ModelManifest
from modelwatch.serving import capture
from modelwatch.serving.capture_sampling import sampled
from modelwatch.serving.current_model import CurrentModel, ModelUnavailableError
from modelwatch.serving.http import field_errors
from modelwatch.serving.onnx_model import ServedModel, load_model
from modelwatch.serving.prediction import score
from modelwatch.serving.pseudonyms import Pseudonyms, protected_records
from modelwatch.serving.request_models import api_models, route_responses

SPEC, logger, metrics = instruments()
MODELS = api_models(SPEC)
PredictRequest = MODELS["PredictRequest"]
PredictResponse = MODELS["PredictResponse"]
ROUTE = catalog.PREDICT.route or ""  # declared in the function catalogue
# Of the spec, asked for on every request: worked out once.
FEATURE_VALUES = telemetry.feature_values(SPEC)
SENSITIVE = SPEC.sensitive_features
INVOKED_AT = "invoked_at"
SUMMARY = "Predict one record (features) or a batch (instances)"

tracer = function_tracer(SPEC)
app = APIGatewayHttpResolver(enable_validation=True)


def _build(manifest: ModelManifest, artifact: bytes) -> ServedModel:
    return load_model(SPEC, manifest, artifact)


@cache
def _current_model(platform: Platform) -> CurrentModel[ServedModel]:
    """One per platform: the local runtime or a test that swaps the platform gets a fresh cache."""
    registry = registry_of(platform, request_path=True)  # a slow registry must not time the request out
    return CurrentModel(registry, _build, SPEC.serving.pointer_ttl_seconds, platform.clock)


@register_before_snapshot
def _load_before_snapshot() -> None:
    """SnapStart's publish-time init: clients made, the current model fetched, verified and run
    once, so every restored environment starts with them. No model yet (a first deploy) is fine:
    the first request loads one."""
    _pseudonyms(current_platform())  # the keys are read once, before the snapshot
    request_id_signer(current_platform())
    try:
        served, _ = _current_model(current_platform()).get()
        served.model.warm_up()  # ONNX Runtime allocates on its first run
    except ModelUnavailableError as error:
        logger.warning("no model to load before the snapshot", extra={"reason": str(error)})


@register_after_restore
def _recheck_after_restore() -> None:
    platform = current_platform()
    platform.drop_connections()
    _current_model(platform).expire()


@cache
def _pseudonyms(platform: Platform) -> Pseudonyms | None:
    """The deployment's pseudonym key, read once per environment (None: the spec hashes nothing)."""
    return load_pseudonyms(SPEC, platform.environment, platform.client("secretsmanager"))


def _reject(event: dict[str, Any], status: int, errors: list[dict[str, str]]) -> None:
    quarantine(event, ROUTE, status, errors)
    telemetry.emit_rejected(metrics, 1)


@app.exception_handler(RequestValidationError)
def _invalid(error: RequestValidationError) -> Response:
    errors = field_errors(error.errors())
    _reject(app.current_event.raw_event, 422, errors)
    return error_response(422, "invalid request", errors)


@app.exception_handler(ModelUnavailableError)
def _unavailable(error: ModelUnavailableError) -> Response:
    logger.error("no servable model", extra={"reason": str(error)})
    telemetry.emit_model_failure(metrics)
    unavailable = {"field": "model", "rule": "available", "message": "no verified model version can be loaded"}
    return error_response(503, "model unavailable", [unavailable])


@app.post(
    ROUTE,
    summary=SUMMARY,
    responses=route_responses(PredictResponse, "One prediction per record, in order", 400, 413, 415, 422, 503),
)
@tracer.capture_method
def predict(body: PredictRequest) -> PredictResponse:  # type: ignore[valid-type]
    platform = current_platform()
    started = time.perf_counter()
    served, failure = _current_model(platform).get()  # ModelUnavailableError: see _unavailable
    if failure is not None:
        logger.error("new model version not loaded; serving the last good one", extra=vars(failure))
        telemetry.emit_model_failure(metrics)
    monitoring = platform.settings.monitoring
    signer = request_id_signer(platform)
    records, attributes = body.records(), body.request_attributes()  # type: ignore[attr-defined]
    # The attributes never reach the model: only the captures keep them, for segments.
    batch = score(SPEC, served, records, app.context[INVOKED_AT], signer, monitoring, attributes)
    if monitoring:
        pseudonyms = _pseudonyms(platform) if SENSITIVE else None
        captures = protected_records(sampled(batch.captures, SPEC.capture.sample_rate), SENSITIVE, pseudonyms)
        write_capture(capture.CAPTURE, captures)
        telemetry.emit_scored(metrics, FEATURE_VALUES, batch, (time.perf_counter() - started) * 1000, len(captures))
    return PredictResponse(predictions=batch.predictions)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # One instant per invocation: the capture records' timestamp and the EMF document's, so a
    # record and its count in CaptureRecordsSent fall in the same hour, however close to its end
    # (set every time: Powertools keeps a document timestamp across invocations).
    invoked_at = current_platform().clock()
    metrics.set_timestamp(invoked_at)
    app.append_context(**{INVOKED_AT: invoked_at})
    return resolve_checked(
        app, event, context, ROUTE, SPEC.serving.max_body_bytes, lambda: telemetry.emit_rejected(metrics, 1)
    )
