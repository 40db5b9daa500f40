"""Read a monitoring spec file and report every problem with its place."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from modelwatch.catalog.metrics import CATALOGUE
from modelwatch.errors import UserInputError
from modelwatch.spec.models import DEPLOYABLE, MonitoringSpec


class SpecError(UserInputError):
    """The spec file is unreadable or invalid; `problems` lists each one as 'file: key: what'."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__("invalid monitoring spec: " + " | ".join(problems))

    def __reduce__(self) -> tuple[type[SpecError], tuple[str, list[str]]]:
        """Rebuilt from its own arguments: a worker process's error reaches the parent intact."""
        return type(self), (self.path, self.problems)


def _place(location: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for index, item in enumerate(location):
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif index == 2 and location[0] == "features" and item in ("numeric", "categorical"):
            continue  # pydantic's discriminator branch, not a key the user wrote
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def parse_spec(document: dict, source: str = "<spec>", deployable: bool = True) -> MonitoringSpec:
    """`deployable=False`: a spec the command line infers for its own use, never deployed, so
    CloudWatch's limits on a request's metrics do not apply to it."""
    try:
        spec = MonitoringSpec.model_validate(document, context={DEPLOYABLE: deployable})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:
                # Checks across sections name their own keys ("columns.score_prefix: ..."),
                # one problem each.
                problems += [f"{source}: {part}" for part in message.split(" | ")]
                continue
            problems.append(f"{source}: {_place(tuple(error['loc']))}: {message}")
        raise SpecError(source, problems) from None
    unknown = [
        f"{source}: alerts[{i}].metric: unknown metric '{a.metric}' (known: {', '.join(sorted(CATALOGUE))})"
        for i, a in enumerate(spec.alerts)
        if a.metric not in CATALOGUE
    ]
    if unknown:
        raise SpecError(source, unknown)
    # A rule on a metric the task never emits would sit in "insufficient data" for ever.
    misfits = [
        f"{source}: alerts[{i}].metric: '{a.metric}' has no value for a {spec.task} model "
        f"(it is for: {', '.join(CATALOGUE[a.metric].tasks)})"
        for i, a in enumerate(spec.alerts)
        if not CATALOGUE[a.metric].applies_to(spec.task)
    ]
    if misfits:
        raise SpecError(source, misfits)
    return spec


def load_spec(path: Path | str) -> MonitoringSpec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(path, [f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise SpecError(path, [f"{path}: not UTF-8 text"]) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, [f"{path}: not valid TOML: {exc}"]) from None
    return parse_spec(document, str(path))
