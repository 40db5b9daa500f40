"""Drift reports: a JSON document and a self-contained HTML page."""

from modelwatch.report.writers import render_html, render_json, report_document, write_reports

__all__ = ["render_html", "render_json", "report_document", "write_reports"]
