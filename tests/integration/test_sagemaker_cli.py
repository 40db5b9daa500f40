"""Coming from SageMaker Model Monitor, from the command line: import-sagemaker writes a spec and
a baseline; drift reads Model Monitor's captures against them and writes its
constraint_violations.json: none for a stable capture, the expected checks for a broken one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelwatch.cli.main import main
from modelwatch.profiles import DatasetProfile
from modelwatch.spec import load_spec
from tests.sagemaker_examples import (
    ACTUALS,
    CSV_CAPTURE,
    MONITOR_CONSTRAINTS,
    MONITOR_STATISTICS,
    PIPELINE_CONSTRAINTS,
    PIPELINE_STATISTICS,
    SAGEMAKER,
    Row,
    capture_line,
    write_pipeline_capture,
)


def _import(folder: Path, statistics: Path = PIPELINE_STATISTICS, constraints: Path = PIPELINE_CONSTRAINTS) -> Path:
    assert main(["import-sagemaker", "--statistics", str(statistics), "--constraints", str(constraints),
                 "--out", str(folder)]) == 0  # fmt: skip
    return folder


def _drift(imported: Path, current: Path, out: Path, *extra: str) -> tuple[int, list[dict], dict]:
    code = main(
        [
            "drift",
            "--spec", str(imported / "monitoring.toml"),
            "--reference", str(imported / "baseline.json"),
            "--current", str(current),
            "--json", str(out / "drift.json"),
            "--violations", str(out / "constraint_violations.json"),
            *extra,
        ]
    )  # fmt: skip
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    return code, violations, json.loads((out / "drift.json").read_text())


def test_import_writes_a_spec_that_loads_and_a_baseline_profile(tmp_path: Path, capsys) -> None:
    folder = _import(tmp_path / "imported")
    spec = load_spec(folder / "monitoring.toml")
    assert list(spec.features) == [f"_c{i}" for i in range(6)]
    baseline = DatasetProfile.load(folder / "baseline.json")
    assert baseline.rows == 100 and set(baseline.columns) == set(spec.features)
    printed = capsys.readouterr().out
    assert "imported 6 numeric and 0 categorical features, drift by linf_robust > 0.1" in printed
    assert "not mapped" not in printed


def test_stable_capture_against_its_imported_baseline_has_no_violations(tmp_path: Path) -> None:
    imported = _import(tmp_path / "imported")
    capture = write_pipeline_capture(tmp_path / "stable.jsonl")
    code, violations, report = _drift(imported, capture, tmp_path)
    assert violations == []
    assert code == 0 and report["dataset_drift"] is False
    assert report["current"] == str(capture)  # the capture, not the converted copy
    assert {f["method"] for f in report["features"]} == {"linf_robust"}
    assert all(f["statistic"] == 0.0 for f in report["features"])


def _broken(index: int, row: Row) -> Row:
    row[2] = str(float(row[2]) + 5)  # _c2 shifted far beyond the robust allowance
    if index % 10 == 0:
        row[3] = "n/a"  # _c3: 10% not a number
    if index % 5 == 0:
        row[4] = ""  # _c4: 20% missing
    return [*row, "7"]  # a seventh column the baseline never had


def test_a_shifted_and_broken_capture_lists_the_expected_checks(tmp_path: Path) -> None:
    imported = _import(tmp_path / "imported")
    capture = write_pipeline_capture(tmp_path / "broken.jsonl", _broken)
    code, violations, report = _drift(imported, capture, tmp_path)
    checks = [(v["feature_name"], v["constraint_check_type"]) for v in violations]
    assert checks == [
        ("_c2", "baseline_drift_check"),
        ("_c3", "data_type_check"),
        ("_c4", "completeness_check"),
        ("_c6", "extra_column_check"),
    ]
    described = {v["constraint_check_type"]: v["description"] for v in violations}
    drift = next(f for f in report["features"] if f["name"] == "_c2")
    # AWS's visualization reads the distance with the regex `distance: (.+) exceeds`.
    assert described["baseline_drift_check"] == f"Baseline drift distance: {drift['statistic']} exceeds threshold: 0.1"
    assert described["data_type_check"] == (
        "Data type match requirement is not met. Expected data type: Fractional, Expected match: 100.0%. "
        "Observed: Only 90.0% of data is Fractional."
    )
    assert "Observed: Only 80.0% of data is complete" in described["completeness_check"]
    assert code == 0  # one feature of six drifted: the dataset verdict (share 0.5) is no drift


def test_a_capture_missing_a_column_says_missing_column(tmp_path: Path) -> None:
    imported = _import(tmp_path / "imported")
    capture = write_pipeline_capture(tmp_path / "short.jsonl", lambda index, row: row[:-1])
    _, violations, _ = _drift(imported, capture, tmp_path)
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [("_c5", "missing_column_check")]


def test_values_outside_the_domain_are_a_categorical_values_check(tmp_path: Path) -> None:
    imported = _import(tmp_path / "imported", MONITOR_STATISTICS, MONITOR_CONSTRAINTS)
    known = "preproc-not-YET-supported-for-csv-json"
    # An endpoint that captures its inputs only (the baseline is of the inputs alone).
    lines = [capture_line(f"e{i}", [known if i % 5 else "something-new"], []) for i in range(60)]
    capture = tmp_path / "messages.jsonl"
    capture.write_text("\n".join(lines) + "\n")
    _, violations, _ = _drift(imported, capture, tmp_path)
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [
        ("message", "categorical_values_check")
    ]
    assert "something-new" in violations[0]["description"]


def test_the_sdk_capture_joins_its_ground_truth(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "monitoring.toml"
    features = "\n".join(f'[features._c{i}]\ntype = "numeric"\n' for i in range(1, 8))
    spec.write_text(
        f'[model]\nname = "sdk"\ntask = "regression"\n[columns]\ntarget = "label"\nprediction = "_c0"\n{features}'
    )
    code = main(
        ["drift", "--spec", str(spec), "--reference", str(CSV_CAPTURE), "--current", str(CSV_CAPTURE),
         "--ground-truth", str(ACTUALS), "--json", str(tmp_path / "drift.json")]
    )  # fmt: skip
    assert "44 Model Monitor capture rows" in capsys.readouterr().out
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["labeled_rows"] == 44 and report["current_rows"] == 44
    assert code in (0, 1)


@pytest.mark.parametrize(
    ("statistics", "constraints", "message"),
    [
        (SAGEMAKER / "data_quality" / "sdk_pipeline_dq_baseline_dataset.csv", PIPELINE_CONSTRAINTS, "not JSON"),
        (
            SAGEMAKER / "model_quality" / "sdk_pipeline_mq_regression_statistics.json",
            PIPELINE_CONSTRAINTS,
            "model-quality",
        ),
        (PIPELINE_STATISTICS, SAGEMAKER / "capture" / "sdk_monitor_capture.jsonl", "not JSON"),
    ],
)
def test_a_file_that_is_not_model_monitor_format_is_one_line_and_exit_2(
    tmp_path: Path, capsys, statistics: Path, constraints: Path, message: str
) -> None:
    code = main(["import-sagemaker", "--statistics", str(statistics), "--constraints", str(constraints),
                 "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "out" / "monitoring.toml").exists()


def test_what_cannot_be_mapped_is_printed_one_line_each(tmp_path: Path, capsys) -> None:
    _import(tmp_path / "imported", MONITOR_STATISTICS, MONITOR_CONSTRAINTS)
    lines = [line for line in capsys.readouterr().out.splitlines() if "not mapped" in line]
    assert len(lines) == 3 and any("second_message" in line for line in lines)


def test_ground_truth_needs_a_model_monitor_capture(tmp_path: Path, capsys) -> None:
    imported = _import(tmp_path / "imported")
    table = tmp_path / "current.csv"
    table.write_text("_c0,_c1\n1,2\n")
    code = main(["drift", "--spec", str(imported / "monitoring.toml"), "--reference", str(imported / "baseline.json"),
                 "--current", str(table), "--ground-truth", str(ACTUALS)])  # fmt: skip
    assert code == 2 and "joins Model Monitor captures" in capsys.readouterr().err


def test_drift_over_time_by_the_captures_inference_time(tmp_path: Path) -> None:
    imported = _import(tmp_path / "imported")
    capture = write_pipeline_capture(tmp_path / "stable.jsonl")
    lines = capture.read_text().splitlines()
    # Half the requests on one day, half on the next.
    dated = [line.replace("2024-05-01T10", "2024-05-02T10") if index % 2 else line for index, line in enumerate(lines)]
    capture.write_text("\n".join(dated) + "\n")
    code, violations, report = _drift(
        imported, capture, tmp_path, "--timestamp", "inferenceTime", "--chunk-period", "1d"
    )
    assert code == 0 and violations == []
    assert [chunk["rows"] for chunk in report["chunks"]] == [50, 50]
