"""The columns that are not features, by their conventional names, declared once: what
`modelwatch init` drafts into [columns], what a model folder's baseline names the model's
predictions and scores under when the spec names none, and what the command line recognises in
data that comes without a spec."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from modelwatch.spec.models import DEPLOYABLE, MonitoringSpec

PREDICTION = "prediction"
# Class probabilities, `<prefix><class>`: the first is what init drafts (unless a feature starts
# with it); all are recognised.
SCORE_PREFIXES = ("p_", "proba_")
TARGETS = ("target", "label")
# A binary score_kind "confidence" column: the top probability, not P(positive class).
CONFIDENCE = "confidence"
# Class labels that read as "the positive one" when a binary's classes do not say otherwise.
POSITIVE_LABELS = ("1", "true", "yes", "True", "Yes")
ROLES = ("target", "prediction", "score", "score_prefix")


def score_prefix_for(features: Collection[str]) -> str:
    """The first conventional prefix no feature starts with (the spec refuses a prefix that also
    starts a feature's name)."""
    for prefix in SCORE_PREFIXES:
        if not any(name.startswith(prefix) for name in features):
            return prefix
    prefix = SCORE_PREFIXES[0]
    while any(name.startswith(prefix) for name in features):
        prefix = "_" + prefix
    return prefix


def conventional_roles(
    task: str, features: Collection[str], positive_class: str, score_kind: str = "positive_probability"
) -> dict[str, str]:
    """The prediction and score columns a served model's records carry, by their conventional
    names: regression a prediction; binary also the positive class's probability (or the
    confidence); multiclass one probability column per class."""
    roles = {"prediction": PREDICTION}
    if task == "binary":
        prefix = score_prefix_for(features)
        roles["score"] = CONFIDENCE if score_kind == "confidence" else prefix + positive_class
    elif task == "multiclass":
        roles["score_prefix"] = score_prefix_for(features)
    return {role: column for role, column in roles.items() if column not in features}


def unset_roles(spec: MonitoringSpec) -> dict[str, str]:
    """The conventional prediction and score columns of the roles `spec` leaves unset."""
    conventional = conventional_roles(spec.task, spec.features, spec.columns.positive_class, spec.columns.score_kind)
    return {role: column for role, column in conventional.items() if getattr(spec.columns, role) is None}


def with_roles(spec: MonitoringSpec, roles: Mapping[str, str]) -> MonitoringSpec:
    """`spec` with these [columns] roles set (validated as a spec is)."""
    if not roles:
        return spec
    return spec.model_validate(
        spec.model_dump() | {"columns": spec.columns.model_dump() | dict(roles)},
        context={DEPLOYABLE: False},  # for profiling: nothing of it is deployed
    )


def with_served_roles(spec: MonitoringSpec) -> MonitoringSpec:
    """`spec` with every prediction and score role it leaves unset named conventionally: a model
    folder's baseline always holds the model's own predictions and scores on its reference rows,
    so prediction drift and estimated performance can run against it whatever the spec names."""
    return with_roles(spec, unset_roles(spec))


@dataclass(frozen=True)
class RecognisedRoles:
    """What a table's column names say about its roles: each role's column, the task when the
    score columns tell it, and the columns that are neither feature nor role (the other classes'
    probabilities of a binary model)."""

    roles: dict[str, str] = field(default_factory=dict)
    task: str | None = None
    positive_class: str | None = None
    ignored: tuple[str, ...] = ()

    def describe(self, features: int) -> str:
        taken = ", ".join(f"{role} = {column}" for role, column in self.roles.items()) or "no role column"
        ignored = f"; ignored {', '.join(self.ignored)}" if self.ignored else ""
        return f"took {taken}{ignored}; {features} feature(s)"


def _score_columns(columns: Collection[str], numeric: Collection[str]) -> tuple[str, list[str]] | None:
    """(prefix, its columns): the one conventional prefix whose columns are all numbers, when
    exactly one prefix has columns (two would be ambiguous)."""
    found = []
    for prefix in SCORE_PREFIXES:
        named = sorted(c for c in columns if c.startswith(prefix) and len(c) > len(prefix))
        if named and all(c in numeric for c in named):
            found.append((prefix, named))
    return found[0] if len(found) == 1 else None


def recognise_roles(
    columns: Collection[str],
    numeric: Collection[str],
    given: Mapping[str, str | None],
    task: str | None,
    categorical_prediction: bool | None = None,
    positive_class: str | None = None,
) -> RecognisedRoles:
    """The roles of a table's columns: those `given` (the command line's flags), then the
    conventional names where they are unambiguous: `target` or `label` (exactly one of them),
    `prediction`, and class probabilities `p_<class>` or `proba_<class>` (numbers, under one
    prefix). Two probability columns, or one of a positive-looking class, are a binary model's
    (the score: the positive class's); three or more a multiclass model's.
    `categorical_prediction`: whether the prediction column holds labels (a saved profile knows;
    a regression's predictions are numbers), None when unknown. `positive_class`: a binary's, when
    known (from its target's labels, or a baseline's record)."""
    roles = {role: column for role, column in given.items() if column}
    if "target" not in roles:
        targets = [c for c in TARGETS if c in columns]
        if len(targets) == 1:
            roles["target"] = targets[0]
    if "prediction" not in roles and PREDICTION in columns:
        roles["prediction"] = PREDICTION
    found_task, positive, ignored = None, None, ()
    scored = (
        None
        if ("score" in roles or "score_prefix" in roles or task == "regression")
        else _score_columns(columns, numeric)
    )
    if scored is not None:
        prefix, named = scored
        labels = [c[len(prefix) :] for c in named]
        positives = [label for label in ((positive_class,) if positive_class else POSITIVE_LABELS) if label in labels]
        if task != "multiclass" and len(labels) <= 2 and positives:
            found_task, positive = "binary", positives[0]
            roles["score"] = prefix + positive
            ignored = tuple(c for c in named if c != roles["score"])
        elif task != "binary" and len(labels) >= 3:
            found_task = "multiclass"
            roles["score_prefix"] = prefix
    if task is None and found_task is None and "prediction" in roles and categorical_prediction is False:
        found_task = "regression"  # predicted numbers, no class probabilities
    return RecognisedRoles(roles, found_task, positive, ignored)
