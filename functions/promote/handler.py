"""The retraining state machine's deciding steps, one per invocation: prepare (the one-run lock
and the rows), evaluate (the trainer's graph imported, judged against the champion), promote (the
only role that moves the model pointer, and only as the stored decision and approval allow) and
release (the lock). Each reads what the step before stored, so Step Functions can retry any."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.shared.emit import add_metric
from functions.shared.setup import instruments
from modelwatch.catalog import metrics as catalog
from modelwatch.data_access.model_store import registry_of
from modelwatch.data_access.platform import current_platform
from modelwatch.jobs.retraining_job import RetrainingJob

SPEC, logger, metrics = instruments()


class DecidingStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step: Literal["prepare", "evaluate", "promote", "release"]
    run_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")  # a Step Functions execution name
    version: str | None = None  # promote: the challenger the decision names
    approval: dict[str, Any] | None = None  # promote, with approval = "manual": the person's answer
    execution_arn: str | None = None  # promote, with approval = "manual": the execution asking
    trigger: str | None = None  # what started the run (prepare only), for the logs


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = DecidingStep.model_validate(event)
    platform = current_platform()
    job = RetrainingJob(
        platform.client("s3"), platform.settings.data_bucket, SPEC, registry_of(platform), platform.clock
    )
    logger.append_keys(retraining_run=request.run_id, step=request.step, trigger=request.trigger)
    if request.step == "prepare":
        result = job.prepare(request.run_id)
    elif request.step == "evaluate":
        result = job.evaluate(request.run_id)
        add_metric(metrics, catalog.RETRAINING_PROMOTE if result["promote"] else catalog.RETRAINING_REJECT, 1)
    elif request.step == "promote":
        if request.version is None:
            raise ValueError("the promote step needs the challenger's version")
        result = job.promote(request.run_id, request.version, request.approval, request.execution_arn)
    else:
        result = job.release(request.run_id)
    logger.info("retraining step done", extra={"result": result})
    return result
