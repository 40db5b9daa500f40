"""The local runtime's `modelwatch` commands, found by the core's command line through the
`modelwatch.commands` entry point (pyproject.toml). Adding them imports nothing heavy: moto and
the functions load only when a command runs."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from modelwatch.catalog.functions import SPEC_NAME
from modelwatch.errors import UserInputError


def _spec_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", type=Path, default=Path(SPEC_NAME), help=f"monitoring spec (default: ./{SPEC_NAME})")


def add_commands(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve the API on 127.0.0.1 through the Lambda handlers")
    serve.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free port)")
    serve.add_argument(
        "--model",
        type=Path,
        help="model folder from 'modelwatch train' or 'modelwatch import' (default: train the demo model); "
        f"served with the {SPEC_NAME} it carries, else --spec",
    )
    serve.add_argument(
        "--spec", type=Path, default=None, help=f"monitoring spec (default: the folder's, else ./{SPEC_NAME})"
    )
    serve.add_argument(
        "--capture-dir",
        type=Path,
        default=None,
        help="keep the capture objects here (JSON lines, under their S3 keys) as they are written and at "
        "shutdown; read them with 'modelwatch drift --current DIR'",
    )
    serve.set_defaults(run=_serve)

    story = commands.add_parser(
        "demo",
        help="the monitoring story on the embedded stack (simulated hours): a quiet period, then latency, "
        "a bad model push, data drift and concept drift, each caught and mended",
    )
    story.add_argument(
        "--out", type=Path, default=Path("out/demo/stack"), help="folder for index.html, the dashboard and reports"
    )
    story.add_argument("--seed", type=int, default=1, help="the story's data and models (same seed, same story)")
    story.add_argument("--hours", type=int, default=6, help="hours of the quiet normal period (at least 1)")
    _spec_option(story)
    story.set_defaults(run=_demo)


def _require_spec(path: Path) -> Path:

    if not path.is_file():
        raise UserInputError(f"{path}: no monitoring spec there (pass --spec)")
    return path


def _local_runtime(module: str) -> ModuleType:
    """A module of the local runtime, or a one-line error when its packages are not installed."""

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise UserInputError(f"the local stack needs package {error.name!r}: pip install 'modelwatch[local]'") from None


def _serve(args: argparse.Namespace) -> int:
    # An imported folder carries the spec it was proved against: serve it with that one.
    carried = None if args.model is None else args.model / SPEC_NAME
    default = carried if carried is not None and carried.is_file() else Path(SPEC_NAME)
    spec = _require_spec(args.spec or default)
    return _local_runtime("modelwatch_local.server").serve(args.port, args.model, spec, capture_dir=args.capture_dir)


def _demo(args: argparse.Namespace) -> int:

    spec = _require_spec(args.spec)
    if args.hours < 1:
        raise UserInputError(f"--hours {args.hours}: the normal period needs at least 1 hour")
    return _local_runtime("modelwatch_local.story").main(args.out, spec, seed=args.seed, hours=args.hours)
