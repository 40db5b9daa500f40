"""`modelwatch`: drift checks and baseline profiles from the command line.

Exit codes: 0 no drift of what `drift --fail-on` names (default: the dataset verdict; or no verdict:
insufficient data), 1 drift of it, 2 bad usage
or unreadable input (one line naming the problem), 3 an unexpected error inside ModelWatch (one
line; set MODELWATCH_DEBUG=1 for the traceback). A crash is never 1: a script must not read a
bug as "drift".

Other packages add commands through the `modelwatch.commands` entry point group: each entry is a
function that takes the subparsers and adds its command, with `run` set to the function that
does the work (the local runtime's `serve` and `demo` come this way, so the core never imports it).

Each command imports what it uses inside the function that runs it: `modelwatch drift` must not pay
for scikit-learn, boto3 or the local runtime (nor need them installed), which other commands use.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from importlib.metadata import entry_points
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from modelwatch.cli.drift_over_time import add_chunk_options
from modelwatch.cli.model_commands import COMMANDS as MODEL_COMMANDS
from modelwatch.cli.model_commands import add_model_commands
from modelwatch.cli.sagemaker_commands import add_sagemaker_commands, add_sagemaker_drift_options
from modelwatch.cli.summary import add_fail_on_option
from modelwatch.errors import UserInputError

COMMANDS_GROUP = "modelwatch.commands"
EXIT_OK, EXIT_DRIFT, EXIT_USAGE, EXIT_UNEXPECTED = 0, 1, 2, 3
EXIT_CODES_HELP = (
    "exit codes: 0 no drift of what --fail-on names (default: the dataset verdict, and any segment's "
    "features when the spec has segments), 1 drift of it, "
    "2 bad usage or unreadable input, "
    "3 unexpected error (MODELWATCH_DEBUG=1 prints the traceback)"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        self.exit(EXIT_USAGE, f"modelwatch: error: {message} (see '{help_command(self.prog)}')\n")


def help_command(prog: str) -> str:
    """The help to point at: the subcommand's, or the program's own (`modelwatch --help`, never
    `modelwatch modelwatch --help`)."""
    words = prog.split()
    return f"{' '.join(words[:1] + words[-1:]) if len(words) > 1 else words[0]} --help"


def _add_role_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", help="monitoring spec (TOML); without it, columns are inferred from the reference")
    parser.add_argument("--target", help="label column (overrides the spec)")
    parser.add_argument("--prediction", help="predicted label column (overrides the spec)")
    parser.add_argument("--score", help="binary: positive-class probability column (overrides the spec)")
    parser.add_argument("--score-prefix", help="multiclass: column <prefix><class> holds P(class) (overrides the spec)")
    parser.add_argument(
        "--task",
        choices=("binary", "multiclass", "regression"),
        help="the model's task (overrides the spec; without either: multiclass with --score-prefix, else binary)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="modelwatch", description="ModelWatch: monitoring for ML models.", epilog=EXIT_CODES_HELP)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    drift = commands.add_parser("drift", help="compare current data with a reference", epilog=EXIT_CODES_HELP)
    drift.add_argument("--reference", required=True, help="CSV, Parquet or a saved profile")
    drift.add_argument(
        "--current",
        required=True,
        help="CSV, Parquet or a folder of capture objects (JSON lines, e.g. from 'modelwatch serve --capture-dir')",
    )
    drift.add_argument("--json", type=Path, help="write the JSON result here")
    drift.add_argument("--html", type=Path, help="write the HTML report here")
    _add_role_options(drift)
    add_fail_on_option(drift)
    add_chunk_options(drift)
    add_sagemaker_drift_options(drift)

    profile = commands.add_parser("profile", help="build a baseline profile from training data")
    profile.add_argument("--data", required=True, help="CSV or Parquet")
    profile.add_argument("--out", required=True, type=Path, help="where to write the profile (JSON)")
    _add_role_options(profile)

    train = commands.add_parser("train", help="train a model from the spec and export it to ONNX")
    train.add_argument("--data", required=True, help="CSV or Parquet with the features and the target")
    train.add_argument("--spec", required=True, help="monitoring spec (TOML)")
    train.add_argument(
        "--out", required=True, type=Path, help="model folder to write (model.onnx, manifest.json, baseline.json)"
    )
    train.add_argument("--version", default=None, help="version name (default: a timestamp)")
    train.add_argument("--holdout", type=float, default=0.25, help="share of rows kept for validation and the baseline")

    init = commands.add_parser("init", help="draft a commented monitoring spec from a data set")
    init.add_argument("--data", required=True, help="training or reference data (CSV or Parquet)")
    init.add_argument("--target", required=True, help="the ground-truth column")
    init.add_argument("--prediction", help="the model's prediction column, when the data has one")
    scores = init.add_mutually_exclusive_group()
    scores.add_argument("--score", help="binary: the positive-class probability column")
    scores.add_argument("--score-prefix", help="multiclass: column <prefix><class> holds P(class)")
    init.add_argument(
        "--task", choices=("binary", "multiclass", "regression"), help="default: inferred from the target"
    )
    init.add_argument(
        "--name", help="the model's name ([model] name and the metrics' service; default: the data file's name)"
    )
    init.add_argument("--out", type=Path, default=Path("monitoring.toml"), help="where to write the spec")
    init.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    cost = commands.add_parser("cost", help="the deployed stack's monthly cost by component, at a traffic volume")
    from modelwatch.cost.command import add_arguments as add_cost_arguments

    add_cost_arguments(cost)

    demo = commands.add_parser("demo-data", help="write the demo model's example data sets")
    demo.add_argument("--out", required=True, type=Path, help="folder for the CSV files")
    demo.add_argument("--rows", type=int, default=20_000, help="rows per data set")
    add_model_commands(commands)
    add_sagemaker_commands(commands)
    for entry in entry_points(group=COMMANDS_GROUP):
        try:
            entry.load()(commands)
        except ImportError as error:  # a package installed without what it needs: skip its commands
            print(f"modelwatch: warning: commands from {entry.value} unavailable ({error})", file=sys.stderr)
    return parser


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Console()
    err = Console(stderr=True)
    try:
        if args.command == "drift":
            from modelwatch.cli.commands import run_drift
            from modelwatch.cli.sagemaker_commands import sagemaker_drift_inputs

            with sagemaker_drift_inputs(args):  # a Model Monitor capture --current, read as a table
                return run_drift(args, out, _progress(err))
        if args.command == "profile":
            from modelwatch.cli.commands import run_profile

            return run_profile(args, out, _progress(err))
        if args.command == "init":
            from modelwatch.cli.init import run_init

            return run_init(args, out)
        if args.command == "train":
            from modelwatch.cli.commands import run_train

            return run_train(args, out)
        if args.command == "cost":
            from modelwatch.cost.command import run_cost

            return run_cost(args, out)
        if args.command in MODEL_COMMANDS:
            return MODEL_COMMANDS[args.command](args, out)
        if hasattr(args, "run"):  # a command another package added
            return int(args.run(args))
        from modelwatch.cli.commands import run_demo_data

        return run_demo_data(args, out)
    except UserInputError as exc:
        print(f"modelwatch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("modelwatch: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("MODELWATCH_DEBUG"):
            traceback.print_exc()
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(
            f"modelwatch: unexpected error: {type(exc).__name__}: {' '.join(str(exc).split())} "
            f"(at {Path(where.filename).name}:{where.lineno}; MODELWATCH_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


def entry_point() -> None:
    sys.exit(main())
