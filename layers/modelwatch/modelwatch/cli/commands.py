"""The work behind each `modelwatch` command."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from modelwatch.cli.drift_over_time import analyze_over_time, chunk_plan, require_time_column, without_time_column
from modelwatch.cli.profiling import profile_inputs_and_chunks, profile_table
from modelwatch.cli.summary import fails, print_summary
from modelwatch.cli.tabular import TableFile
from modelwatch.errors import UserInputError
from modelwatch.profiles import CategoricalColumnProfile, DatasetProfile, ProfileSchema, is_profile_file
from modelwatch.profiles.segmented import SegmentedProfile
from modelwatch.spec import MonitoringSpec, load_spec, parse_spec
from modelwatch.spec.inference import inferred_spec
from modelwatch.spec.roles import PREDICTION, recognise_roles, unset_roles, with_roles

EXIT_OK, EXIT_DRIFT = 0, 1


ROLE_OPTIONS = ("target", "prediction", "score", "score_prefix")


def _with_roles(spec: MonitoringSpec, args: argparse.Namespace) -> MonitoringSpec:
    roles = {role: getattr(args, role, None) for role in ROLE_OPTIONS if getattr(args, role, None)}
    task = getattr(args, "task", None)
    if not roles and task is None:
        return spec
    # Only what the user set (model_dump would make every default look explicit, and a task
    # check would then blame keys they never wrote).
    document = spec.model_dump(mode="json", exclude_unset=True)
    document.setdefault("columns", {}).update(roles)
    if task is not None:
        document["model"]["task"] = task
    for column in roles.values():
        document["features"].pop(column, None)
    if "score_prefix" in roles:
        document["features"] = {
            name: feature
            for name, feature in document["features"].items()
            if not name.startswith(roles["score_prefix"])
        }
    return parse_spec(document, "<spec with command-line columns>", deployable=False)  # this command's alone


def _spec_from_columns(
    args: argparse.Namespace,
    numeric: list[str],
    categorical: list[str],
    recorded: dict[str, str],
    categorical_prediction: bool | None,
) -> MonitoringSpec:
    """A spec inferred from the reference's columns. Roles: the flags', then those a baseline
    recorded, then the conventional names where unambiguous (modelwatch.spec.roles); every other
    column is a feature. Says in one line what it took as which role when anything was not given
    by a flag, so a wrong guess is seen and overridden."""
    flags = {role: getattr(args, role, None) for role in ROLE_OPTIONS}
    given = {role: flags[role] or recorded.get(role) for role in ROLE_OPTIONS}
    if flags["score"] or flags["score_prefix"]:  # a flag's score replaces the recorded one
        given |= {"score": flags["score"], "score_prefix": flags["score_prefix"]}
    task = getattr(args, "task", None) or recorded.get("task")
    recognised = recognise_roles(
        [*numeric, *categorical], numeric, given, task, categorical_prediction, recorded.get("positive_class")
    )
    roles = recognised.roles
    settings = {key: recorded[key] for key in ("positive_class", "score_kind") if key in recorded}
    if recognised.positive_class is not None:
        settings["positive_class"] = recognised.positive_class
    spec = inferred_spec(
        numeric,
        categorical,
        roles.get("target"),
        roles.get("prediction"),
        roles.get("score"),
        roles.get("score_prefix"),
        task or recognised.task or ("multiclass" if roles.get("score_prefix") else "binary"),
        settings,
        recognised.ignored,
    )
    if any(roles.get(role) != flags[role] for role in roles):  # something was not given by a flag
        source = " (as the baseline recorded)" if recorded else ""
        _say(
            f"no --spec: task {spec.task}{source}; {recognised.describe(len(spec.features))} "
            "(--spec or the role flags choose otherwise)"
        )
    return spec


def _say(note: str) -> None:
    """One line before the command's summary, on stdout: stderr holds errors only, so a bad input
    stays one error line there."""
    print(f"modelwatch: {note}", flush=True)


def _holds_labels(table: TableFile, prediction: str | None) -> bool | None:
    """Whether the table's prediction column holds class labels (text or whole numbers) rather
    than a regression's predicted values (floating point), by its stored type; None without one."""
    name = prediction or PREDICTION
    if name not in table.schema.names:
        return None
    import pyarrow as pa

    return not pa.types.is_floating(table.schema.field(name).type)


