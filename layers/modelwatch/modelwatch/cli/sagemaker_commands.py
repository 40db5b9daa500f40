"""Coming from SageMaker Model Monitor: `modelwatch import-sagemaker`, and `modelwatch drift`'s
--ground-truth and --violations with Model Monitor's captures as --current.

A Model Monitor capture (a JSON-lines file, or a folder of them, told apart from ModelWatch's own
captures by its lines' captureData) is converted once into a Parquet file in a temporary folder,
with the ground truth joined, and the drift check reads that file as it reads any table: the
profiling workers need nothing new, and every other option works on it unchanged.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwatch.errors import UserInputError

if TYPE_CHECKING:
    from modelwatch.drift.results import DriftReport
    from modelwatch.spec.models import MonitoringSpec

EXIT_OK = 0
DEFAULT_MODEL_NAME = "sagemaker-model"
# Where a joined ground truth goes when neither --target nor the spec names the label column.
DEFAULT_LABEL_COLUMN = "label"
IMPORT_HELP = """\
Read a Model Monitor baselining job's statistics.json and constraints.json and write
OUT/monitoring.toml (the spec: features and types, completeness, non-negative ranges, string
domains, the drift distance and thresholds) and OUT/baseline.json (the baseline profile, from the
KLL sketches and category counts). Prints one line for everything it cannot map.

Then: modelwatch drift --spec OUT/monitoring.toml --reference OUT/baseline.json \\
        --current CAPTURE.jsonl|CAPTURE_DIR [--ground-truth FILE|DIR] --violations violations.json"""


def add_sagemaker_commands(commands: Any) -> None:
    importer = commands.add_parser(
        "import-sagemaker",
        help="a spec and a baseline from SageMaker Model Monitor's statistics.json and constraints.json",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("--statistics", required=True, type=Path, help="the baselining job's statistics.json")
    importer.add_argument("--constraints", required=True, type=Path, help="its constraints.json")
    importer.add_argument("--out", required=True, type=Path, help="folder for monitoring.toml and baseline.json")
    importer.add_argument("--name", default=DEFAULT_MODEL_NAME, help=f"the model's name (default {DEFAULT_MODEL_NAME})")
    importer.add_argument("--force", action="store_true", help="overwrite the files in --out")
    importer.set_defaults(run=run_import_sagemaker)


def add_sagemaker_drift_options(drift: argparse.ArgumentParser) -> None:
    drift.add_argument(
        "--ground-truth",
        help="Model Monitor ground-truth JSON lines (file or folder), joined to a Model Monitor capture "
        "--current on inferenceId, else eventId",
    )
    drift.add_argument(
        "--violations", type=Path, help="also write Model Monitor's constraint_violations.json format here"
    )


def run_import_sagemaker(args: argparse.Namespace) -> int:
    from modelwatch.importing.sagemaker.constraints import import_constraints
    from modelwatch.importing.sagemaker.statistics import import_statistics
    from modelwatch.importing.sagemaker.toml_text import toml_text
    from modelwatch.spec import parse_spec

    spec_path, baseline_path = args.out / "monitoring.toml", args.out / "baseline.json"
    existing = [str(p) for p in (spec_path, baseline_path) if p.exists()]
    if existing and not args.force:
        raise UserInputError(f"{', '.join(existing)} already exist (--force overwrites)")
    baseline = import_statistics(args.statistics)
    imported = import_constraints(args.constraints, args.name, list(baseline.profile.columns))
    if not imported.document["features"]:
        raise UserInputError(f"{args.constraints}: no feature could be imported")
    # Validated as `modelwatch drift` and the stack will load it, naming the key at fault.
    spec = parse_spec(imported.document, str(spec_path))
    header = (
        f"Imported from SageMaker Model Monitor by `modelwatch import-sagemaker`:\n"
        f"constraints {args.constraints.name}, statistics {args.statistics.name}."
    )
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        spec_path.write_text(toml_text(imported.document, header), encoding="utf-8")
        baseline_path.write_bytes(baseline.to_json(args.statistics.name))
    except OSError as error:
        raise UserInputError(f"{args.out}: cannot write: {error.strerror or error}") from None
    for line in baseline.unmapped + imported.unmapped:
        print(f"modelwatch: not mapped: {line}")
    for name, note in baseline.notes.items():
        print(f"modelwatch: feature {name}: {note} (recorded in baseline.json)")
    print(
        f"imported {len(spec.numeric_features)} numeric and {len(spec.categorical_features)} categorical features, "
        f"drift by {spec.drift.numeric.method} > {spec.drift.numeric.threshold} -> {spec_path}, {baseline_path}"
    )
    return EXIT_OK


def _capture_names(args: argparse.Namespace) -> tuple[list[str], str | None, str]:
    """The features the spec (or the profile --reference) expects, in order, its prediction column
    if it names one, and the ground-truth column's name."""
    from modelwatch.profiles import DatasetProfile, is_profile_file
    from modelwatch.spec import load_spec

    label = getattr(args, "target", None)
    prediction = getattr(args, "prediction", None)
    if getattr(args, "spec", None):
        spec = load_spec(args.spec)
        return (
            list(spec.features),
            prediction or spec.columns.prediction,
            label or spec.columns.target or DEFAULT_LABEL_COLUMN,
        )
    if is_profile_file(args.reference):
        profile = DatasetProfile.load(args.reference)
        roles = {profile.roles.get(role) for role in ("target", "prediction", "score")}
        features = [name for name in profile.columns if not name.startswith("__") and name not in roles]
        return (
            features,
            prediction or profile.roles.get("prediction"),
            label or profile.roles.get("target") or DEFAULT_LABEL_COLUMN,
        )
    return [], prediction, label or DEFAULT_LABEL_COLUMN


