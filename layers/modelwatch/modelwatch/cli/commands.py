"""The work behind each `modelwatch` command."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from modelwatch.cli.profiling import profile_inputs, profile_table
from modelwatch.cli.summary import print_summary
from modelwatch.cli.tabular import TableFile
from modelwatch.profiles import CategoricalColumnProfile, DatasetProfile, is_profile_file
from modelwatch.spec import MonitoringSpec, load_spec, parse_spec
from modelwatch.spec.inference import inferred_spec

EXIT_OK, EXIT_DRIFT = 0, 1


def _with_roles(spec: MonitoringSpec, args: argparse.Namespace) -> MonitoringSpec:
    roles = {role: getattr(args, role) for role in ("target", "prediction", "score") if getattr(args, role)}
    if not roles:
        return spec
    document = spec.model_dump(mode="json")
    document["columns"].update(roles)
    for column in roles.values():
        document["features"].pop(column, None)
    return parse_spec(document, "<spec with command-line columns>")


def resolve_spec(args: argparse.Namespace, reference: str) -> MonitoringSpec:
    """The spec file, or one inferred from the reference's columns; command-line roles win."""
    if args.spec:
        spec = load_spec(args.spec)
    elif is_profile_file(reference):
        profile = DatasetProfile.load(reference)
        # Reserved columns (derived ones, like P(positive)) are not features.
        columns = {n: c for n, c in profile.columns.items() if not n.startswith("__")}
        numeric = [n for n, c in columns.items() if not isinstance(c, CategoricalColumnProfile)]
        categorical = [n for n, c in columns.items() if isinstance(c, CategoricalColumnProfile)]
        spec = inferred_spec(numeric, categorical, args.target, args.prediction, args.score)
    else:
        kinds = TableFile(reference).inferred_kinds()
        spec = inferred_spec(kinds.numeric, kinds.categorical, args.target, args.prediction, args.score)
    return _with_roles(spec, args)


def _import_analysis() -> None:
    import modelwatch.drift
    import modelwatch.report  # noqa: F401


def run_drift(args: argparse.Namespace, out: Console, progress: Progress) -> int:
    spec = resolve_spec(args, args.reference)
    with progress:
        # scipy (0.5 s to import) loads here while the worker processes profile the files.
        profiles = profile_inputs(
            {"reference": args.reference, "current": args.current}, spec, progress, _import_analysis
        )
    from modelwatch.drift import analyze
    from modelwatch.report import write_reports

    report = analyze(spec, profiles["reference"], profiles["current"])
    context = {"model": spec.model.name, "reference": str(args.reference), "current": str(args.current)}
    write_reports(report, context, args.json, args.html)
    print_summary(out, report, [str(p) for p in (args.json, args.html) if p is not None])
    return EXIT_DRIFT if report.dataset_drift else EXIT_OK


def run_profile(args: argparse.Namespace, out: Console, progress: Progress) -> int:
    spec = resolve_spec(args, args.data)
    table = TableFile(args.data)
    table.require(list(spec.features), "training")
    with progress:
        profile = profile_table(table, spec, "profile", progress, chunks=spec.drift.calibration_chunks)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    profile.save(args.out)
    out.print(
        f"Profiled {profile.rows:,} rows, {len(profile.columns)} columns "
        f"({len(profile.chunks)} calibration chunks) -> {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)"
    )
    return EXIT_OK


def run_demo_data(args: argparse.Namespace, out: Console) -> int:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from modelwatch.demo.data import demo_frame

    folder: Path = args.out
    folder.mkdir(parents=True, exist_ok=True)
    for name, seed, drift in (("reference", 1, 0.0), ("current_stable", 2, 0.0), ("current_drifted", 3, 0.8)):
        path = folder / f"{name}.csv"
        pacsv.write_csv(pa.table(demo_frame(args.rows, seed, drift)), path)
        out.print(f"wrote {path} ({args.rows:,} rows)")
    return EXIT_OK


def run_train(args: argparse.Namespace, out: Console) -> int:
    from datetime import UTC, datetime

    import numpy as np

    from modelwatch.errors import UserInputError
    from modelwatch.training.publish import build_model_folder

    spec = load_spec(args.spec)
    if spec.columns.target is None:
        raise UserInputError(f"{args.spec}: columns.target is not set: there is nothing to train on")
    if not 0 < args.holdout < 1:
        raise UserInputError("--holdout must be between 0 and 1")
    table = TableFile(args.data)
    table.require([*spec.features, spec.columns.target], "training")
    columns = table.read_columns([*spec.features, spec.columns.target])
    rows = len(columns[spec.columns.target])
    order = np.random.default_rng(0).permutation(rows)
    cut = int(rows * (1 - args.holdout))
    train_rows, holdout_rows = order[:cut], order[cut:]
    now = datetime.now(UTC)
    version = args.version or now.strftime("v%Y%m%d%H%M%S")
    out.print(f"training on {len(train_rows):,} rows, validating on {len(holdout_rows):,} ...")
    folder = build_model_folder(
        spec,
        version,
        {k: v[train_rows] for k, v in columns.items()},
        {k: v[holdout_rows] for k, v in columns.items()},
        now,
    )
    folder.write(args.out)
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in folder.manifest.validation_metrics.items() if v is not None)
    out.print(f"model {version} -> {args.out} (validation: {metrics})")
    return EXIT_OK
