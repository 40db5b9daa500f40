"""Champion against challenger on one holdout: promoted only when significantly better by at least
`min_improvement`, for binary, multiclass and regression; a holdout that cannot decide is
"not enough data"."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from modelwatch.retraining.decision import Answers, decide
from modelwatch.retraining.significance import mcnemar_exact, paired_bootstrap
from modelwatch.spec import parse_spec
from modelwatch.spec.loader import SpecError

FEATURES = {"x": {"type": "numeric"}}


def _spec(task: str, **retraining: object):
    columns: dict[str, object] = {"target": "y"}
    if task == "binary":
        columns["positive_class"] = "1"
    return parse_spec(
        {"model": {"name": "m", "task": task}, "columns": columns, "features": FEATURES, "retraining": retraining}
    )


def _binary(actual: np.ndarray, right: np.ndarray) -> Answers:
    """A binary model that is right exactly on the rows where `right` holds, 0.8 sure of itself."""
    predicted = np.where(right, actual, np.where(actual == "1", "0", "1")).astype(object)
    p_one = np.where(predicted == "1", 0.8, 0.2)
    return Answers(predicted, np.column_stack([1 - p_one, p_one]), ["0", "1"])


def _labels(rows: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).choice(["0", "1"], rows).astype(object)


def test_mcnemar_is_scipys_exact_binomial_test_on_the_discordant_rows():
    actual = _labels(200)
    champion_right = np.arange(200) < 120
    challenger_right = champion_right.copy()
    challenger_right[120:150] = True  # 30 rows only the challenger gets right
    challenger_right[:8] = False  # 8 rows only the champion gets right
    result = mcnemar_exact(
        actual, _binary(actual, champion_right).predicted, _binary(actual, challenger_right).predicted
    )
    assert (result.name, result.statistic) == ("mcnemar_exact", 30.0)
    assert result.pvalue == pytest.approx(stats.binomtest(30, 38, 0.5, alternative="greater").pvalue)


def test_a_significantly_better_classifier_is_promoted_and_an_equal_one_rejected():
    spec = _spec("binary")
    actual = _labels(300)
    champion = _binary(actual, np.arange(300) % 10 < 6)  # 60% right
    better = _binary(actual, np.arange(300) % 10 < 8)  # 80% right, right wherever the champion is
    promoted = decide(spec, actual, "v2", better, "v1", champion)
    assert promoted.outcome == "promote" and promoted.promote
    assert promoted.test is not None and promoted.test["name"] == "mcnemar_exact" and promoted.test["pvalue"] < 1e-9
    assert promoted.improvement == pytest.approx(0.2)
    same = decide(spec, actual, "v2", champion, "v1", champion)
    assert same.outcome == "reject" and same.test["pvalue"] == 1.0 and "not significant" in same.reason  # type: ignore[index]


def test_a_lucky_few_rows_are_not_significant_and_a_small_gain_is_not_enough():
    actual = _labels(400)
    champion_right = np.arange(400) % 10 < 7
    lucky = champion_right.copy()
    lucky[[7, 17, 27]] = True  # three more right rows, one fewer elsewhere
    lucky[0] = False
    decision = decide(_spec("binary"), actual, "v2", _binary(actual, lucky), "v1", _binary(actual, champion_right))
    assert decision.outcome == "reject" and "not significant" in decision.reason
    assert decision.test["pvalue"] == pytest.approx(stats.binomtest(3, 4, 0.5, alternative="greater").pvalue)  # type: ignore[index]
    clearly = np.arange(400) % 10 < 8  # +10 points, significant, but the spec asks for +15
    margin = decide(
        _spec("binary", min_improvement=0.15),
        actual,
        "v2",
        _binary(actual, clearly),
        "v1",
        _binary(actual, champion_right),
    )
    assert margin.outcome == "reject" and margin.reason.startswith("too small")


@pytest.mark.parametrize(
    ("actual", "reason"),
    [
        (np.array(["1"] * 200, dtype=object), "single class (1)"),
        (_labels(20), "20 rows"),
    ],
)
def test_a_holdout_that_cannot_decide_is_not_enough_data_not_a_failure(actual, reason):
    rows = len(actual)
    decision = decide(
        _spec("binary"), actual, "v2", _binary(actual, np.ones(rows, bool)), "v1", _binary(actual, np.zeros(rows, bool))
    )
    assert decision.outcome == "not_enough_data" and not decision.promote
    assert reason in decision.reason
    assert decision.to_dict()["promote"] is False


def test_without_a_champion_the_challenger_is_promoted():
    actual = _labels(100)
    assert decide(_spec("binary"), actual, "v2", _binary(actual, np.ones(100, bool)), None, None).promote


def _multiclass(actual: np.ndarray, right: np.ndarray) -> Answers:
    classes = ["a", "b", "c"]
    index = np.array([classes.index(a) for a in actual])
    chosen = np.where(right, index, (index + 1) % 3)
    probabilities = np.full((len(actual), 3), 0.15)
    probabilities[np.arange(len(actual)), chosen] = 0.7
    return Answers(np.array([classes[i] for i in chosen], dtype=object), probabilities, classes)


def test_multiclass_f1_is_compared_with_a_paired_bootstrap():
    spec = _spec("multiclass", performance={"metric": "f1_macro", "below": 0.5})
    actual = np.random.default_rng(4).choice(["a", "b", "c"], 300).astype(object)
    champion = _multiclass(actual, np.arange(300) % 10 < 5)
    better = _multiclass(actual, np.arange(300) % 10 < 8)
    promoted = decide(spec, actual, "v2", better, "v1", champion)
    assert promoted.outcome == "promote" and promoted.test["name"] == "paired_bootstrap"  # type: ignore[index]
    assert promoted.test["pvalue"] < 0.01  # type: ignore[index]
    same = decide(spec, actual, "v2", champion, "v1", champion)
    assert same.outcome == "reject" and same.test["pvalue"] == 1.0  # type: ignore[index]


def test_regression_errors_fall_significantly_or_the_champion_stays():
    spec = _spec("regression", performance={"metric": "mae", "above": 5}, min_improvement=0.1)
    rng = np.random.default_rng(5)
    actual = rng.normal(50, 10, 400)
    champion = Answers(actual + rng.normal(0, 4, 400))
    better = Answers(actual + rng.normal(0, 2, 400))
    promoted = decide(spec, actual, "v2", better, "v1", champion)
    assert promoted.outcome == "promote" and promoted.improvement == pytest.approx(
        promoted.champion - promoted.challenger
    )  # type: ignore[operator]
    slightly = Answers(champion.predicted - 0.02 * (champion.predicted - actual))  # 2% smaller errors
    small = decide(spec, actual, "v2", slightly, "v1", champion)
    assert small.outcome == "reject" and small.reason.startswith("too small")  # significant, but under 10%
    constant = decide(spec, np.full(400, 3.0), "v2", better, "v1", champion)
    assert constant.outcome == "not_enough_data" and "single target value" in constant.reason


def test_the_bootstrap_counts_an_undefined_resample_against_the_challenger():
    result = paired_bootstrap(lambda rows: float("nan"), 50)
    assert result.pvalue == 1.0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("significance", 0),
        ("significance", 0.9),
        ("min_holdout_rows", 1),
        ("trainer", "train.py"),
        ("trainer", "package.module"),
        ("trainer_requirements", ""),
    ],
)
def test_new_retraining_keys_are_validated_naming_the_key(key, value):
    with pytest.raises(SpecError, match=f"retraining.{key}"):
        _spec("binary", **{key: value})


def test_a_trainer_that_does_not_resolve_names_the_key():
    from modelwatch.errors import UserInputError
    from modelwatch.retraining.trainer import load_trainer

    with pytest.raises(UserInputError, match=r"retraining\.trainer: cannot import .no_such_team_package"):
        load_trainer("no_such_team_package.train:fit")
    with pytest.raises(UserInputError, match=r"trainers\.forest has no callable .missing."):
        load_trainer("tests.integration.trainers.forest:missing")
