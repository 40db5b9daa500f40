"""`modelwatch import`, `publish`, `promote` and `versions`: from a fitted model to a served,
monitored version. The registry commands need boto3, imported only when they run."""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from modelwatch.cli.approval_commands import add_approval_commands, run_approve, run_reject
from modelwatch.errors import UserInputError

EXIT_OK = 0

IMPORT_HELP = """\
Turn a fitted model into a model folder (model.onnx, manifest.json, baseline.json, the spec),
the same format 'modelwatch train' writes.

MODEL is one of: an .onnx file (used as is; its inputs must be the spec's features, one
[rows, 1] tensor each); a scikit-learn estimator or pipeline saved with joblib or pickle
(.joblib, .pkl, .pickle): a pipeline that starts with a ColumnTransformer takes the features
by name, a bare estimator the numeric features in the order it was fitted with; an XGBoost or
LightGBM model (scikit-learn wrapper in a pickle, or the native .json/.ubj or .txt file).
DATA is a labelled reference set (CSV or Parquet with the features and the target): it becomes
the baseline profile, with the model's own predictions and scores on it, and the validation
metrics. So 'modelwatch drift --reference OUT/baseline.json --current NEW' checks prediction
drift and estimates performance on new rows without labels.

Before writing anything, the original and the ONNX graph are run on DATA; a difference above
1e-4 (probabilities; relative for a regression) is refused, naming the row and the cause.

SECURITY: a pickle or joblib file runs code when it is loaded. Import only files you trust,
on your own machine. Nothing ModelWatch runs in AWS ever loads one: it serves ONNX only.

Then: modelwatch serve --model OUT (locally), modelwatch publish OUT --stack NAME --promote."""


def add_model_commands(commands: Any) -> None:
    importer = commands.add_parser(
        "import",
        help="convert a fitted model (ONNX, scikit-learn, XGBoost, LightGBM) into a model folder",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("--model", required=True, type=Path, help="the fitted model file (see above)")
    importer.add_argument("--data", required=True, help="labelled reference data (CSV or Parquet)")
    importer.add_argument("--spec", required=True, type=Path, help="monitoring spec (TOML)")
    importer.add_argument("--out", required=True, type=Path, help="model folder to write")
    importer.add_argument("--version", default=None, help="version name (default: a timestamp)")
    importer.add_argument(
        "--baseline",
        type=Path,
        help="a baseline.json from 'modelwatch import-sagemaker': its features replace those profiled from --data",
    )

    publish = commands.add_parser("publish", help="upload a model folder to a deployed stack's registry")
    publish.add_argument("folder", type=Path, help="model folder from 'modelwatch import' or 'modelwatch train'")
    _registry_options(publish)
    publish.add_argument("--promote", action="store_true", help="make it the served version once uploaded")

    promote = commands.add_parser("promote", help="serve a published version (rollback: promote the previous one)")
    promote.add_argument("version", help="the version to serve")
    _registry_options(promote)

    versions = commands.add_parser("versions", help="list the published versions and which one is served")
    _registry_options(versions)
    versions.add_argument("--json", action="store_true", help="print a JSON list instead of a table")

    redrive = commands.add_parser(
        "redrive-alerts", help="hand the notifier's dead letters to it again, once Slack answers"
    )
    redrive.add_argument("--stack", required=True, help="CloudFormation stack name")
    redrive_captures = commands.add_parser(
        "redrive-captures",
        help="deliver again what the capture path could not: the capture function's dead letters and the "
        "delivery stream's errors (idempotent)",
    )
    redrive_captures.add_argument("--stack", required=True, help="CloudFormation stack name")
    smoke = commands.add_parser(
        "smoke",
        help="after a deploy: check every delivery path of the stack (alarm -> topics -> notifier and email, "
        "a signed prediction and label -> capture/ and labels/, one drift check); exit 1 naming a failed hop",
    )
    smoke.add_argument("--stack", required=True, help="CloudFormation stack name")
    smoke.add_argument("--spec", type=Path, default=Path("monitoring.toml"), help="the deployed spec (the test record)")
    smoke.add_argument(
        "--within",
        type=float,
        help="seconds each delivery may take (default: the spec's [capture] buffer_seconds, plus 300)",
    )
    smoke.add_argument("--token", help="a JWT for an API deployed with apiAuth=jwt (default: SigV4 signing)")
    add_approval_commands(commands)


def _registry_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="CloudFormation stack name: bucket, prefix and pointer from its outputs")
    where.add_argument("--bucket", help="model bucket (with --pointer-parameter)")
    parser.add_argument("--pointer-parameter", help="SSM parameter naming the served version (with --bucket)")
    parser.add_argument("--prefix", default=None, help="registry prefix in the bucket (with --bucket; default models/)")
    parser.add_argument("--spec", type=Path, help="monitoring spec the versions must fit (default: none checked)")


