"""`modelwatch cost`: the stack's monthly cost by component, as a table or one JSON object."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from modelwatch.cost.model import estimate, sagemaker_per_month
from modelwatch.cost.tables import readme_tables
from modelwatch.cost.usage import Traffic, read_template
from modelwatch.errors import UserInputError
from modelwatch.spec.loader import load_spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", required=True, help="monitoring spec (TOML)")
    parser.add_argument("--requests-per-month", type=float, help="POST /predict requests a month (required)")
    parser.add_argument("--records-per-request", type=float, default=1.0, help="records per request (default 1)")
    parser.add_argument(
        "--labels-per-month", type=float, default=None, help="labels sent to /feedback (default: 10%% of predictions)"
    )
    parser.add_argument("--baseline-rows", type=int, default=10_000, help="rows of the baseline profile")
    parser.add_argument(
        "--template", type=Path, help="synthesized template (cdk.out/*.template.json): count its alarms"
    )
    parser.add_argument("--trace-api", action="store_true", help="X-Ray on the API functions (off by default)")
    parser.add_argument("--trace-background", action="store_true", help="X-Ray on the background functions too")
    parser.add_argument(
        "--platform-log-lines", action="store_true", help="Lambda's START/END/REPORT lines (off by default)"
    )
    parser.add_argument("--no-snapstart", action="store_true", help="the predict function without SnapStart")
    parser.add_argument("--no-dashboard", action="store_true", help="without the CloudWatch dashboard")
    parser.add_argument(
        "--idle-month",
        choices=("steady", "first"),
        default="steady",
        help="without requests: a steady idle month (SnapStart inactive, default) or the first one (14 days billed)",
    )
    parser.add_argument("--api-detailed-metrics", action="store_true", help="per-route API metrics (custom metrics)")
    parser.add_argument(
        "--drift-series",
        choices=("all", "consumed"),
        help="override the spec's [metrics] drift_series (consumed: only what alarms and the dashboard read)",
    )
    parser.add_argument(
        "--key-age-years",
        type=float,
        default=None,
        help="the KMS keys' age: each key's first two yearly rotations are billed (default: the third year on)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--readme", action="store_true", help="print the README's cost tables (idle, 1M, 100M, the cuts) instead"
    )


def run_cost(args: argparse.Namespace, out: Console) -> int:
    spec = load_spec(Path(args.spec))
    if args.drift_series is not None:
        spec = spec.model_copy(update={"metrics": spec.metrics.model_copy(update={"drift_series": args.drift_series})})
    if args.readme:
        print(readme_tables(spec), end="")
        return 0
    if args.requests_per_month is None:
        raise UserInputError("--requests-per-month is required (or --readme)")
    if args.requests_per_month < 0 or args.records_per_request <= 0:
        raise UserInputError("--requests-per-month must be >= 0 and --records-per-request > 0")
    traffic = Traffic(
        requests_per_month=args.requests_per_month,
        records_per_request=args.records_per_request,
        labels_per_month=args.labels_per_month,
        baseline_rows=args.baseline_rows,
        snap_start=not args.no_snapstart,
        idle_month=args.idle_month,
        dashboard=not args.no_dashboard,
        trace_api=args.trace_api,
        trace_background=args.trace_background,
        platform_log_lines=args.platform_log_lines,
        api_detailed_metrics=args.api_detailed_metrics,
        key_age_years=args.key_age_years,
    )
    template = read_template(args.template) if args.template else None
    result = estimate(spec, traffic, template)
    if args.json:
        print(json.dumps(result.as_json()))
        return 0
    table = Table(title=f"ModelWatch monthly cost, us-east-1 list prices of {result.prices_checked}")
    table.add_column("component")
    table.add_column("USD / month", justify="right")
    for name, value in sorted(result.components.items(), key=lambda item: -item[1]):
        table.add_row(name, f"{value:,.2f}")
    table.add_row("[bold]total[/bold]", f"[bold]{result.total_per_month:,.2f}[/bold]")
    per_million = result.per_million_predictions
    table.add_row("per 1M predictions", "—" if per_million is None else f"{per_million:,.2f}")
    sagemaker = sagemaker_per_month(traffic, result.prices, result.footprint)
    table.add_row("SageMaker endpoint + Model Monitor", f"{sagemaker:,.2f}")
    out.print(table)
    usage = result.usage
    out.print(
        f"{usage.custom_metrics:.1f} custom metrics, {usage.alarms} alarms ({usage.alarm_metrics} alarm metrics), "
        f"{sum(usage.log_bytes.values()) / 1e9:.3f} GB of logs"
    )
    stream = usage.stream
    if stream.objects:
        out.print(
            f"{stream.objects:,.0f} delivery objects ({stream.objects_per_traffic_hour:.1f} an hour with traffic), "
            f"each one capture invocation; {stream.billed_bytes / 1e9:.2f} GB billed by Firehose"
        )
    for name, amount in result.as_json()["unpriced"].items():
        if amount:
            out.print(f"not priced (prices.toml says why): {name} = {amount}")
    return 0
