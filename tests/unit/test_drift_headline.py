"""The `modelwatch drift` summary names every kind of finding, and `--fail-on` picks which exits 1.

Issue 24: one feature shifted hard and both multivariate methods drifted, yet the summary said
only "Dataset: no drift" and the run exited 0, so a CI gate passed.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from rich.console import Console
from rich.progress import Progress

from modelwatch.cli.commands import EXIT_DRIFT, EXIT_OK, run_drift
from modelwatch.cli.summary import FAIL_ON_HELP, add_fail_on_option
from modelwatch.demo.data import demo_frame
from tests.conftest import ROOT, without_segments

ROWS = 1500


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("headline")
    # The demo spec without its segments: these tests judge the whole window's headline and
    # gates (a feature shifted everywhere drifts every segment too, and segment drift exits 1:
    # tests/unit/test_segments.py).
    (folder / "spec.toml").write_text(without_segments((ROOT / "monitoring.toml").read_text()))
    pacsv.write_csv(pa.table(demo_frame(ROWS, 1)), folder / "reference.csv")
    pacsv.write_csv(pa.table(demo_frame(ROWS, 2)), folder / "stable.csv")
    # Only age moves (30 years, within the spec's range); the prediction columns stay as drawn,
    # so one of five features drifts: under the spec's 0.5 share, no dataset drift.
    shifted = demo_frame(ROWS, 3)
    shifted["age"] = (shifted["age"] + 30).clip(18, 100)
    pacsv.write_csv(pa.table(shifted), folder / "age_shifted.csv")
    unlabelled = {k: v for k, v in demo_frame(ROWS, 4).items() if k not in ("label", "predicted_label", "confidence")}
    pacsv.write_csv(pa.table(unlabelled), folder / "unlabelled.csv")
    return folder


def _drift(data: Path, current: str, fail_on: str | None, json_path: Path | None = None) -> tuple[int, str]:
    args = argparse.Namespace(
        reference=str(data / "reference.csv"),
        current=str(data / current),
        json=json_path,
        html=None,
        spec=str(data / "spec.toml"),
        target=None,
        prediction=None,
        score=None,
        score_prefix=None,
        task=None,
    )
    if fail_on is not None:
        args.fail_on = fail_on
    out = Console(file=io.StringIO(), width=400, record=True)
    progress = Progress(console=Console(file=io.StringIO()))
    code = run_drift(args, out, progress)
    return code, out.export_text()


def test_default_summary_names_the_drifted_feature_and_multivariate_drift_and_exits_0(data, tmp_path):
    code, text = _drift(data, "age_shifted.csv", "dataset", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["dataset_drift"] is False and report["drifted_features"] == 1
    assert code == EXIT_OK
    assert "Feature drift: 1 of 5 features drifted — age" in text
    multivariate = [line for line in text.splitlines() if line.startswith("Multivariate drift:")]
    assert len(multivariate) == 1
    for method in report["multivariate"]:
        verdict = "DRIFT" if method["drifted"] else "ok"
        assert f"{method['method']} {verdict}" in multivariate[0]
    assert any(method["drifted"] for method in report["multivariate"]), report["multivariate"]
    assert "Dataset: no drift" in text


def test_a_namespace_without_fail_on_keeps_the_dataset_verdict(data):
    assert _drift(data, "age_shifted.csv", None)[0] == EXIT_OK


@pytest.mark.parametrize(
    ("fail_on", "expected"), [("feature", EXIT_DRIFT), ("multivariate", EXIT_DRIFT), ("any", EXIT_DRIFT)]
)
def test_fail_on_exits_1_when_one_feature_drifted(data, fail_on, expected):
    assert _drift(data, "age_shifted.csv", fail_on)[0] == expected


def test_stable_data_passes_even_the_strictest_gate_and_says_each_check_ran(data):
    code, text = _drift(data, "stable.csv", "any")
    assert code == EXIT_OK, text
    lines = text.splitlines()
    for kind in ("Feature drift", "Multivariate drift", "Prediction drift", "Label drift", "Concept drift"):
        found = [line for line in lines if line.startswith(f"{kind}:")]
        assert len(found) == 1 and "not checked" not in found[0], (kind, found)
    assert "Feature drift: 0 of 5 features drifted — none" in text
    assert "Data quality: no breaches" in text


def test_without_labels_or_predictions_those_checks_say_why_they_did_not_run(data):
    _code, text = _drift(data, "unlabelled.csv", "any")
    lines = {line.split(":")[0]: line for line in text.splitlines() if "drift:" in line}
    for kind, column in (("Prediction drift", "prediction"), ("Label drift", "label")):
        assert lines[kind].startswith(f"{kind}: not checked: no {column} column in both"), lines[kind]
    assert "not checked" in lines["Concept drift"]
    assert "not checked" not in lines["Feature drift"]


def test_fail_on_is_an_option_with_the_dataset_default_and_help():
    parser = argparse.ArgumentParser(prog="modelwatch drift")
    add_fail_on_option(parser)
    assert parser.parse_args([]).fail_on == "dataset"
    assert parser.parse_args(["--fail-on", "multivariate"]).fail_on == "multivariate"
    with pytest.raises(SystemExit):
        parser.parse_args(["--fail-on", "everything"])
    help_text = " ".join(parser.format_help().split())
    assert "--fail-on {dataset,feature,multivariate,any}" in help_text
    assert " ".join(FAIL_ON_HELP.split()) in help_text


def test_the_command_line_takes_fail_on(data):
    """Through `modelwatch drift` itself: the default passes a window whose dataset verdict is no
    drift, `--fail-on feature` fails it, and the summary names the feature."""
    import os
    import subprocess
    import sys

    base = [sys.executable, "-m", "modelwatch", "drift", "--spec", str(data / "spec.toml")]
    base += ["--reference", str(data / "reference.csv"), "--current", str(data / "age_shifted.csv")]
    default = subprocess.run(base, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert default.returncode == EXIT_OK, default.stderr
    assert "Feature drift: 1 of" in default.stdout and "age" in default.stdout
    failing = subprocess.run([*base, "--fail-on", "feature"], capture_output=True, text=True)
    assert failing.returncode == EXIT_DRIFT, failing.stderr


def test_a_flag_naming_a_column_an_input_lacks_is_an_error(data, tmp_path, capsys):
    """--prediction naming a column the reference does not have: exit 2 and one line naming the
    flag and the file, not a run that silently skips prediction drift."""
    from modelwatch.cli.main import main

    code = main(
        [
            "drift",
            "--reference",
            str(data / "reference.csv"),
            "--current",
            str(data / "stable.csv"),
            "--prediction",
            "predicted_class",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--prediction" in err and "predicted_class" in err and "reference.csv" in err
