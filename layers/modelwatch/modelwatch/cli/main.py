"""`modelwatch`: drift checks and baseline profiles from the command line.

Exit codes: 0 no dataset drift (or no verdict: insufficient data), 1 dataset drift, 2 bad usage
or unreadable input (one line naming the problem), 3 an unexpected error inside ModelWatch (one
line; set MODELWATCH_DEBUG=1 for the traceback). A crash is never 1: a script must not read a
bug as "drift".
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from modelwatch.errors import UserInputError

EXIT_OK, EXIT_DRIFT, EXIT_USAGE, EXIT_UNEXPECTED = 0, 1, 2, 3
EXIT_CODES_HELP = (
    "exit codes: 0 no dataset drift, 1 dataset drift, 2 bad usage or unreadable input, "
    "3 unexpected error (MODELWATCH_DEBUG=1 prints the traceback)"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        self.exit(EXIT_USAGE, f"modelwatch: error: {message} (see 'modelwatch {self.prog.split()[-1]} --help')\n")


def _add_role_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", help="monitoring spec (TOML); without it, columns are inferred from the reference")
    parser.add_argument("--target", help="label column (overrides the spec)")
    parser.add_argument("--prediction", help="predicted label column (overrides the spec)")
    parser.add_argument("--score", help="positive-class probability column (overrides the spec)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="modelwatch", description="ModelWatch: monitoring for ML models.", epilog=EXIT_CODES_HELP)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    drift = commands.add_parser("drift", help="compare current data with a reference", epilog=EXIT_CODES_HELP)
    drift.add_argument("--reference", required=True, help="CSV, Parquet or a saved profile")
    drift.add_argument("--current", required=True, help="CSV or Parquet")
    drift.add_argument("--json", type=Path, help="write the JSON result here")
    drift.add_argument("--html", type=Path, help="write the HTML report here")
    _add_role_options(drift)

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

    serve = commands.add_parser("serve", help="serve the API on 127.0.0.1 through the Lambda handlers")
    serve.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free port)")
    serve.add_argument(
        "--model", type=Path, help="model folder from 'modelwatch train' (default: train the demo model)"
    )

    story = commands.add_parser("demo", help="the monitoring story on the embedded stack (simulated days)")
    story.add_argument("--out", type=Path, default=Path("out/demo/stack"), help="folder for the reports")

    demo = commands.add_parser("demo-data", help="write the demo model's example data sets")
    demo.add_argument("--out", required=True, type=Path, help="folder for the CSV files")
    demo.add_argument("--rows", type=int, default=20_000, help="rows per data set")
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

            return run_drift(args, out, _progress(err))
        if args.command == "profile":
            from modelwatch.cli.commands import run_profile

            return run_profile(args, out, _progress(err))
        if args.command == "train":
            from modelwatch.cli.commands import run_train

            return run_train(args, out)
        if args.command == "demo":
            from modelwatch_local.story import main as story

            return story(args.out)
        if args.command == "serve":
            from modelwatch_local.server import serve

            return serve(args.port, args.model)
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