def _roles_from_profile(spec: MonitoringSpec, profile: DatasetProfile) -> MonitoringSpec:
    """A spec naming no prediction or score column, against a baseline that holds them (a model
    folder's baseline always does): take them, as the baseline recorded them or by their
    conventional names, and say so. Only the roles the spec's task has are taken."""
    wanted = {role: profile.roles.get(role, column) for role, column in unset_roles(spec).items()}
    held = {
        role: column
        for role, column in wanted.items()
        if (any(c.startswith(column) for c in profile.columns) if role == "score_prefix" else column in profile.columns)
    }
    if "score" in held and "prediction" not in held and spec.columns.prediction is None:
        held.pop("score")  # a score needs its prediction (confidence and CBPE read both)
    if not held:
        return spec
    _say(f"the spec names no {' / '.join(held)} column: taking {', '.join(held.values())} from the baseline")
    return with_roles(spec, held)


def resolve_spec(args: argparse.Namespace, reference: str) -> MonitoringSpec:
    """The spec file, or one inferred from the reference's columns; command-line roles win."""
    if args.spec:
        spec = load_spec(args.spec)
        if is_profile_file(reference):
            spec = _roles_from_profile(spec, DatasetProfile.load(reference))
    elif is_profile_file(reference):
        profile = DatasetProfile.load(reference)
        # Reserved columns (derived ones, like P(positive)) are not features.
        columns = {n: c for n, c in profile.columns.items() if not n.startswith("__")}
        numeric = [n for n, c in columns.items() if not isinstance(c, CategoricalColumnProfile)]
        categorical = [n for n, c in columns.items() if isinstance(c, CategoricalColumnProfile)]
        prediction = columns.get(args.prediction or profile.roles.get("prediction") or PREDICTION)
        categorical_prediction = None if prediction is None else isinstance(prediction, CategoricalColumnProfile)
        spec = _spec_from_columns(args, numeric, categorical, profile.roles, categorical_prediction)
    else:
        table = TableFile(reference)
        kinds = table.inferred_kinds()
        spec = _spec_from_columns(args, kinds.numeric, kinds.categorical, {}, _holds_labels(table, args.prediction))
    return _with_roles(spec, args)


def _import_analysis() -> None:
    import modelwatch.drift
    import modelwatch.report  # noqa: F401


def _missing_role_columns(args: argparse.Namespace, spec: MonitoringSpec) -> None:
    """A column the command line names (--target, --prediction, --score, --score-prefix) that an
    input table lacks is an error naming the flag and the file: the check it asks for could not
    run, and a silent skip would read as "no drift". (The current window may lack the target:
    its performance is then estimated.) (A profile, such as an import's
    baseline.json, holds no raw columns: it is checked for what it summarised instead.)"""
    wanted = {role: getattr(args, role, None) for role in ROLE_OPTIONS if getattr(args, role, None)}
    if not wanted:
        return
    for path in (args.reference, args.current):
        if is_profile_file(path):
            profile = DatasetProfile.load(path)
            if ("prediction" in wanted or "target" in wanted) and profile.performance is None:
                flags = " / ".join(f"--{role.replace('_', '-')}" for role in wanted)
                raise UserInputError(f"{path}: a profile without predictions or labels, so {flags} cannot be used")
            continue
        columns = set(TableFile(path, spec).columns)
        for role, column in wanted.items():
            if role == "target" and path == args.current:
                continue  # a window without labels yet: its performance is estimated, not measured
            present = any(c.startswith(column) for c in columns) if role == "score_prefix" else column in columns
            if not present:
                flag = f"--{role.replace('_', '-')}"
                raise UserInputError(
                    f"{path}: no column {column!r} for {flag} (its columns: {', '.join(sorted(columns)[:12])})"
                )


