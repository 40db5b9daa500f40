"""`modelwatch approve RUN` and `modelwatch reject RUN`: decide a retraining run that waits for a
person ([retraining] approval = "manual"). They read the run's stored task token from the data
bucket and send it back to Step Functions; boto3's standard configuration (AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL) decides where and as whom. The caller needs s3:GetObject and
s3:ListBucket on the approvals prefix, states:DescribeExecution, and states:SendTaskSuccess /
states:SendTaskFailure (the stack's RetrainingApproversPolicy output names a policy with them)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from modelwatch.errors import UserInputError

EXIT_OK = 0


def add_approval_commands(commands: Any) -> None:
    approve = commands.add_parser("approve", help="promote the challenger a retraining run waits to have approved")
    approve.add_argument("execution", help="the retraining run (its execution name, as the notice gives it)")
    _where(approve)
    reject = commands.add_parser("reject", help="keep the current version: reject a waiting retraining run")
    reject.add_argument("execution", help="the retraining run (its execution name, as the notice gives it)")
    reject.add_argument("--reason", default="", help="why, for the notice and the execution's history")
    _where(reject)


def _where(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="CloudFormation stack name: the data bucket from its outputs")
    where.add_argument("--bucket", help="the stack's data bucket")


def _data_bucket(session: Any, args: argparse.Namespace) -> str:
    if args.bucket:
        return args.bucket
    from modelwatch.cli.deployed_registry import stack_output_values
    from modelwatch.registry import stack_outputs

    try:
        outputs = stack_output_values(session.client("cloudformation"), args.stack, (stack_outputs.DATA_BUCKET,))
    except UserInputError as error:
        raise UserInputError(f"{error} (or pass --bucket)") from None
    return outputs[stack_outputs.DATA_BUCKET]


def _decide(args: argparse.Namespace, out: Console, approve: bool) -> int:
    from modelwatch.cli.deployed_registry import boto3_module
    from modelwatch.data_access.approval_store import ApprovalStore
    from modelwatch.jobs.approval_decision import decide

    session = boto3_module().session.Session()
    store = ApprovalStore(session.client("s3"), _data_bucket(session, args))
    by = session.client("sts").get_caller_identity()["Arn"]
    reason = getattr(args, "reason", "")
    out.print(decide(session.client("stepfunctions"), store, args.execution, approve, by, reason, datetime.now(UTC)))
    return EXIT_OK


def run_approve(args: argparse.Namespace, out: Console) -> int:
    return _decide(args, out, approve=True)


def run_reject(args: argparse.Namespace, out: Console) -> int:
    return _decide(args, out, approve=False)
