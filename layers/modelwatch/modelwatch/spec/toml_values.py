"""TOML values and keys written from JSON-mode data: what `modelwatch init`, the spec's commented
defaults and `modelwatch import-sagemaker` write specs with (the standard library reads TOML but
does not write it)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_value(value: Any) -> str:
    """Strings, numbers, booleans and arrays as JSON writes them (TOML reads them alike), except
    non-finite floats (TOML's nan, inf); tables inline. None (TOML has no null) never reaches
    here: a table's None entries are left out."""
    if isinstance(value, dict):
        items = [f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return json.dumps(value, ensure_ascii=False)


def toml_key(name: str) -> str:
    """A bare key when TOML allows one, else a quoted one."""
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name, ensure_ascii=False)
