"""`modelwatch init`: draft a commented monitoring spec from a training or reference data set.

Every column not named as the target, the prediction or a score is a feature, with its type, the
range or categories seen, and whether it had missing values. The task is inferred from the target
when not given. The draft is parsed before it is written, so it loads without edits.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console

from modelwatch.cli.profiling import profile_table
from modelwatch.cli.spec_defaults import default_sections
from modelwatch.cli.tabular import TableFile
from modelwatch.errors import UserInputError
from modelwatch.profiles import CategoricalColumnProfile, DatasetProfile, NumericColumnProfile
from modelwatch.spec import load_spec, parse_spec
from modelwatch.spec.inference import inferred_spec
from modelwatch.spec.models import ModelSection
from modelwatch.spec.roles import POSITIVE_LABELS, ROLES, conventional_roles, recognise_roles
from modelwatch.spec.toml_values import toml_key, toml_value

EXIT_OK = 0
# A categorical feature with more distinct values than this gets no category list (free text,
# identifiers): listing them would make every new value "unseen".
MAX_LISTED_CATEGORIES = 50
# A numeric target with at most this many distinct integral values is a class label.
MAX_CLASSES_FROM_NUMBERS = 20


def infer_task(target: NumericColumnProfile | CategoricalColumnProfile) -> tuple[str, str]:
    """(task, why) from the target's profile."""
    if isinstance(target, CategoricalColumnProfile):
        classes = len(target.counts)
        if classes <= 2:
            return "binary", f"the target is text with {classes} classes"
        return "multiclass", f"the target is text with {classes} classes"
    values = target.small_values
    if values is None:
        return "regression", "the target is numeric with more than 32 distinct values"
    if not all(float(v).is_integer() for v in values) or len(values) > MAX_CLASSES_FROM_NUMBERS:
        return "regression", f"the target is numeric with {len(values)} distinct, not all whole, values"
    if len(values) <= 2:
        return "binary", f"the target holds {len(values)} whole numbers"
    return "multiclass", f"the target holds {len(values)} whole numbers (classes)"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))


def _class_labels(target: NumericColumnProfile | CategoricalColumnProfile) -> list[str]:
    if isinstance(target, CategoricalColumnProfile):
        return sorted(target.counts)
    from modelwatch.labels import label_of

    return sorted(label_of(v) for v in (target.small_values or {}))


def draft_spec(
    profile: DatasetProfile,
    features: dict[str, str],
    task: str,
    task_reason: str,
    columns: dict[str, str],
    model_name: str,
    source: str,
    positive: str | None = None,
) -> str:
    """The spec's text: [model], [columns], one [features.NAME] per feature, commented."""
    lines = [
        f"# ModelWatch monitoring spec, drafted by `modelwatch init` from {source}.",
        "# Review the ranges and categories: they are what this data set held, and values outside",
        "# them will be counted as out-of-range or unseen. Reference: docs/spec.md.",
        "",
        "version = 1",
        "",
        "[model]",
        f"name = {toml_value(model_name)}",
        f"task = {toml_value(task)}  # {task_reason}",
        "",
        "# Columns that are not features.",
        "[columns]",
    ]
    comments = {
        "target": "ground truth (arrives later through POST /feedback)",
        "prediction": "the model's prediction",
        "score": "P(positive class)",
        "score_prefix": "column <prefix><class> holds P(class)",
    }
    for role, column in columns.items():
        # A role not in this data is named as served (the capture and the baseline use the name).
        where = "" if role_in_data(role, column, profile.columns) else "; name your scored data's column alike"
        lines.append(f"{role} = {toml_value(column)}  # {comments[role]}{where}")
    if task == "binary" and positive is not None:
        lines.append(f"positive_class = {toml_value(positive)}  # check: the class the score is the probability of")
    labels = _class_labels(profile.columns[columns["target"]]) if task == "multiclass" else []
    prefix = columns.get("score_prefix")
    if labels and not (prefix and any(name.startswith(prefix) for name in profile.columns)):
        lines.append(f"classes = {toml_value(labels)}  # the order of the <prefix><class> columns")
    lines.append("")
    for name, kind in features.items():
        column = profile.columns[name]
        lines.append(f"[features.{toml_key(name)}]")
        lines.append(f"type = {toml_value(kind)}")
        if isinstance(column, NumericColumnProfile) and column.valid:
            lines.append(f"min = {_number(column.minimum)}  # smallest value seen")
            lines.append(f"max = {_number(column.maximum)}  # largest value seen")
        if isinstance(column, CategoricalColumnProfile):
            if 0 < len(column.counts) <= MAX_LISTED_CATEGORIES:
                lines.append(f"categories = {toml_value(sorted(column.counts))}")
            elif column.counts:
                lines.append(f"# {len(column.counts)} distinct values: too many to list as categories")
        missing = column.missing + getattr(column, "type_errors", 0)
        share = missing / column.count if column.count else 0.0
        lines.append(
            f"nullable = {'true' if missing else 'false'}"
            + (f"  # {share:.1%} missing in this data" if missing else "  # no value was missing")
        )
        lines.append("")
    lines += ["[metrics]", f"service = {toml_value(model_name)}", ""]
    return "\n".join(lines)


