"""The retraining state machine's task: one step per invocation (prepare, train, evaluate,
promote), each reading what the step before stored, so Step Functions can retry any of them."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from modelwatch.aws.platform import current_platform
from modelwatch.aws.registry import registry_of
from modelwatch.aws.retraining_job import RetrainingJob

SPEC = current_platform().spec
logger = Logger(service=SPEC.metrics.service)
metrics = Metrics(namespace=SPEC.metrics.namespace, service=SPEC.metrics.service)


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
    # The platform's spec, read per invocation: the local runtime swaps platforms (and specs).
    job = RetrainingJob(
        platform.client("s3"), platform.settings.data_bucket, platform.spec, registry_of(platform), platform.clock
    )
    logger.append_keys(retraining_run=request.run_id, step=request.step, trigger=request.trigger)
    if request.step == "prepare":
        result = job.prepare(request.run_id)
    elif request.step == "train":
        result = job.train(request.run_id)
    elif request.step == "evaluate":
        result = job.evaluate(request.run_id, _version(request))
        outcome = "Promote" if result["promote"] else "Reject"
        metrics.add_metric(f"Retraining{outcome}", MetricUnit.Count, 1)
    else:
        result = job.promote(_version(request))
    logger.info("retraining step done", extra={"result": result})
    return result


def _version(request: RetrainStep) -> str:
    if request.version is None:
        raise ValueError(f"step {request.step} needs the challenger's version")
    return request.version
