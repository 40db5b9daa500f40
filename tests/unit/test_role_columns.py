"""Role columns by their conventional names (modelwatch.spec.roles): recognised only where
unambiguous, never counted as features by a drift run without a spec, and said in one line."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from modelwatch.cli.main import main
from modelwatch.spec.inference import inferred_spec
from modelwatch.spec.roles import conventional_roles, recognise_roles, with_served_roles

NO_FLAGS = {"target": None, "prediction": None, "score": None, "score_prefix": None}


def _recognise(columns: list[str], numeric: list[str] | None = None, task: str | None = None, **flags: str):
    return recognise_roles(columns, columns if numeric is None else numeric, NO_FLAGS | flags, task)


def test_a_binary_models_outputs_are_recognised_and_the_other_class_ignored():
    found = _recognise(["age", "label", "prediction", "p_0", "p_1"], numeric=["age", "p_0", "p_1"])
    assert found.roles == {"target": "label", "prediction": "prediction", "score": "p_1"}
    assert (found.task, found.positive_class, found.ignored) == ("binary", "1", ("p_0",))


def test_class_probabilities_of_three_classes_are_a_multiclass_prefix():
    found = _recognise(["x", "target", "proba_a", "proba_b", "proba_c"])
    assert found.roles == {"target": "target", "score_prefix": "proba_"} and found.task == "multiclass"


@pytest.mark.parametrize(
    ("columns", "numeric", "task"),
    [
        (["x", "p_a", "p_b", "proba_a", "proba_b", "proba_c"], None, None),  # two prefixes: which one?
        (["x", "p_value", "p_low"], ["x"], None),  # text columns: not probabilities
        (["x", "p_0", "p_1"], None, "regression"),  # a regression has no class probabilities
        (["x", "p_a", "p_b"], None, None),  # two classes, neither reads as the positive one
    ],
)
def test_ambiguous_probability_columns_are_left_alone(columns, numeric, task):
    assert "score" not in _recognise(columns, numeric, task).roles
    assert "score_prefix" not in _recognise(columns, numeric, task).roles


def test_two_label_columns_are_ambiguous_and_flags_always_win():
    assert "target" not in _recognise(["x", "target", "label"]).roles
    found = _recognise(["x", "label", "prediction", "yhat"], target="x", prediction="yhat")
    assert found.roles == {"target": "x", "prediction": "yhat"}


def test_conventional_names_avoid_a_features_prefix():
    multiclass = conventional_roles("multiclass", ["p_rate", "age"], "1")
    assert multiclass == {"prediction": "prediction", "score_prefix": "proba_"}
    assert conventional_roles("binary", ["age"], "yes") == {"prediction": "prediction", "score": "p_yes"}
    assert conventional_roles("binary", ["age"], "1", "confidence")["score"] == "confidence"
    assert conventional_roles("regression", ["age"], "1") == {"prediction": "prediction"}


def test_served_roles_fill_only_what_the_spec_leaves_unset():
    spec = inferred_spec(["age"], [], target="y", prediction="yhat", task="binary")
    served = with_served_roles(spec)
    assert (served.columns.prediction, served.columns.score) == ("yhat", "p_1")
    assert list(served.features) == ["age"]


def _scored_table(path, rows: int, seed: int, shift: float = 0.0) -> None:
    """Eight features and a multiclass model's outputs, as a data scientist's scored CSV holds them."""
    rng = np.random.default_rng(seed)
    table = {f"x{i}": rng.normal(shift if i < 5 else 0.0, 1, rows) for i in range(8)}
    probabilities = rng.dirichlet([2, 2, 2], rows)
    table["label"] = np.array(list("abc"))[rng.integers(0, 3, rows)]
    table["prediction"] = np.array(list("abc"))[probabilities.argmax(axis=1)]
    table |= {f"p_{c}": probabilities[:, i] for i, c in enumerate("abc")}
    pacsv.write_csv(pa.table(table), path)


def test_drift_without_a_spec_counts_only_features_and_says_what_it_took(tmp_path, capsys):
    reference, current, out = tmp_path / "reference.csv", tmp_path / "current.csv", tmp_path / "drift.json"
    _scored_table(reference, 1500, 1)
    _scored_table(current, 1500, 2, shift=1.0)
    capsys.readouterr()
    assert main(["drift", "--reference", str(reference), "--current", str(current), "--json", str(out)]) == 1
    report = json.loads(out.read_text())
    assert [f["name"] for f in report["features"]] == [f"x{i}" for i in range(8)]
    assert report["drifted_features"] == 5 and report["estimated_performance"] is not None
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("modelwatch: no --spec")]
    assert said == [
        "modelwatch: no --spec: task multiclass; took target = label, prediction = prediction, score_prefix = p_; "
        "8 feature(s) (--spec or the role flags choose otherwise)"
    ]


def _regression_table(path, rows: int, seed: int, labelled: bool = True) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, rows)
    table = {"x": x, "z": rng.normal(0, 1, rows), "prediction": 10 + 3 * x}
    if labelled:
        table["target"] = 10 + 3 * x + rng.normal(0, 1, rows)
    pacsv.write_csv(pa.table(table), path)


def test_predicted_numbers_without_class_probabilities_are_a_regression(tmp_path, capsys):
    """A floating-point prediction column and no class probabilities: a regression's predicted
    values, not a thousand classes."""
    reference, current, out = tmp_path / "reference.csv", tmp_path / "current.csv", tmp_path / "drift.json"
    _regression_table(reference, 800, 1)
    _regression_table(current, 500, 2, labelled=False)
    assert main(["drift", "--reference", str(reference), "--current", str(current), "--json", str(out)]) in (0, 1)
    report = json.loads(out.read_text())
    assert [f["name"] for f in report["features"]] == ["x", "z"]
    assert report["prediction_drift"]["kind"] == "numeric"
    assert "no --spec: task regression" in capsys.readouterr().out


def test_a_saved_profile_records_its_roles_for_a_later_drift_run(tmp_path, capsys):
    reference, current, saved = tmp_path / "reference.csv", tmp_path / "current.csv", tmp_path / "baseline.json"
    _regression_table(reference, 800, 1)
    _regression_table(current, 500, 2, labelled=False)
    assert main(["profile", "--data", str(reference), "--out", str(saved), "--task", "regression"]) == 0
    from modelwatch.profiles import DatasetProfile

    assert DatasetProfile.load(saved).roles == {"task": "regression", "target": "target", "prediction": "prediction"}
    out = tmp_path / "drift.json"
    assert main(["drift", "--reference", str(saved), "--current", str(current), "--json", str(out)]) in (0, 1)
    assert [f["name"] for f in json.loads(out.read_text())["features"]] == ["x", "z"]
