"""The readable summary every `modelwatch drift` run ends with."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the drift package imports scipy: keep it off the start-up path
    from modelwatch.drift.results import ColumnDrift, DriftReport


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
    if report.dataset_drift is None:
        console.print("[yellow]Dataset: insufficient data for a verdict[/]")
    else:
        verdict = "[bold red]DRIFT[/]" if report.dataset_drift else "[green]no drift[/]"
        console.print(
            f"Dataset: {verdict} — {len(report.drifted)} of {len(report.evaluated)} features drifted "
            f"(share {report.drift_share:.2f}, threshold {report.share_threshold:.2f})"
        )
    quality = report.quality
    console.print(
        f"Quality: missing {quality.missing_rate:.2%}, out of range {quality.out_of_range_rate:.2%}, "
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
