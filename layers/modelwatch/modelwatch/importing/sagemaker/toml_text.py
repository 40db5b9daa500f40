"""A spec document written as TOML (the standard library reads TOML but does not write it)."""

from __future__ import annotations

from typing import Any

from modelwatch.spec.toml_values import toml_key, toml_value


def toml_text(document: dict[str, Any], header: str = "") -> str:
    """Scalars and lists of a table first, then each sub-table under its dotted name."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]

    def table(path: list[str], body: dict[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict)}
        if path and (scalars or not body):
            lines.append("")
            lines.append("[" + ".".join(toml_key(part) for part in path) + "]")
        lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in scalars.items())
        for key, value in body.items():
            if isinstance(value, dict):
                table([*path, key], value)

    table([], document)
    return "\n".join(lines) + "\n"