def run_drift(args: argparse.Namespace, out: Console, progress: Progress) -> int:
    plan = chunk_plan(args)
    spec = resolve_spec(args, args.reference)
    if plan is not None:
        spec = without_time_column(spec, plan)
        require_time_column(plan, args.current, spec)
    _missing_role_columns(args, spec)
    loss_model = _reference_loss_model(spec, args.reference, out)
    segmented = None
    if spec.segments and plan is None:
        # Each file read once into its whole profile and its segments' (the reference's `by`
        # columns alone first, to choose the values it keeps).
        segmented = _segmented_inputs(spec, args, progress, loss_model)
        profiles = {label: profile.whole for label, profile in segmented.items()}
        chunked = None
    else:
        with progress:
            # scipy (0.5 s to import) loads here while the worker processes profile the files.
            profiles, chunked = profile_inputs_and_chunks(
                {"reference": args.reference, "current": args.current},
                spec,
                progress,
                _import_analysis,
                loss_model,
                chunking=plan,
            )
    from modelwatch.drift import analyze
    from modelwatch.report import write_reports

    report = analyze(spec, profiles["reference"], profiles["current"])
    if plan is not None and chunked is not None:
        over_time = analyze_over_time(spec, profiles["reference"], chunked, plan, progress.console)
        report = dataclasses.replace(report, chunks=over_time)
    if spec.segments:
        from modelwatch.segments.verdicts import analyze_segments

        if segmented is None:  # drift over time reads its chunks in its own pass
            segmented = _segmented_inputs(spec, args, progress, loss_model)
        segments = analyze_segments(spec, segmented["reference"], segmented["current"])
        report = dataclasses.replace(report, segments=segments)
    # A Model Monitor capture is read from a converted copy (cli/sagemaker_commands): name the original.
    sources = getattr(args, "sagemaker_sources", {})
    context = {
        "model": spec.model.name,
        "reference": sources.get("reference", str(args.reference)),
        "current": sources.get("current", str(args.current)),
    }
    write_reports(report, context, args.json, args.html)
    if getattr(args, "violations", None) is not None:
        from modelwatch.cli.sagemaker_commands import write_drift_violations

        write_drift_violations(args, spec, report)
    print_summary(out, report, [str(p) for p in (args.json, args.html) if p is not None])
    # The parser in cli/main.py adds --fail-on through add_fail_on_option; a caller that builds
    # its own namespace without it gets the dataset verdict, the exit code before --fail-on.
    return EXIT_DRIFT if fails(report, getattr(args, "fail_on", "dataset")) else EXIT_OK


def _segmented_inputs(
    spec: MonitoringSpec, args: argparse.Namespace, progress: Progress, loss_model: bytes | None
) -> dict[str, SegmentedProfile]:
    """Both files' whole profiles and their segments', each segment value of the window to be
    judged against its own slice of the reference (a segment by a request attribute the
    reference lacks: against the whole reference, README: Segments)."""
    from modelwatch.cli.profiling import baseline_model, calibration_chunks
    from modelwatch.cli.segmented_profiling import profile_segments
    from modelwatch.profiles.segmented import against_whole_reference, unsliced_attribute_segments

    with progress:
        chunks = calibration_chunks(spec, "reference")
        reference = profile_segments(args.reference, spec, "reference", progress, loss_model, chunks=chunks)
        absent = unsliced_attribute_segments(spec, reference.tables)
        cut, open_segments = reference.cut(spec), frozenset(absent)
        # Read after the reference, so every window row's reconstruction error is profiled.
        model = baseline_model(reference.whole, spec)
        current = profile_segments(
            args.current, spec, "current", progress, loss_model, cut, open_segments=open_segments, reconstruction=model
        )
    return {"reference": against_whole_reference(reference, current, absent), "current": current}


