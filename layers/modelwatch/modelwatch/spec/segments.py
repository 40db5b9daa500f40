"""Segments: slices of traffic (by region, by client, ...) each checked against its own slice of
the baseline, so a shift confined to one slice is not averaged away in the whole window."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Enough values for the usual regions or product lines; each kept value is one more drift
# analysis per run, so a run's cost grows with this, never with traffic.
DEFAULT_MAX_VALUES = 20


class Segment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
    # Categorical features or request attributes whose values (one tuple per row) name the
    # row's segment value.
    by: Annotated[list[str], Field(min_length=1)]
    # The most frequent values in the baseline are kept; every other value counts as "other".
    max_values: Annotated[int, Field(gt=0)] = DEFAULT_MAX_VALUES

    @model_validator(mode="after")
    def _by_does_not_repeat(self) -> Segment:
        repeated = sorted({name for name in self.by if self.by.count(name) > 1})
        if repeated:
            raise ValueError(f"by: {', '.join(repeated)} named more than once")
        return self


def segment_problems(
    segments: list[Segment], categorical: list[str], protected: dict[str, str], attributes: list[str] | None = None
) -> list[str]:
    """Every problem of the [[segments]] tables against the spec's features and request
    attributes ([attributes]), naming the key. `protected`: sensitive features and their
    protection ("drop", "hash")."""
    attributes = attributes or []
    problems = []
    names = [segment.name for segment in segments]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(f"segments: names repeat: {', '.join(repeated)}")
    for index, segment in enumerate(segments):
        for column in segment.by:
            if protected.get(column) == "drop":
                problems.append(
                    f"segments[{index}].by: '{column}' is a sensitive feature that is dropped, so no value is "
                    "kept to segment by"
                )
            elif column in protected:
                # The baseline keeps the declared raw values, the captures only pseudonyms of
                # them: the two could not be matched value by value.
                problems.append(
                    f"segments[{index}].by: '{column}' is a sensitive feature ({protected[column]}): captures hold "
                    "pseudonyms of its values, so it cannot name a segment"
                )
            elif column not in categorical and column not in attributes:
                problems.append(
                    f"segments[{index}].by: '{column}' is neither a categorical feature nor a request attribute "
                    f"(categorical features: {_listed(categorical)}; request attributes, declared as "
                    f"[attributes.<name>]: {_listed(attributes)})"
                )
    return problems


def _listed(names: list[str]) -> str:
    return ", ".join(names) if names else "none in this spec"