def run_import(args: argparse.Namespace, out: Console) -> int:
    from modelwatch.cli.tabular import TableFile
    from modelwatch.importing.model_import import import_model, labelled_rows, write_imported_folder
    from modelwatch.spec import load_spec

    spec = load_spec(args.spec)
    target = spec.columns.target
    if target is None:
        raise UserInputError(f"{args.spec}: columns.target is not set: the import needs labelled data")
    table = TableFile(args.data)
    table.require([*spec.features, target], "reference")
    # The request attributes segments cut by, where the data has them: the baseline's slices.
    attributes = [name for name in spec.segment_attributes if name in table.columns]
    columns, unlabelled = labelled_rows(table.read_columns([*spec.features, target, *attributes]), target)
    if not len(columns[target]):
        raise UserInputError(f"{args.data}: no row has a target")
    now = datetime.now(UTC)
    version = args.version or now.strftime("v%Y%m%d%H%M%S")
    folder, spec_text = import_model(spec, args.spec.read_text(), args.model, columns, version, now)
    if getattr(args, "baseline", None) is not None:
        from modelwatch.importing.sagemaker.model_baseline import with_imported_baseline
        from modelwatch.profiles import DatasetProfile

        folder = with_imported_baseline(folder, DatasetProfile.load(args.baseline), spec, str(args.baseline))
    write_imported_folder(folder, spec_text, args.out)
    metrics = ", ".join(
        f"{k} {v:.4f}" for k, v in folder.manifest.validation_metrics.items() if isinstance(v, int | float)
    )
    skipped = f" ({unlabelled:,} rows without a target skipped)" if unlabelled else ""
    out.print(
        f"imported {args.model} as {spec.task} model {version} -> {args.out}; ONNX matches the original on "
        f"{len(columns[target]):,} rows{skipped} (validation: {metrics})"
    )
    return EXIT_OK


def _aws_errors(command: Callable[[argparse.Namespace, Console], int]) -> Callable[[argparse.Namespace, Console], int]:
    """AWS refusing or unreachable is the user's to fix (credentials, region, endpoint, rights):
    one line, exit 2, not an unexpected error."""

    @functools.wraps(command)
    def run(args: argparse.Namespace, out: Console) -> int:
        try:
            return command(args, out)
        except ModuleNotFoundError as error:
            if error.name in ("boto3", "botocore"):
                raise UserInputError("this command talks to AWS and needs boto3: pip install boto3") from None
            raise
        except Exception as error:
            from botocore.exceptions import BotoCoreError, ClientError

            if isinstance(error, ClientError | BotoCoreError):
                raise UserInputError(f"AWS: {' '.join(str(error).split())}") from None
            raise

    return run


def _registry(args: argparse.Namespace):
    from modelwatch.cli.deployed_registry import deployed_registry

    if args.bucket and not args.pointer_parameter:
        raise UserInputError("--bucket needs --pointer-parameter (or name the stack with --stack)")
    return deployed_registry(args.stack, args.bucket, args.prefix, args.pointer_parameter)


def _spec_of(args: argparse.Namespace):
    from modelwatch.spec import load_spec

    return None if args.spec is None else load_spec(args.spec)


@_aws_errors
def run_publish(args: argparse.Namespace, out: Console) -> int:
    from modelwatch.registry.folder import ModelFolder

    folder = ModelFolder.read(args.folder)
    registry = _registry(args)
    manifest = registry.publish_once(folder)
    out.print(
        f"published {manifest.version} to s3://{registry.store.bucket}/{registry.store.key(manifest.version, '')}"
    )
    if args.promote:
        registry.promote_verified(manifest.version, _spec_of(args))
        out.print(f"now serving {manifest.version}")
    return EXIT_OK


@_aws_errors
def run_promote(args: argparse.Namespace, out: Console) -> int:
    registry = _registry(args)
    previous = registry.current_or_none()
    registry.promote_verified(args.version, _spec_of(args))
    out.print(f"now serving {args.version} (was {previous or 'none'})")
    return EXIT_OK


@_aws_errors
def run_versions(args: argparse.Namespace, out: Console) -> int:
    listed = [v.as_json() for v in _registry(args).versions()]
    if args.json:
        print(json.dumps(listed, indent=2))
        return EXIT_OK
    from rich.table import Table

    table = Table("", "version", "created_at", "task", "validation metrics")
    for entry in listed:
        metrics = ", ".join(
            f"{k} {v:.4f}" for k, v in entry["validation_metrics"].items() if isinstance(v, int | float)
        )
        table.add_row("*" if entry["current"] else "", entry["version"], entry["created_at"], entry["task"], metrics)
    out.print(table)
    return EXIT_OK


