"""`modelwatch init` drafts a spec a user can start from: it loads as written, carries the
defaults it deploys as commented [drift], [[alerts]] and [retraining] sections (uncommenting
them changes nothing), names the prediction and score columns, and takes --name."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from modelwatch.alerts.plan import function_alarms, planned_alarms
from modelwatch.cli.main import main
from modelwatch.cost.usage import alarms_from_plan
from modelwatch.spec import load_spec
from modelwatch.spec.models import DriftSettings, Retraining
from tests.task_data import task_frame


def uncommented(text: str) -> str:
    """The draft with every commented setting (`#` and no space) uncommented, as a user would."""
    return re.sub(r"(?m)^#(?=[\[A-Za-z_])", "", text)


def _data(tmp_path: Path, task: str, **more: np.ndarray) -> Path:
    frame = task_frame(np.random.default_rng(3), 600, task) | more
    path = tmp_path / f"{task} data.csv"
    pacsv.write_csv(pa.table(frame), path)
    return path


def _plan(spec) -> list[tuple]:
    return [(a.name, a.action, a.rule.model_dump(), a.dimensions, a.retrains_on) for a in planned_alarms(spec)]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_uncommenting_the_drafted_defaults_changes_nothing(tmp_path, task, capsys):
    spec_path = tmp_path / "monitoring.toml"
    assert main(["init", "--data", str(_data(tmp_path, task)), "--target", "y", "--out", str(spec_path)]) == 0
    text = spec_path.read_text()
    drafted = load_spec(spec_path)
    assert drafted.model.name == f"{task}-data"  # default: the data file's name, made a valid one
    for header in ("#[drift]", "#[[alerts]]", "#[retraining]"):
        assert header in text
    assert not {"drift", "alerts", "retraining"} & set(tomllib.loads(text))  # commented: the defaults apply
    full = tmp_path / "uncommented.toml"
    full.write_text(uncommented(text))
    assert set(tomllib.loads(full.read_text())) >= {"drift", "alerts", "retraining"}
    written = load_spec(full)
    # The same settings, and the same alarms: the platform's alarms written as [[alerts]] rules
    # are those the plan makes anyway, so none is added or lost.
    assert written.model_dump(exclude={"alerts"}) == drafted.model_dump(exclude={"alerts"})
    assert _plan(written) == _plan(drafted)
    assert alarms_from_plan(written) == alarms_from_plan(drafted)
    assert function_alarms(written) == function_alarms(drafted)
    # The alarm count `modelwatch cost` reports is the one the draft states.
    total, _ = alarms_from_plan(drafted)
    assert f"deploys {total} alarms" in text


def test_the_commented_defaults_follow_the_spec_models(tmp_path):
    """Written from the models' defaults, not retyped: each default value appears as its setting."""
    spec_path = tmp_path / "monitoring.toml"
    assert main(["init", "--data", str(_data(tmp_path, "binary")), "--target", "y", "--out", str(spec_path)]) == 0
    text = spec_path.read_text()
    drift, retraining = DriftSettings(), Retraining()
    assert f"#p_value_threshold = {drift.p_value_threshold}\n" in text
    assert f"#dataset_drift_share = {drift.dataset_drift_share}\n" in text
    assert f'#schedule = "{retraining.schedule}"\n' in text
    assert f"#min_rows = {retraining.min_rows}\n" in text


def test_name_sets_the_model_and_a_bad_name_is_one_line(tmp_path, capsys):
    data = _data(tmp_path, "binary")
    spec_path = tmp_path / "monitoring.toml"
    args = ["init", "--data", str(data), "--target", "y", "--out", str(spec_path)]
    assert main([*args, "--name", "churn-v2"]) == 0
    spec = load_spec(spec_path)
    assert spec.model.name == "churn-v2" and spec.metrics.service == "churn-v2"
    capsys.readouterr()
    assert main([*args, "--force", "--name", "churn model"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--name 'churn model'" in err[0] and "pattern" in err[0]


def test_role_columns_in_the_data_are_recognised_and_the_rest_are_named_as_served(tmp_path, capsys):
    """Columns named like a model's outputs are not features; roles the data lacks are named as
    a served model's records carry them, so the baseline and the captures hold them."""
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet([1, 1, 1], 600)
    scored = _data(
        tmp_path,
        "multiclass",
        prediction=np.array(list("abc"))[probabilities.argmax(axis=1)],
        **{f"p_{label}": probabilities[:, i] for i, label in enumerate("abc")},
    )
    spec_path = tmp_path / "scored.toml"
    assert main(["init", "--data", str(scored), "--target", "y", "--out", str(spec_path)]) == 0
    spec = load_spec(spec_path)
    assert spec.task == "multiclass" and list(spec.features) == ["x1", "x2", "shade"]
    assert (spec.columns.prediction, spec.columns.score_prefix) == ("prediction", "p_")

    bare = _data(tmp_path, "binary")
    assert main(["init", "--data", str(bare), "--target", "y", "--out", str(tmp_path / "bare.toml")]) == 0
    out = capsys.readouterr().out
    spec = load_spec(tmp_path / "bare.toml")
    assert list(spec.features) == ["x1", "x2", "shade"]
    assert spec.columns.prediction == "prediction" and spec.columns.score == f"p_{spec.columns.positive_class}"
    assert "not in this data: prediction=prediction" in " ".join(out.split())


def test_a_binary_models_probabilities_are_recognised_by_the_targets_positive_class(tmp_path):
    """Classes that do not read as yes/no (here a and b): the target's positive class tells which
    probability column is the score; the other class's is neither score nor feature."""
    rng = np.random.default_rng(1)
    p_b = rng.random(600)
    data = _data(tmp_path, "binary", p_a=1 - p_b, p_b=p_b, prediction=np.where(p_b > 0.5, "b", "a"))
    spec_path = tmp_path / "monitoring.toml"
    assert main(["init", "--data", str(data), "--target", "y", "--out", str(spec_path)]) == 0
    spec = load_spec(spec_path)
    assert (spec.columns.positive_class, spec.columns.score, spec.columns.prediction) == ("b", "p_b", "prediction")
    assert list(spec.features) == ["x1", "x2", "shade"]
