"""How any value becomes a class or category label, the same everywhere (profiles, feedback).

No numpy here: the feedback function's package does without it (numpy's scalar types register
with the `numbers` ABCs, so they are handled all the same)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence


def label_of(value: object) -> str:
    """Integral numbers print without a fraction, so 1, 1.0 and "1" are the same label."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return str(int(value))
    return str(value)


def class_label_problem(value: object, classes: list[str]) -> tuple[str, str] | None:
    """(rule, message) when `value` is not one of a classifier's `classes`, else None. A boolean
    is refused outright where the classes are not booleans: true would become the label "true",
    never 1, so it could only ever count as a wrong answer."""
    shown = ", ".join(classes)
    if isinstance(value, bool) and not set(classes) <= {"true", "false"}:
        return "boolean_label", f"a boolean, but the model's classes are not booleans (its classes: {shown})"
    label = label_of(value)
    if label not in classes:
        return "unknown_class", f"{label!r} is not one of the model's classes ({shown})"
    return None


def label_errors(labels: Sequence[object | None], classes: list[str], batch: bool) -> list[dict[str, object]]:
    """Each given label that is not one of a classifier's `classes`, as a validation error at its
    field (Pydantic's shape: loc, type, msg, input): `label`, or `items.<i>.label` in a batch."""
    errors: list[dict[str, object]] = []
    for index, label in enumerate(labels):
        problem = None if label is None else class_label_problem(label, classes)
        if problem is not None:
            rule, message = problem
            location = ("body", "items", index, "label") if batch else ("body", "label")
            errors.append({"loc": location, "type": rule, "msg": message, "input": label})
    return errors


def stored_label(label: object, task: str) -> str | float:
    """A label as stored: a regression's true value stays a number; a class becomes its label (1,
    1.0 and "1" alike)."""
    return float(label) if task == "regression" else label_of(label)  # type: ignore[arg-type]