@_aws_errors
def run_redrive_alerts(args: argparse.Namespace, out: Console) -> int:
    from modelwatch.alerts.redrive import redrive
    from modelwatch.cli.deployed_registry import stack_output_values
    from modelwatch.registry import stack_outputs

    session = _boto3_session()
    outputs = stack_output_values(
        session.client("cloudformation"),
        args.stack,
        (stack_outputs.NOTIFY_FUNCTION, stack_outputs.NOTIFY_DEAD_LETTER_QUEUES),
    )
    function, queues = outputs[stack_outputs.NOTIFY_FUNCTION], outputs[stack_outputs.NOTIFY_DEAD_LETTER_QUEUES]
    lambda_client, sqs = session.client("lambda"), session.client("sqs")

    def invoke(event: dict[str, Any]) -> None:
        answer = lambda_client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        if answer.get("FunctionError"):
            raise RuntimeError(answer["Payload"].read().decode(errors="replace")[:500])

    total = 0
    for queue in queues.split(","):
        outcome = redrive(sqs, queue, invoke)
        total += outcome.redriven
        if outcome.failed is not None:
            out.print(f"redriven {total}; stopped: the notifier failed again ({outcome.failed}); the rest wait")
            return EXIT_USAGE_STOPPED
    out.print(f"redriven {total} notice(s); the notifier's dead-letter queues are empty")
    return EXIT_OK


@_aws_errors
def run_redrive_captures(args: argparse.Namespace, out: Console) -> int:
    from modelwatch.cli.deployed_registry import stack_output_values
    from modelwatch.data_access.data_bucket import DataBucket
    from modelwatch.jobs.capture_redrive import redrive_captures
    from modelwatch.registry import stack_outputs

    session = _boto3_session()
    wanted = (stack_outputs.CAPTURE_FUNCTION, stack_outputs.CAPTURE_DEAD_LETTER_QUEUE, stack_outputs.DATA_BUCKET)
    outputs = stack_output_values(session.client("cloudformation"), args.stack, wanted)
    function = outputs[stack_outputs.CAPTURE_FUNCTION]
    lambda_client, s3 = session.client("lambda"), session.client("s3")
    data = DataBucket(s3, outputs[stack_outputs.DATA_BUCKET])

    def invoke(event: dict[str, Any]) -> None:
        answer = lambda_client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        if answer.get("FunctionError"):
            raise RuntimeError(answer["Payload"].read().decode(errors="replace")[:500])

    def deliver(key: str, body: bytes) -> None:  # S3 notifies the capture function, as for any delivery
        data.write(key, body, "application/x-ndjson")

    out.print("redriving the capture function's dead letters and the delivery stream's errors ...")
    outcome = redrive_captures(
        session.client("sqs"), outputs[stack_outputs.CAPTURE_DEAD_LETTER_QUEUE], data, invoke, deliver
    )
    return report_capture_redrive(outcome, out)


def report_capture_redrive(outcome: Any, out: Console) -> int:
    """The command's summary, deployed or local: what went back, what waits, what is kept."""
    out.print(
        f"redriven {outcome.notifications} dead-lettered notification(s) and {outcome.error_objects} errors "
        f"object(s) ({outcome.lines} lines)"
    )
    for key, reasons in outcome.unreadable.items():
        out.print(f"kept {key}: {len(reasons)} record(s) cannot be decoded ({reasons[0]})", markup=False)
    if outcome.failed is not None:
        out.print(f"stopped: the capture function failed again ({outcome.failed}); the rest wait", markup=False)
        return EXIT_USAGE_STOPPED
    return EXIT_OK


def run_smoke(args: argparse.Namespace, out: Console) -> int:
    from modelwatch.cli.smoke import Smoke
    from modelwatch.spec import load_spec

    def say(line: str) -> None:
        out.print(line, markup=False, highlight=False, soft_wrap=True)

    spec = load_spec(args.spec)
    # A capture reaches S3 once the delivery stream's buffer interval has passed.
    within = args.within if args.within is not None else spec.capture.buffer_seconds + 300.0
    smoke = Smoke(_boto3_session(), args.stack, spec, within, args.token, say=say)
    return smoke.run()


def _boto3_session() -> Any:
    from modelwatch.cli.deployed_registry import boto3_module

    return boto3_module().session.Session()


EXIT_USAGE_STOPPED = 2  # the notifier still fails: nothing was lost, try again later

COMMANDS = {
    "import": run_import,
    "publish": run_publish,
    "promote": run_promote,
    "versions": run_versions,
    "redrive-alerts": run_redrive_alerts,
    "redrive-captures": run_redrive_captures,
    "smoke": _aws_errors(run_smoke),
    "approve": _aws_errors(run_approve),
    "reject": _aws_errors(run_reject),
}
