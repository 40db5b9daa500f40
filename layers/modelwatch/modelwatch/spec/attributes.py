"""Request attributes: values the API accepts beside the features (a client id, an app name) that
the model never reads, captured so that segments can cut traffic by them.

```toml
[attributes.client_id]
description = "the calling application"
max_length = 64
```

An attribute's value is a text of at most `max_length` characters, or absent (its segment value
is then "(missing)", as for a missing feature). It is sent once per request, for every record
of it (modelwatch.serving.request_models), and kept in the capture record beside the features.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# An attribute's name is a JSON key of every request and a column of every capture table: a
# plain identifier, of a length any key of a capture line is allowed.
ATTRIBUTE_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# A client id or an app name: short. Each attribute's longest value is counted into one capture
# line's worst case (modelwatch.catalog.capture_line), so the default is kept small.
DEFAULT_MAX_LENGTH = 64
MAX_LENGTH = 1024
# Every attribute is one more column of every capture and one more key to validate per request:
# a handful is what segments need; more would be features the model does not read.
MAX_ATTRIBUTES = 16


class RequestAttribute(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    max_length: Annotated[int, Field(ge=1, le=MAX_LENGTH)] = DEFAULT_MAX_LENGTH


AttributeName = Annotated[str, Field(pattern=ATTRIBUTE_NAME)]
Attributes = Annotated[dict[AttributeName, RequestAttribute], Field(max_length=MAX_ATTRIBUTES)]

# Keys of a capture record and columns its table always has, whatever [columns] names: an
# attribute of one of these names would be read back as the record's own field.
RECORD_FIELDS = ("request_id", "timestamp", "model_version", "prediction", "probabilities", "confidence")


def attribute_problems(
    attributes: Mapping[str, RequestAttribute],
    features: Mapping[str, object],
    role_columns: Mapping[str, str],
    score_prefix: str | None,
) -> list[str]:
    """Every [attributes] name that clashes with a column it would be confused with, naming the
    key: an attribute is a column of the capture table beside the features and the role columns
    (`role_columns`: [columns] key -> the column it names)."""
    problems = []
    for name in attributes:
        key = f"attributes.{name}"
        if name in features:
            problems.append(f"{key}: '{name}' is also a feature (an attribute is what the model does not read)")
        clashing_roles = [role for role, column in role_columns.items() if column == name]
        if clashing_roles:
            problems.append(f"{key}: '{name}' is also the column of columns.{clashing_roles[0]}")
        elif name in RECORD_FIELDS:
            problems.append(f"{key}: '{name}' is a field every capture record has ({', '.join(RECORD_FIELDS)})")
        if score_prefix is not None and name.startswith(score_prefix):
            problems.append(f"{key}: '{name}' starts with columns.score_prefix '{score_prefix}' (a class's score)")
    return problems
