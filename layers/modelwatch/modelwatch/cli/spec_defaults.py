"""The commented [drift], [[alerts]] and [retraining] sections `modelwatch init` drafts: what a
spec deploys when it leaves them out, written from the parsed spec itself (the spec models'
defaults and the alarm plan's platform alarms), never retyped, so the numbers cannot drift apart
from what is deployed. Uncommenting them (every line starting with `#` and no space) leaves the
effective spec and its alarms as they were; edit a value, then uncomment its table.
"""

from __future__ import annotations

import textwrap

from pydantic import BaseModel

from modelwatch.spec.models import MonitoringSpec
from modelwatch.spec.toml_values import toml_key, toml_value


def commented_table(header: str, model: BaseModel) -> list[str]:
    """`#[header]` and one `#key = value` line per setting (unset ones, None, are left out: their
    absence is the default)."""
    values = model.model_dump(mode="json")
    return [f"#{header}", *(f"#{toml_key(k)} = {toml_value(v)}" for k, v in values.items() if v is not None)]


def _alarm_lines(spec: MonitoringSpec) -> list[str]:
    from modelwatch.alerts.plan import planned_alarms, platform_rules
    from modelwatch.cost.usage import alarms_from_plan

    planned = planned_alarms(spec)
    total, _ = alarms_from_plan(spec)
    names = [a.name + (" (starts retraining)" if a.action == "retrain" else "") for a in planned]
    lines = [
        f"# Alarms: with this spec the stack deploys {total} alarms (`modelwatch cost` counts them),",
        f"# {len(planned)} of them from the alarm plan:",
        *textwrap.wrap(", ".join(names), width=94, initial_indent="#   ", subsequent_indent="#   "),
        "# the others watch the functions, the dead-letter queues and the capture path. The",
        "# platform's own alarms are below as [[alerts]] rules (a rule of yours on the same metric",
        "# replaces one); add rules on any catalogued metric (docs/spec.md), e.g. p95 latency.",
    ]
    for rule in platform_rules(spec):
        lines += ["", *commented_table("[[alerts]]", rule)]
    return lines


def default_sections(spec: MonitoringSpec) -> list[str]:
    """The commented sections, ending with a blank line."""
    lines = [
        "",
        "# ---------------------------------------------------------------------------------------",
        "# What this spec deploys without the sections below: the defaults, written out. Lines",
        "# starting with '#' and no space are settings; uncommenting them changes nothing until",
        "# you edit a value. Reference: docs/spec.md.",
        "",
        "# Drift checks: tests, thresholds, windows (each window is a drift check and its metrics).",
        *commented_table("[drift]", spec.drift),
        "",
        *_alarm_lines(spec),
        "",
        "# Retraining: its triggers (each one alarm above) and how a challenger is promoted.",
    ]
    if spec.task == "regression" and spec.retraining.performance is None:
        lines += [
            "# A regression's error has units, so no performance trigger is set: add one, e.g.",
            '# performance = { metric = "mae", above = 10.0 }',
        ]
    lines += [*commented_table("[retraining]", spec.retraining), ""]
    return lines
