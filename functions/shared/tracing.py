"""What the functions' X-Ray tracing patches.

Only botocore: every outbound call a function makes is an AWS call. Powertools' Tracer patches
every library the X-Ray SDK knows by default, importing each one that happens to be installed
(requests alone costs about 25 ms of a cold start) to trace calls we never make.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    from modelwatch.spec.models import MonitoringSpec

TRACED_MODULES = ("botocore",)


def function_tracer(spec: MonitoringSpec) -> Tracer:
    """A traced function's Tracer, in the spec's service, patching only TRACED_MODULES (imported
    here, by the traced functions alone: the X-Ray SDK is a cold-start cost)."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=spec.metrics.service, patch_modules=TRACED_MODULES)
