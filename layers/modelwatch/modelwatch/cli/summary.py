"""The readable summary every `modelwatch drift` run ends with."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any, Literal, get_args

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:  # the drift package imports scipy: keep it off the start-up path
    from modelwatch.drift.results import ColumnDrift, DriftReport


FailOn = Literal["dataset", "feature", "multivariate", "any"]
FAIL_ON_HELP = (
    "what exits 1: 'dataset' the dataset verdict (default), 'feature' any feature drifted, "
    "'multivariate' any multivariate method drifted, 'any' any feature, multivariate, prediction, "
    "label or concept drift or a data-quality breach; with [[segments]] in the spec, a segment's "
    "drifted feature fails 'dataset', 'feature' and 'any'"
)


def add_fail_on_option(parser: argparse.ArgumentParser) -> None:
    """`--fail-on` for `modelwatch drift`: a CI gate picks which finding fails the build."""
    parser.add_argument("--fail-on", choices=get_args(FailOn), default="dataset", help=FAIL_ON_HELP)


def _column_drifted(column: ColumnDrift | None) -> bool:
    return column is not None and column.status == "ok" and bool(column.drifted)


def _concept(report: DriftReport) -> dict[str, Any] | None:
    concept = report.extra.get("concept_drift")
    return concept if isinstance(concept, dict) else None


def fails(report: DriftReport, fail_on: FailOn) -> bool:
    """Whether the run exits 1 under `--fail-on`; a kind that could not run never fails it."""
    # A segment's drifted feature (after the correction across segments x features) fails as the
    # dataset verdict does: a shift confined to one slice is diluted below it in the whole window.
    segments = bool(report.segment_drift)
    dataset = bool(report.dataset_drift) or segments
    feature = bool(report.drifted) or segments
    multivariate = any(result.drifted for result in report.multivariate)
    if fail_on == "dataset":
        return dataset
    if fail_on == "feature":
        return feature
    if fail_on == "multivariate":
        return multivariate
    concept = _concept(report)
    # The dataset verdict is in "any" too: a share threshold of 0 can call drift with no feature drifted.
    return (
        dataset
        or feature
        or multivariate
        or _column_drifted(report.prediction_drift)
        or _column_drifted(report.label_drift)
        or bool(concept and concept.get("drifted"))
        or bool(report.quality.breaches)
    )


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isinf(value):
        return "∞"
    return f"{value:.2e}" if value and abs(value) < 1e-4 else f"{value:.4f}"


def _verdict(column: ColumnDrift) -> str:
    if column.status != "ok":
        return "[yellow]insufficient data[/]"
    return "[bold red]DRIFT[/]" if column.drifted else "[green]ok[/]"


def _role_line(title: str, column: ColumnDrift | None, absent: str) -> str:
    if column is None:
        return f"{title}: not checked: {absent}"
    if column.status != "ok":
        return (
            f"{title}: not checked: {column.current_count} rows in the window, "
            f"fewer than min_sample_size ({column.min_sample_size})"
        )
    scored = f"score {_number(column.score)}, threshold {_number(column.threshold)}"
    return f"{title}: {column.name} {_verdict(column)} ({scored})"


def _feature_line(report: DriftReport) -> str:
    if not report.evaluated:
        return "Feature drift: not checked: no feature had enough rows for a verdict"
    names = ", ".join(column.name for column in report.drifted)
    found = f"[bold red]{names}[/]" if names else "[green]none[/]"
    return f"Feature drift: {len(report.drifted)} of {len(report.evaluated)} features drifted — {found}"


def _multivariate_line(report: DriftReport) -> str:
    if not report.multivariate:
        # The report cannot tell which: analyze_multivariate returns nothing in both cases.
        return "Multivariate drift: not checked: off in the spec, or fewer than two features sampled"
    verdicts = []
    for result in report.multivariate:
        if result.status != "ok":
            verdicts.append(f"{result.method} [yellow]insufficient data[/]")
            continue
        verdict = "[bold red]DRIFT[/]" if result.drifted else "[green]ok[/]"
        verdicts.append(
            f"{result.method} {verdict} (score {_number(result.score)}, threshold {_number(result.threshold)})"
        )
    return "Multivariate drift: " + "; ".join(verdicts)


def _concept_line(report: DriftReport) -> str:
    concept = _concept(report)
    if concept is None:
        return "Concept drift: not checked: no labelled performance for both the reference and the window"
    if concept.get("drifted") is None:
        return f"Concept drift: not checked: {concept.get('reason')}"
    verdict = "[bold red]DRIFT[/]" if concept["drifted"] else "[green]ok[/]"
    return (
        f"Concept drift: {verdict} ({concept['metric']} {_number(concept['current'])} against "
        f"{_number(concept['reference'])} on the reference, tolerance {_number(concept['tolerance'])})"
    )


def headline_lines(report: DriftReport) -> list[str]:
    """One line per kind of check, so a finding the dataset verdict does not count is still seen."""
    breaches = report.quality.breaches
    quality = f"[red]{len(breaches)} breach(es)[/] (listed below)" if breaches else "[green]no breaches[/]"
    return [
        _feature_line(report),
        _multivariate_line(report),
        _role_line(
            "Prediction drift", report.prediction_drift, "no prediction column in both the reference and the window"
        ),
        _role_line("Label drift", report.label_drift, "no label column in both the reference and the window"),
        _concept_line(report),
        f"Data quality: {quality}",
    ]


def chunks_line(report: DriftReport) -> str | None:
    """Drift over time in one line: how many chunks, how many drifted and the first of them."""
    chunks = report.chunks
    if chunks is None:
        return None
    drifted = chunks.drifted
    first = f", first on {chunks.labels[chunks.results.index(drifted[0])]}" if drifted else ""
    found = f"[bold red]{len(drifted)} drifted[/]{first}" if drifted else "[green]none drifted[/]"
    few = chunks.insufficient
    short = f", {len(few)} with too few rows for a verdict" if few else ""
    return f"Chunks: {len(chunks.results)} by {chunks.plan.by}, {found}{short}"


def segments_line(report: DriftReport) -> str | None:
    """The drifted segment values and their drifted features, in one line."""
    if report.segments is None:
        return None
    judged = [segment for segment in report.segments if segment.report.evaluated]
    drifted = [segment for segment in judged if segment.drifted]
    if not drifted:
        return f"Segments: [green]none drifted[/] ({len(judged)} of {len(report.segments)} values had enough rows)"
    named = "; ".join(
        # escaped: the label's brackets would read as Rich markup
        escape(f"{segment.label()} ({', '.join(f.name for f in segment.report.drifted)})")
        for segment in drifted
    )
    return f"Segments: [bold red]{len(drifted)} of {len(judged)} drifted[/] — {named}"


def print_summary(console: Console, report: DriftReport, paths: list[str]) -> None:
    table = Table(title="Feature drift", title_justify="left")
    for header, justify in (
        ("feature", "left"),
        ("type", "left"),
        ("method", "left"),
        ("score", "right"),
        ("threshold", "right"),
        ("verdict", "left"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    rows = list(report.features)
    for extra, _label in ((report.prediction_drift, "prediction"), (report.label_drift, "label")):
        if extra is not None:
            rows.append(extra)
    for column in rows:
        name = column.name
        if column is report.prediction_drift:
            name += " (prediction)"
        elif column is report.label_drift:
            name += " (label)"
        table.add_row(
            name,
            column.kind,
            column.method.value if column.method else "—",
            _number(column.score),
            _number(column.threshold),
            _verdict(column),
        )
    console.print(table)
    for line in headline_lines(report):
        console.print(line)
    for line in (chunks_line(report), segments_line(report)):
        if line is not None:
            console.print(line)
    if report.dataset_drift is None:
        console.print("[yellow]Dataset: insufficient data for a verdict[/]")
    else:
        verdict = "[bold red]DRIFT[/]" if report.dataset_drift else "[green]no drift[/]"
        console.print(
            f"Dataset: {verdict} — {len(report.drifted)} of {len(report.evaluated)} features drifted "
            f"(share {report.drift_share:.2f}, threshold {report.share_threshold:.2f})"
        )
    quality = report.quality
    from modelwatch.cli.quality_line import out_of_range_text  # per feature: an average hides the worst

    console.print(
        f"Quality: missing {quality.missing_rate:.2%}, out of range {out_of_range_text(quality.features)}, "
        f"unseen categories {quality.unseen_category_rate:.2%}, type errors {quality.type_error_rate:.2%}"
    )
    for breach in quality.breaches:
        console.print(f"  [red]breach[/] {breach}")
    for title, metrics in (
        ("Performance", report.performance),
        ("Estimated performance", report.estimated_performance),
    ):
        if metrics:
            # Scalars on one line; per-class tables (multiclass) are in the JSON and HTML reports.
            shown = ", ".join(f"{k} {_number(v)}" for k, v in metrics.items() if isinstance(v, int | float))
            console.print(f"{title}: {shown}")
    for path in paths:
        console.print(f"Report: {path}")
