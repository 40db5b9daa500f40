"""Runs the backfill's Distributed Map locally, as Step Functions would: the ItemReader lists the
objects, the ItemBatcher groups them, each batch is the processor's input (passed to the Lambda
task as its payload), and the ResultWriter puts the child executions' results in S3
(<Prefix>/<map run id>/manifest.json and SUCCEEDED_0.json, as "ResultWriter (Map)" describes
them): the state's output is then only where they are, never the results themselves. The
definition is read from its ASL text, as deployed. Only the parts the backfill uses are
interpreted."""

from __future__ import annotations

import json
import uuid
from typing import Any

from modelwatch.jobs.asl import asl_text
from modelwatch_local.lambda_runtime import invoke


def run_distributed_map(
    definition: dict[str, Any], execution_input: dict[str, Any], s3: Any, function: str
) -> dict[str, Any]:
    definition = json.loads(asl_text(definition))
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
    map_run = uuid.uuid4().hex
    children = []
    for start in range(0, len(items), size):
        batch = {"Items": items[start : start + size]}
        output = invoke(function, batch).result
        children.append(
            {
                "Name": f"{map_run}-{start // size}",
                "Status": "SUCCEEDED",
                "Input": json.dumps(batch),
                "Output": json.dumps(output),
            }
        )
    return _write_results(state, s3, map_run, children)


def _write_results(state: dict[str, Any], s3: Any, map_run: str, children: list[dict[str, Any]]) -> dict[str, Any]:
    writer = state.get("ResultWriter")
    if writer is None:
        # Without a ResultWriter every child's output collects in the state's output (and a run
        # past the payload limit fails): kept as the service does it.
        return {"Results": [json.loads(child["Output"]) for child in children]}
    if writer["Resource"] != "arn:aws:states:::s3:putObject":
        raise ValueError(f"result writer {writer['Resource']} is not supported locally")
    bucket, prefix = writer["Parameters"]["Bucket"], writer["Parameters"]["Prefix"]
    folder = f"{prefix}/{map_run}/"
    results_key = f"{folder}SUCCEEDED_0.json"
    body = json.dumps(children).encode()
    s3.put_object(Bucket=bucket, Key=results_key, Body=body)
    manifest = {
        "DestinationBucket": bucket,
        "MapRunArn": f"arn:aws:states:us-east-1:123456789012:mapRun:backfill/{map_run}",
        "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": results_key, "Size": len(body)}]},
    }
    manifest_key = f"{folder}manifest.json"
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    return {"ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


def results_of(s3: Any, written: dict[str, Any]) -> list[Any]:
    """Every child execution's output, read back from what the ResultWriter wrote."""
    details = written["ResultWriterDetails"]
    manifest = json.loads(s3.get_object(Bucket=details["Bucket"], Key=details["Key"])["Body"].read())
    outputs = []
    for file in manifest["ResultFiles"]["SUCCEEDED"]:
        children = json.loads(s3.get_object(Bucket=manifest["DestinationBucket"], Key=file["Key"])["Body"].read())
        outputs += [json.loads(child["Output"]) for child in children]
    return outputs
