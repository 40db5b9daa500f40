"""The retraining state machine's Train step: fit a challenger on the run's prepared rows (the
team's trainer or the built-in pipeline) and store its ONNX graph. Every step that decides runs
in the promote function, with a role this one never holds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.shared.setup import instruments
from modelwatch.data_access.platform import current_platform
from modelwatch.jobs.challenger_training import train_challenger

# The Train step records no metric of its own (the promote step counts the decisions).
SPEC, logger, _ = instruments()


class TrainStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step: Literal["train"]
    run_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")  # a Step Functions execution name


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = TrainStep.model_validate(event)
    platform = current_platform()
    logger.append_keys(retraining_run=request.run_id, step=request.step)
    result = train_challenger(
        platform.client("s3"), platform.settings.data_bucket, SPEC, request.run_id, platform.clock
    )
    logger.info("challenger trained", extra={"result": result})
    return result
