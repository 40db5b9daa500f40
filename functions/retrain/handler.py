"""The retraining state machine's task: one step per invocation (prepare, train, evaluate,
promote), each reading what the step before stored, so Step Functions can retry any of them."""

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


class RetrainStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step: Literal["prepare", "train", "evaluate", "promote"]
    run_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")  # a Step Functions execution name
    version: str | None = None
    trigger: str | None = None  # what started the run (prepare only), for the logs


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = RetrainStep.model_validate(event)
    platform = current_platform()
    job = RetrainingJob(
        platform.client("s3"), platform.settings.data_bucket, SPEC, registry_of(platform), platform.clock
    )
    logger.append_keys(retraining_run=request.run_id, step=request.step, trigger=request.trigger)
    if request.step == "prepare":
        result = job.prepare(request.run_id)
    elif request.step == "train":
        result = job.train(request.run_id)
    elif request.step == "evaluate":
        result = job.evaluate(request.run_id, _version(request))
        add_metric(metrics, catalog.RETRAINING_PROMOTE if result["promote"] else catalog.RETRAINING_REJECT, 1)
    else:
        result = job.promote(_version(request))
    logger.info("retraining step done", extra={"result": result})
    return result


def _version(request: RetrainStep) -> str:
    if request.version is None:
        raise ValueError(f"step {request.step} needs the challenger's version")
    return request.version
