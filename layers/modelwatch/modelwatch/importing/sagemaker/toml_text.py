"""A spec document written as TOML (the standard library reads TOML but does not write it)."""

from __future__ import annotations

import json
import re
from typing import Any

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if BARE_KEY.match(name) else json.dumps(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's string escapes are TOML's basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def toml_text(document: dict[str, Any], header: str = "") -> str:
    """Scalars and lists of a table first, then each sub-table under its dotted name."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]

    def table(path: list[str], body: dict[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict)}
        if path and (scalars or not body):
            lines.append("")
            lines.append("[" + ".".join(_key(part) for part in path) + "]")
        lines.extend(f"{_key(k)} = {_value(v)}" for k, v in scalars.items())
        for key, value in body.items():
            if isinstance(value, dict):
                table([*path, key], value)

    table([], document)
    return "\n".join(lines) + "\n"
