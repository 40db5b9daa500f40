"""Parts of one scheduled run that must not skip each other: each runs whatever the others did,
and the run fails afterwards if any failed, so a failure is still reported (Lambda's Errors, its
retries and dead-letter queue) without costing the other parts their turn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt(Generic[T]):
    part: str
    value: T | None
    error: Exception | None

    @property
    def succeeded(self) -> bool:
        return self.error is None


def attempt(part: str, run: Callable[[], T]) -> Attempt[T]:
    """`run`'s value, or the error it raised (kept for `raise_failures`)."""
    try:
        return Attempt(part, run(), None)
    except Exception as error:  # raised again by raise_failures, after the other parts
        return Attempt(part, None, error)


def raise_failures(errors: Sequence[tuple[str, Exception]]) -> None:
    """Raise what failed, once every part has run: one error as itself, several as a group."""
    if len(errors) == 1:
        raise errors[0][1]
    if errors:
        raise ExceptionGroup(f"failed: {', '.join(part for part, _ in errors)}", [error for _, error in errors])