LOSS_MODEL_MAX_ROWS = 50_000


def _reference_loss_model(spec: MonitoringSpec, reference: str, out: Console) -> bytes | None:
    """Regression: DLE's loss model, fitted on the reference's labelled rows (at most
    LOSS_MODEL_MAX_ROWS of them, drawn at random), so the current window's error can be
    estimated without its labels; for a model folder's baseline, the folder's own loss model.
    None when the reference lacks the columns, or is a profile outside a model folder."""
    target, prediction = spec.columns.target, spec.columns.prediction
    if spec.task != "regression" or prediction is None:
        return None
    if is_profile_file(reference):
        return _model_folder_loss_model(Path(reference))
    if target is None:
        return None
    table = TableFile(reference, spec)
    if target not in table.columns or prediction not in table.columns:
        return None
    import numpy as np

    from modelwatch.dle import fit_loss_model, loss_model_inputs

    columns = table.read_columns([*spec.features, target, prediction])
    rows = len(columns[target])
    if rows > LOSS_MODEL_MAX_ROWS:
        keep = np.sort(np.random.default_rng(0).choice(rows, LOSS_MODEL_MAX_ROWS, replace=False))
        columns = {name: values[keep] for name, values in columns.items()}
    try:
        model = fit_loss_model(*loss_model_inputs(spec), columns, columns[prediction], columns[target])
    except ValueError as exc:
        out.print(f"no estimated performance: {exc}")
        return None
    return model.to_bytes()


def _model_folder_loss_model(baseline: Path) -> bytes | None:
    """The loss model beside a model folder's baseline (`train` and `import` fit it on the same
    reference rows), verified against the manifest's SHA-256; None for a profile that is not a
    model folder's baseline or a version without one. A profile cannot carry it itself: it is a
    fitted model run on each current row, not a summary."""
    from modelwatch.registry.manifest import MANIFEST_NAME, ModelManifest, sha256_hex

    manifest_path = baseline.parent / MANIFEST_NAME
    if not manifest_path.is_file():
        return None
    try:
        manifest = ModelManifest.model_validate_json(manifest_path.read_bytes())
    except ValueError:
        return None  # some other manifest.json: this is no model folder
    if manifest.loss_model is None or manifest.baseline_key != baseline.name:
        return None
    path = baseline.parent / manifest.loss_model.key
    try:
        loss_model = path.read_bytes()
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read the model folder's loss model ({exc.strerror})") from None
    if sha256_hex(loss_model) != manifest.loss_model.sha256:
        raise UserInputError(f"{path}: SHA-256 does not match {manifest_path}; refusing to use it")
    return loss_model


def run_profile(args: argparse.Namespace, out: Console, progress: Progress) -> int:
    spec = resolve_spec(args, args.data)
    table = TableFile(args.data)
    table.require(list(spec.features), "training")
    with progress:
        if spec.segments:
            from modelwatch.cli.segmented_profiling import profile_segments

            # The whole and each segment value's profile, in one pass over the rows.
            segmented = profile_segments(args.data, spec, "profile", progress, chunks=spec.drift.calibration_chunks)
            profile = segmented.to_profile()
        else:
            profile = profile_table(table, spec, "profile", progress, chunks=spec.drift.calibration_chunks)
    # As a model folder's baseline does: a drift run against it needs no spec to know its roles.
    profile.roles = ProfileSchema.from_spec(spec).recorded_roles()
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
    # The request attributes segments cut by, where the data has them: the baseline's slices.
    attributes = [name for name in spec.segment_attributes if name in table.columns]
    columns = table.read_columns([*spec.features, spec.columns.target, *attributes])
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
    scalars = {k: v for k, v in folder.manifest.validation_metrics.items() if isinstance(v, int | float)}
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in scalars.items())  # per-class tables are in the manifest
    out.print(f"model {version} -> {args.out} (validation: {metrics})")
    return EXIT_OK