def _arrow_column(values: list[Any]) -> Any:
    """Numbers stay numbers; a column mixing numbers and text becomes text, whose numbers a
    numeric feature's profile reads back and whose words it counts as type errors, as in a CSV."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else (repr(v) if isinstance(v, float) else str(v)) for v in values])


def _converted_capture(
    source: Path, folder: Path, role: str, args: argparse.Namespace, ground_truth: str | None
) -> dict[str, Any]:
    """A Model Monitor capture written as `folder/<role>.parquet`; what was read, for the report."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from modelwatch.importing.sagemaker.captures import (
        INFERENCE_TIME,
        capture_columns,
        positional_names,
        read_capture_rows,
        read_ground_truth,
    )

    features, prediction, label = _capture_names(args)
    rows = read_capture_rows(source)
    if not rows:
        raise UserInputError(f"{source}: no capture lines")
    labels = read_ground_truth(Path(ground_truth)) if ground_truth else None
    columns = capture_columns(rows, features, label if labels is not None else None, labels, prediction)
    read = [name for name in columns if name != label or labels is None]
    missing = [name for name in features if name not in columns]
    for name in missing:  # empty, so the check runs and says which columns were missing
        columns[name] = [None] * len(rows)
    # Columns that are neither features nor extra: the spec's prediction (the endpoint's output).
    ignored = [name for name in positional_names(rows, features, prediction) if name == prediction]
    if getattr(args, "timestamp", None) == INFERENCE_TIME and INFERENCE_TIME not in columns:
        # Drift over time by each request's capture time (--timestamp inferenceTime).
        columns[INFERENCE_TIME] = [row.inference_time for row in rows]
        ignored.append(INFERENCE_TIME)
    joined = ""
    if labels is not None:
        matched = sum(value is not None for value in columns[label])
        joined = f"; ground truth joined for {matched} of {len(rows)} rows as '{label}'"
    print(f"modelwatch: {source}: {len(rows)} Model Monitor capture rows, columns {', '.join(read[:12])}{joined}")
    converted = folder / f"{role}.parquet"
    pq.write_table(pa.table({name: _arrow_column(values) for name, values in columns.items()}), converted)
    return {
        "source": str(source),
        "path": str(converted),
        "columns": read,
        "missing": missing,
        "label": label,
        "not_features": ignored,
    }


@contextmanager
def sagemaker_drift_inputs(args: argparse.Namespace) -> Iterator[None]:
    """While the drift check runs, a Model Monitor capture --current (or --reference) is a
    Parquet file of its rows, the ground truth joined to the current one;
    args.sagemaker_current says what the current window was read from."""
    from modelwatch.importing.sagemaker.captures import is_model_monitor_capture

    ground_truth = getattr(args, "ground_truth", None)
    current, reference = Path(args.current), Path(args.reference)
    current_is_capture, reference_is_capture = is_model_monitor_capture(current), is_model_monitor_capture(reference)
    if ground_truth and not current_is_capture:
        raise UserInputError(f"--ground-truth joins Model Monitor captures, and {current} is none")
    if not current_is_capture and not reference_is_capture:
        yield
        return
    import tempfile

    args.sagemaker_sources = {"reference": str(reference), "current": str(current)}
    with tempfile.TemporaryDirectory(prefix="modelwatch-sagemaker-") as folder:
        if reference_is_capture:
            args.reference = _converted_capture(reference, Path(folder), "reference", args, None)["path"]
        if current_is_capture:
            args.sagemaker_current = _converted_capture(current, Path(folder), "current", args, ground_truth)
            args.current = args.sagemaker_current["path"]
        try:
            yield
        finally:
            args.current, args.reference = str(current), str(reference)


def write_drift_violations(args: argparse.Namespace, spec: MonitoringSpec, report: DriftReport) -> None:
    """--violations: the report as Model Monitor's constraint_violations.json."""
    from modelwatch.cli.tabular import TableFile
    from modelwatch.importing.sagemaker.violations import violations, write_violations
    from modelwatch.profiles import DatasetProfile, is_profile_file

    converted = getattr(args, "sagemaker_current", None)
    if converted is not None:
        # The ground truth, the prediction and the capture time are roles, not extra columns.
        ignored = {converted["label"], *converted["not_features"]}
        columns, missing = [c for c in converted["columns"] if c not in ignored], converted["missing"]
    elif is_profile_file(args.current):
        columns, missing = list(DatasetProfile.load(args.current).columns), []
    else:
        columns, missing = TableFile(args.current, spec).columns, []
    found = violations(spec, report, columns, missing)
    write_violations(args.violations, found)
    print(f"modelwatch: {len(found)} constraint violations -> {args.violations}")
