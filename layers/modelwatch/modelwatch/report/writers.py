"""Write a drift report as JSON and as a self-contained HTML page (no scripts, no CDN)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from modelwatch import __version__
from modelwatch.drift.results import DriftReport
from modelwatch.report.charts import bar_chart
from modelwatch.report.chunk_charts import chunk_charts

_environment = Environment(
    loader=PackageLoader("modelwatch.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _finite(value: Any) -> Any:
    """JSON has no Infinity or NaN, and a string in a number's place breaks readers: write null.
    (Where a statistic is infinite, its feature's `note` says why.)"""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def report_document(report: DriftReport, context: dict[str, Any]) -> dict[str, Any]:
    """The JSON document: the report plus where it came from."""
    return _finite(
        {
            "generated_at": context.get("generated_at") or datetime.now(UTC).isoformat(timespec="seconds"),
            "modelwatch_version": __version__,
            **{k: v for k, v in context.items() if k != "generated_at"},
            **report.to_dict(),
        }
    )


def render_json(report: DriftReport, context: dict[str, Any]) -> str:
    return json.dumps(report_document(report, context), indent=2, allow_nan=False)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞"
        if value != 0 and abs(value) < 10**-digits:
            return f"{value:.2e}"
        return f"{value:.{digits}f}"
    return str(value)


def render_html(report: DriftReport, context: dict[str, Any]) -> str:
    document = report_document(report, context)
    charts = {f.name: bar_chart(f.distribution) for f in report.features if f.distribution is not None}
    for extra in (report.prediction_drift, report.label_drift):
        if extra is not None and extra.distribution is not None:
            charts[extra.name] = bar_chart(extra.distribution)
    template = _environment.get_template("report.html.j2")
    return template.render(
        report=report,
        doc=document,
        charts=charts,
        chunk_charts=chunk_charts(report),
        fmt=_fmt,
        pct=lambda v: f"{v:.2%}",
    )


def write_reports(report: DriftReport, context: dict[str, Any], json_path: Path | None, html_path: Path | None) -> None:
    for path, render in ((json_path, render_json), (html_path, render_html)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(report, context), encoding="utf-8")
