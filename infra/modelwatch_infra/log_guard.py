"""A synth-time guard on the functions' logging settings. Every function prints its EMF
documents (the metrics) and capture lines to standard output, unlevelled. With Lambda's JSON log
format and an application log level above INFO, Lambda drops such lines before CloudWatch sees
them: no metric, no capture, no alarm, and nothing says so. A template that sets that is refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Application log levels that still pass unlevelled standard output ("Log-level filtering" in the
# Lambda Developer Guide: lines without a level are INFO).
KEEPS_STANDARD_OUTPUT = ("TRACE", "DEBUG", "INFO")


def dropped_log_lines(template: Mapping[str, Any]) -> list[str]:
    """One line per function whose logging settings would drop its metric and capture lines."""
    problems = []
    for logical, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        config = resource.get("Properties", {}).get("LoggingConfig", {})
        level = config.get("ApplicationLogLevel")
        if config.get("LogFormat") == "JSON" and level is not None and level not in KEEPS_STANDARD_OUTPUT:
            problems.append(
                f"{logical}: LoggingConfig JSON with ApplicationLogLevel {level} drops its EMF and capture lines "
                f"(keep the Text format, or a level of {', '.join(KEEPS_STANDARD_OUTPUT)})"
            )
    return problems
