"""What every handler sets up at import, once and the same way: the deployment's spec (from the
platform), Powertools' Logger in the spec's service, and its Metrics on the catalogue's bulk EMF
provider; for a traced function, the Tracer (functions.shared.tracing)."""

from __future__ import annotations

from typing import NamedTuple

from aws_lambda_powertools import Logger, Metrics

from functions.shared.emit import function_metrics
from modelwatch.data_access.platform import current_platform
from modelwatch.spec.models import MonitoringSpec


class Instruments(NamedTuple):
    spec: MonitoringSpec
    logger: Logger
    metrics: Metrics


def instruments() -> Instruments:
    """The handler's spec, logger and metrics (at import: the spec binds the deployment)."""
    spec = current_platform().spec
    return Instruments(spec, Logger(service=spec.metrics.service), function_metrics(spec))