def role_in_data(role: str, column: str, names: Iterable[str]) -> bool:
    """Whether the data holds the role's column (a score prefix: any column it starts)."""
    return any(n.startswith(column) for n in names) if role == "score_prefix" else column in names


def positive_class_of(target: NumericColumnProfile | CategoricalColumnProfile) -> str | None:
    """A binary target's positive class: the first positive-looking label, else the last one."""
    labels = _class_labels(target)
    return next((c for c in POSITIVE_LABELS if c in labels), labels[-1]) if labels else None


def _model_name(args: argparse.Namespace) -> str:
    """--name, checked by the spec's own rule; default: the data file's name, made one."""
    if args.name is None:
        return re.sub(r"[^A-Za-z0-9_-]+", "-", Path(args.data).stem).strip("-") or "model"
    try:
        ModelSection(name=args.name)
    except ValidationError as error:
        problem = error.errors()[0]["msg"]
        raise UserInputError(f"--name {args.name!r}: {problem} (it names the model's metrics)") from None
    return args.name


def _task(args: argparse.Namespace, profile: DatasetProfile) -> tuple[str, str]:
    if args.task:
        return args.task, "given with --task"
    if args.score_prefix:
        return "multiclass", "--score-prefix names class probabilities"
    if args.score:
        return "binary", "--score names a positive-class probability"
    return infer_task(profile.columns[args.target])


def _roles(
    args: argparse.Namespace, table: TableFile, numeric: list[str], task: str, positive: str | None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """(roles, columns that are neither role nor feature): the flags, the conventional names
    found in the data (modelwatch.spec.roles), then, for a prediction or score the data lacks,
    the conventional name a served model's records get, so the baseline and the captures carry
    them and drift checks prediction drift and estimated performance."""
    given = {role: getattr(args, role) for role in ROLES}
    recognised = recognise_roles(table.columns, numeric, given, task, positive_class=positive)
    roles = dict(recognised.roles)
    for role, column in conventional_roles(task, table.columns, positive or "1").items():
        roles.setdefault(role, column)
    return roles, recognised.ignored


def run_init(args: argparse.Namespace, out: Console) -> int:
    target_path: Path = args.out
    if target_path.exists() and not args.force:
        raise UserInputError(f"{target_path} exists: pass --force to overwrite it")
    model_name = _model_name(args)
    table = TableFile(args.data)
    flagged = {"target": args.target, "prediction": args.prediction, "score": args.score}
    table.require([c for c in flagged.values() if c is not None], "the")
    if args.score_prefix and not any(c.startswith(args.score_prefix) for c in table.columns):
        raise UserInputError(f"{table.path}: no column starts with --score-prefix '{args.score_prefix}'")
    kinds = TableFile(args.data).inferred_kinds()
    # Profile every column as a feature first (roles are only named after the task is known).
    everything = inferred_spec(kinds.numeric, kinds.categorical)
    profile = profile_table(table, everything, "init")
    if args.target not in profile.columns:
        raise UserInputError(f"{table.path}: no column '{args.target}'")
    task, reason = _task(args, profile)
    positive = positive_class_of(profile.columns[args.target]) if task == "binary" else None
    columns, ignored = _roles(args, table, kinds.numeric, task, positive)
    score_prefix = columns.get("score_prefix")
    features = {
        name: "numeric" if isinstance(profile.columns[name], NumericColumnProfile) else "categorical"
        for name in table.columns
        if name not in columns.values() and name not in ignored and not (score_prefix and name.startswith(score_prefix))
    }
    if not features:
        raise UserInputError(f"{table.path}: no column is left to be a feature")
    text = draft_spec(profile, features, task, reason, columns, model_name, Path(args.data).name, positive)
    # The commented defaults are written from the draft as parsed: what it deploys, not retyped.
    spec = parse_spec(tomllib.loads(text), str(target_path))
    text += "\n".join(default_sections(spec))
    target_path.parent.mkdir(parents=True, exist_ok=True)
    target_path.write_text(text, encoding="utf-8")
    try:
        load_spec(target_path)  # the draft must load without edits
    except UserInputError:
        target_path.unlink()
        raise
    out.print(f"inferred task: {task} ({reason})" if not args.task else f"task: {task}")
    in_data = [f"{k}={v}" for k, v in columns.items() if role_in_data(k, v, table.columns)]
    served = [f"{k}={v}" for k, v in columns.items() if not role_in_data(k, v, table.columns)]
    out.print(
        f"wrote {target_path}: model {model_name}, {len(features)} features, columns {', '.join(in_data)}"
        + (f"; named as served, not in this data: {', '.join(served)}" if served else ""),
        markup=False,
    )
    return EXIT_OK


__all__ = ["draft_spec", "infer_task", "run_init"]
