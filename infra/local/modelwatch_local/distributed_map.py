"""Runs the backfill's Distributed Map locally, as Step Functions would: the ItemReader lists the
objects, the ItemBatcher groups them, and each batch is the processor's input, passed to the
Lambda task as its payload. Only the parts the backfill definition uses are interpreted."""

from __future__ import annotations

from typing import Any

from modelwatch_local.lambda_runtime import invoke


def run_distributed_map(
    definition: dict[str, Any], execution_input: dict[str, Any], s3: Any, function: str
) -> list[Any]:
    state = definition["States"][definition["StartAt"]]
    if state["Type"] != "Map" or state["ItemProcessor"]["ProcessorConfig"]["Mode"] != "DISTRIBUTED":
        raise ValueError("not a Distributed Map")
    reader = state["ItemReader"]
    if reader["Resource"] != "arn:aws:states:::s3:listObjectsV2":
        raise ValueError(f"item reader {reader['Resource']} is not supported locally")
    parameters = reader["Parameters"]
    prefix = execution_input[parameters["Prefix.$"].removeprefix("$.")]
    items = [
        {"Key": o["Key"], "Size": o["Size"], "ETag": o["ETag"], "LastModified": o["LastModified"].isoformat()}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=parameters["Bucket"], Prefix=prefix)
        for o in page.get("Contents", [])
    ]
    size = state.get("ItemBatcher", {}).get("MaxItemsPerBatch", 1)
    results = []
    for start in range(0, len(items), size):
        results.append(invoke(function, {"Items": items[start : start + size]}).result)
    return results
