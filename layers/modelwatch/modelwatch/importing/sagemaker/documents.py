"""Reading one of Model Monitor's JSON documents, refusing anything that is not one."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from modelwatch.errors import UserInputError


class NotModelMonitorFileError(UserInputError):
    """The file is not the Model Monitor document it was given as (exit 2, one line)."""


def read_document(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in `path`; `what` names the expected document in the error."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UserInputError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise NotModelMonitorFileError(f"{path}: not Model Monitor's {what} (not UTF-8 text)") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotModelMonitorFileError(f"{path}: not Model Monitor's {what} (not JSON: {error.msg})") from None
    if not isinstance(document, dict):
        raise NotModelMonitorFileError(f"{path}: not Model Monitor's {what} (a JSON object was expected)")
    return document


def features_of(document: dict[str, Any], path: Path, what: str) -> list[dict[str, Any]]:
    """The document's `features` list, every entry with a name and an inferred_type."""
    features = document.get("features")
    if not isinstance(features, list) or not features:
        hint = ""
        if any(key.endswith("_metrics") or key.endswith("_constraints") for key in document):
            hint = "; this looks like a model-quality file, and import-sagemaker reads the data-quality ones"
        raise NotModelMonitorFileError(f"{path}: not Model Monitor's {what} (no 'features' list{hint})")
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("name"), str):
            raise NotModelMonitorFileError(f"{path}: not Model Monitor's {what} (features[{index}] has no name)")
        if not isinstance(feature.get("inferred_type"), str):
            raise NotModelMonitorFileError(
                f"{path}: not Model Monitor's {what} (features[{index}] '{feature['name']}' has no inferred_type)"
            )
    return features


def number(value: Any, where: str, path: Path) -> float:
    """A JSON number (Model Monitor writes some counts as floats, and "NaN" as a string)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise NotModelMonitorFileError(f"{path}: {where}: a number was expected, found {value!r}")
    try:
        return float(value)
    except ValueError:
        raise NotModelMonitorFileError(f"{path}: {where}: a number was expected, found {value!r}") from None


def count(value: Any, where: str, path: Path) -> int:
    """A count: a finite number at least 0 (written as a float or not), rounded to a whole one."""
    found = number(value, where, path)
    if not math.isfinite(found) or found < 0:
        raise NotModelMonitorFileError(f"{path}: {where}: a count was expected, found {value!r}")
    return round(found)


def misshapen(path: Path, what: str, where: str, error: Exception) -> NotModelMonitorFileError:
    """A value of the wrong shape somewhere inside (a list where an object belongs, a missing
    key): one line naming the place, never a traceback."""
    detail = f"no {error}" if isinstance(error, KeyError) else " ".join(str(error).split())
    return NotModelMonitorFileError(f"{path}: not Model Monitor's {what} ({where}: {detail})")
