"""The backfill state machine: a Step Functions Distributed Map over the capture prefix that
hands batches of capture objects to the capture function to profile (objects written before
profiling moved into it, or a prefix to re-profile). One definition: the CDK stack deploys it,
the local runtime runs it."""

from __future__ import annotations

from typing import Any

from modelwatch.catalog.layout import BACKFILL_RESULTS, CAPTURE
from modelwatch.jobs.asl import lambda_retry

BATCH = 50  # capture objects per invocation
CONCURRENCY = 10


# The widest input the machine is meant for: the whole capture area (what its role may list).
WIDEST_INPUT = {"prefix": CAPTURE.prefix}


def backfill_definition(bucket: str, capture_function_arn: str) -> dict[str, Any]:
    """Amazon States Language; the execution input is {"prefix": <a prefix under the capture area>}."""
    return {
        "Comment": "Profile the capture objects under a prefix, in batches",
        "StartAt": "ProfileCaptureObjects",
        "States": {
            "ProfileCaptureObjects": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": bucket, "Prefix.$": "$.prefix"},
                },
                "ItemBatcher": {"MaxItemsPerBatch": BATCH},
                "MaxConcurrency": CONCURRENCY,
                "ToleratedFailurePercentage": 0,
                # Each batch's result goes to S3, not into the state's output: a run over a few
                # hundred thousand objects would pass the 256 KiB payload limit after all its work.
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": bucket, "Prefix": BACKFILL_RESULTS.name},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Profile",
                    "States": {
                        "Profile": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": capture_function_arn, "Payload.$": "$"},
                            "OutputPath": "$.Payload",
                            # Profiling an object twice writes the same profile: every
                            # transient error, and a timed-out batch, is retried.
                            "Retry": lambda_retry("States.Timeout", max_attempts=4),
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
