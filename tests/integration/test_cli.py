"""`modelwatch` as a user runs it: exit codes, messages, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from modelwatch.demo.data import demo_frame
from tests.conftest import ROOT

SPEC = str(ROOT / "monitoring.toml")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modelwatch", *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def drift(reference: str, current: str, *options: str) -> subprocess.CompletedProcess:
    return run("drift", "--reference", reference, "--current", current, *options)


def exit_says_the_verdict(result: subprocess.CompletedProcess, report_path: Path) -> dict:
    """The exit code is the JSON's verdict (1: dataset or segment drift, 0: none), never anything
    else. (Under `drift.rule = "evidently"` a segment's small slice meets Evidently's fixed
    distances, which cry wolf on small samples: segment drift on stable data is that rule's.)"""
    report = json.loads(report_path.read_text())
    drifted = report["dataset_drift"] or report.get("segment_drift")
    assert result.returncode == (1 if drifted else 0), (result.returncode, result.stderr)
    return report


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    pacsv.write_csv(pa.table(demo_frame(3000, 1)), folder / "reference.csv")
    pacsv.write_csv(pa.table(demo_frame(2000, 2)), folder / "stable.csv")
    pacsv.write_csv(pa.table(demo_frame(2000, 3, drift=0.9)), folder / "drifted.csv")
    pq.write_table(pa.table(demo_frame(2000, 4, drift=0.9)), folder / "drifted.parquet")
    return folder


def test_no_drift_exits_0_and_writes_both_reports(data, tmp_path):
    result = drift(
        str(data / "reference.csv"),
        str(data / "stable.csv"),
        "--spec",
        SPEC,
        "--json",
        str(tmp_path / "d.json"),
        "--html",
        str(tmp_path / "r.html"),
    )
    assert result.returncode == 0, result.stderr
    assert "Dataset: no drift" in result.stdout
    document = json.loads((tmp_path / "d.json").read_text())
    assert document["dataset_drift"] is False
    assert isinstance(document["drift_share"], float)
    for feature in document["features"]:
        assert {"name", "method", "score", "threshold", "drifted", "p_value"} <= set(feature)
    assert set(document["quality"]) >= {"missing_rate", "out_of_range_rate", "unseen_category_rate", "features"}
    assert document["performance"]["accuracy"] > 0.6
    html = (tmp_path / "r.html").read_text()
    assert "<svg" in html and "http://" not in html and "https://" not in html and "<script" not in html


def test_drift_exits_1_and_reads_parquet(data):
    result = drift(str(data / "reference.csv"), str(data / "drifted.parquet"), "--spec", SPEC)
    assert result.returncode == 1, result.stderr
    assert "Dataset: DRIFT" in result.stdout


def test_without_a_spec_columns_are_inferred(data, tmp_path):
    result = drift(
        str(data / "reference.csv"),
        str(data / "drifted.csv"),
        "--target",
        "label",
        "--prediction",
        "predicted_label",
        "--json",
        str(tmp_path / "d.json"),
    )
    assert result.returncode == 1, result.stderr
    document = json.loads((tmp_path / "d.json").read_text())
    names = {f["name"]: f for f in document["features"]}
    assert set(names) == {"age", "income", "score", "category", "region", "confidence"}
    assert names["region"]["kind"] == "categorical" and names["age"]["kind"] == "numeric"
    assert document["label_drift"]["name"] == "label"


def test_saved_profile_serves_as_reference(data, tmp_path):
    profile = tmp_path / "baseline.json"
    made = run("profile", "--data", str(data / "reference.csv"), "--out", str(profile), "--spec", SPEC)
    assert made.returncode == 0, made.stderr
    assert "Profiled 3,000 rows" in made.stdout and "10 calibration chunks" in made.stdout
    from_file = drift(
        str(data / "reference.csv"), str(data / "drifted.csv"), "--spec", SPEC, "--json", str(tmp_path / "a.json")
    )
    from_profile = drift(str(profile), str(data / "drifted.csv"), "--spec", SPEC, "--json", str(tmp_path / "b.json"))
    assert from_file.returncode == from_profile.returncode == 1
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    # Above 2,000 values the sketches are approximate: the two routes agree within their error.
    assert [f["score"] for f in a["features"]] == pytest.approx([f["score"] for f in b["features"]], abs=0.01)
    assert [f["drifted"] for f in a["features"]] == [f["drifted"] for f in b["features"]]


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_bad_spec_is_one_line_exit_2(data, tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text((ROOT / "monitoring.toml").read_text().replace("max = 100\n", "max = 10\n", 1))
    line = _one_error_line(drift(str(data / "reference.csv"), str(data / "stable.csv"), "--spec", str(spec)))
    assert "bad.toml: features.age: min (18.0) is greater than max (10.0)" in line


def test_unreadable_file_is_one_line_exit_2(data, tmp_path):
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"\x00\x01not parquet")
    line = _one_error_line(drift(str(data / "reference.csv"), str(garbage)))
    assert "garbage.parquet: cannot read as PARQUET" in line
    line = _one_error_line(run("drift", "--reference", str(tmp_path / "absent.csv"), "--current", str(garbage)))
    assert "no such file" in line


def test_missing_column_is_one_line_exit_2(data, tmp_path):
    table = pacsv.read_csv(data / "stable.csv").drop_columns(["income"])
    pacsv.write_csv(table, tmp_path / "partial.csv")
    line = _one_error_line(drift(str(data / "reference.csv"), str(tmp_path / "partial.csv"), "--spec", SPEC))
    assert "current data lacks column(s) 'income'" in line


def test_bad_usage_is_one_line_exit_2():
    line = _one_error_line(run("drift", "--reference", "x.csv"))
    assert "--current" in line


def test_a_bad_value_late_in_a_csv_is_a_type_error_not_a_crash(data, tmp_path):
    lines = (data / "stable.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[-1].split(",")
    row[header.index('"income"')] = '"lots"'
    (tmp_path / "messy.csv").write_text("\n".join([*lines, ",".join(row)]) + "\n")
    result = drift(
        str(data / "reference.csv"), str(tmp_path / "messy.csv"), "--spec", SPEC, "--json", str(tmp_path / "m.json")
    )
    assert result.returncode == 0, result.stderr  # the stable window, one bad value in it: no drift
    income = next(
        f for f in json.loads((tmp_path / "m.json").read_text())["quality"]["features"] if f["name"] == "income"
    )
    assert income["type_errors"] == 1


def test_parquet_window_without_labels_still_checks_drift(data, tmp_path):
    unlabelled = pq.read_table(data / "drifted.parquet").drop_columns(["label", "predicted_label", "confidence"])
    pq.write_table(unlabelled, tmp_path / "unlabelled.parquet")
    result = drift(
        str(data / "reference.csv"),
        str(tmp_path / "unlabelled.parquet"),
        "--spec",
        SPEC,
        "--json",
        str(tmp_path / "u.json"),
    )
    assert result.returncode == 1, result.stderr
    document = json.loads((tmp_path / "u.json").read_text())
    assert document["performance"] is None and document["label_drift"] is None
    assert len(document["features"]) == 5


# ---------------------------------------------------------------------------------------------
# Every task from the command line: `init` drafts a spec, `drift` checks with it.
# ---------------------------------------------------------------------------------------------


def _task_frame(task: str, rows: int, seed: int, shift: float = 0.0) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    x1 = rng.normal(shift, 1.0, rows)
    x2 = rng.uniform(0, 10, rows)
    shade = rng.choice(["light", "dark"], rows)
    signal = x1 + 0.2 * x2 + np.where(shade == "dark", 0.5, 0.0)
    frame = {"x1": x1, "x2": x2, "shade": shade}
    if task == "regression":
        frame["price"] = 1000 + 100 * signal + rng.normal(0, 20 + 10 * np.abs(x1), rows)
        frame["predicted_price"] = 1000 + 100 * signal
        return frame
    logits = np.stack([signal, 2.0 - signal, 0.5 * x1], axis=1)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    classes = np.array(["high", "low", "mid"])
    frame["kind"] = np.array([classes[rng.choice(3, p=p)] for p in probabilities])
    frame["predicted_kind"] = classes[probabilities.argmax(axis=1)]
    for i, label in enumerate(classes):
        frame[f"proba_{label}"] = probabilities[:, i]
    return frame


@pytest.fixture(scope="module")
def task_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tasks")
    for task in ("multiclass", "regression"):
        pacsv.write_csv(pa.table(_task_frame(task, 4000, 1)), folder / f"{task}_reference.csv")
        current = _task_frame(task, 3000, 2, shift=1.0)
        current.pop("kind" if task == "multiclass" else "price")  # labels have not arrived
        pacsv.write_csv(pa.table(current), folder / f"{task}_current.csv")
    return folder


def test_init_drafts_a_spec_that_loads_and_drives_drift_for_multiclass(task_data, tmp_path):
    spec = tmp_path / "multiclass.toml"
    reference = str(task_data / "multiclass_reference.csv")
    args = ["--data", reference, "--target", "kind", "--prediction", "predicted_kind", "--score-prefix", "proba_"]
    result = run("init", *args, "--out", str(spec))
    assert result.returncode == 0, result.stderr
    assert "inferred task: multiclass" in result.stdout
    text = spec.read_text()
    assert 'task = "multiclass"' in text and 'score_prefix = "proba_"' in text
    assert 'categories = ["dark", "light"]' in text and "[features.proba_high]" not in text
    assert run("init", *args, "--out", str(spec)).returncode == 2  # refuses to overwrite
    assert run("init", *args, "--out", str(spec), "--force").returncode == 0

    out = tmp_path / "drift.json"
    result = drift(reference, str(task_data / "multiclass_current.csv"), "--spec", str(spec), "--json", str(out))
    report = exit_says_the_verdict(result, out)
    assert set(report["reference_performance"]) >= {"accuracy", "f1_macro", "roc_auc_ovr", "per_class"}
    assert report["estimated_performance"]["accuracy"] is not None


def test_init_infers_regression_and_drift_estimates_its_error(task_data, tmp_path):
    spec = tmp_path / "regression.toml"
    reference = str(task_data / "regression_reference.csv")
    result = run(
        "init", "--data", reference, "--target", "price", "--prediction", "predicted_price", "--out", str(spec)
    )
    assert result.returncode == 0, result.stderr
    assert "inferred task: regression" in result.stdout
    out = tmp_path / "drift.json"
    result = drift(reference, str(task_data / "regression_current.csv"), "--spec", str(spec), "--json", str(out))
    report = exit_says_the_verdict(result, out)
    assert set(report["reference_performance"]) == {"mae", "rmse", "mape", "r2"}
    estimated = report["estimated_performance"]
    assert estimated["mae"] > report["reference_performance"]["mae"]  # the shift moved rows to noisier x1


def _wide_table(path: Path, numeric: int, seed: int) -> Path:
    """A regression table with `numeric` numeric features besides its numeric target and prediction."""
    import numpy as np

    rng = np.random.default_rng(seed)
    frame = {f"x{i}": rng.normal(size=400) for i in range(numeric)}
    frame["price"] = 10 + frame["x0"] + rng.normal(size=400)
    frame["predicted_price"] = 10 + frame["x0"]
    pacsv.write_csv(pa.table(frame), path)
    return path


def test_init_drafts_the_widest_spec_cloudwatch_takes_and_refuses_a_wider_one(tmp_path):
    """A request's EMF document holds every numeric feature: 92 of them is the widest regression
    spec. `init` profiles the roles with the features, which must not count against that limit."""
    args = ["--target", "price", "--prediction", "predicted_price", "--task", "regression"]
    widest, wider = _wide_table(tmp_path / "widest.csv", 92, 1), _wide_table(tmp_path / "wider.csv", 93, 2)
    assert run("init", "--data", str(widest), *args, "--out", str(tmp_path / "widest.toml")).returncode == 0
    result = run("init", "--data", str(wider), *args, "--out", str(tmp_path / "wider.toml"))
    assert result.returncode == 2 and "at most 92 numeric features" in _one_error_line(result)
    assert not (tmp_path / "wider.toml").exists()


def test_drift_without_a_spec_takes_a_table_wider_than_a_deployable_spec(tmp_path):
    """Without --spec, columns are inferred for this command alone: nothing goes to CloudWatch,
    so its limits on a request's metrics do not apply."""
    reference, current = _wide_table(tmp_path / "r.csv", 120, 3), _wide_table(tmp_path / "c.csv", 120, 4)
    out = tmp_path / "drift.json"
    result = drift(str(reference), str(current), "--target", "price", "--json", str(out))
    assert result.returncode == 0, result.stderr  # two draws of the same table: no dataset drift
    assert len(json.loads(out.read_text())["features"]) >= 120


def test_drift_takes_the_task_and_columns_from_the_command_line(task_data, tmp_path):
    out = tmp_path / "drift.json"
    result = drift(
        str(task_data / "multiclass_reference.csv"),
        str(task_data / "multiclass_current.csv"),
        *("--target", "kind", "--prediction", "predicted_kind", "--score-prefix", "proba_", "--json", str(out)),
    )
    report = exit_says_the_verdict(result, out)
    assert [f["name"] for f in report["features"]] == ["x1", "x2", "shade"]
    assert "f1_macro" in report["estimated_performance"]


def test_a_spec_whose_columns_do_not_fit_its_task_is_one_line_exit_2(task_data, tmp_path):
    spec = tmp_path / "mismatch.toml"
    spec.write_text(
        '[model]\nname = "m"\ntask = "regression"\n[columns]\ntarget = "price"\nscore_prefix = "proba_"\n'
        '[features.x1]\ntype = "numeric"\n'
    )
    reference = str(task_data / "regression_reference.csv")
    line = _one_error_line(drift(reference, str(task_data / "regression_current.csv"), "--spec", str(spec)))
    assert "mismatch.toml: columns.score_prefix: only a multiclass model has it, not a regression one" in line


def _spec_with(tmp_path: Path, name: str, drift_lines: str, feature_drift: str | None = None) -> Path:
    """The demo spec with lines added to [drift] (and a drift table for the 'age' feature)."""
    text = (ROOT / "monitoring.toml").read_text()
    for table in ("numeric", "categorical"):
        if f"{table} = " in drift_lines:  # the demo spec's own empty table would be a duplicate key
            text = text.replace(f"\n{table} = {{}}\n", "\n", 1)
    text = text.replace("[drift]\n", "[drift]\n" + drift_lines + "\n", 1)
    if feature_drift is not None:
        text = text.replace("max = 100\n", f"max = 100\ndrift = {feature_drift}\n", 1)
    path = tmp_path / name
    path.write_text(text)
    return path


def test_type_wide_calibrated_with_a_feature_test_runs(data, tmp_path):
    # It crashed with a traceback and exit code 1, which means "drift".
    spec = _spec_with(tmp_path, "calibrated.toml", 'numeric = { threshold = "calibrated" }', '{ method = "ks" }')
    profile = tmp_path / "baseline.json"
    made = run("profile", "--data", str(data / "reference.csv"), "--out", str(profile), "--spec", str(spec))
    assert made.returncode == 0, made.stderr
    # 300 rows: the size of the baseline's chunks (3,000 rows in 10), so the calibration holds.
    pacsv.write_csv(pa.table(demo_frame(300, 5)), tmp_path / "window.csv")
    result = drift(str(profile), str(tmp_path / "window.csv"), "--spec", str(spec), "--json", str(tmp_path / "d.json"))
    assert "Traceback" not in result.stderr, result.stderr
    exit_says_the_verdict(result, tmp_path / "d.json")
    age = next(f for f in json.loads((tmp_path / "d.json").read_text())["features"] if f["name"] == "age")
    assert age["method"] == "ks" and age["threshold_source"] == "calibrated" and age["compared"] == "statistic"


def test_a_p_value_threshold_above_one_fails_at_load_naming_the_key(data, tmp_path):
    spec = _spec_with(tmp_path, "bad.toml", "numeric = { threshold = 5.0 }", '{ method = "ks" }')
    line = _one_error_line(drift(str(data / "reference.csv"), str(data / "stable.csv"), "--spec", str(spec)))
    assert "features.age.drift.threshold (from drift.numeric.threshold): 5.0 is not a p-value threshold" in line


def test_every_method_and_threshold_combination_loads_and_runs(data, tmp_path):
    rules = ['"size-aware"', '"evidently"']
    combos = [
        ('{ method = "ks" }', '{ method = "chisquare" }'),
        ('{ method = "wasserstein", threshold = "calibrated" }', '{ method = "jensenshannon", threshold = 0.2 }'),
        ('{ method = "psi", threshold = "calibrated" }', '{ method = "psi", threshold = "calibrated" }'),
        ('{ method = "jensenshannon" }', '{ method = "ztest", threshold = "calibrated" }'),
        ('{ threshold = "calibrated" }', '{ threshold = "calibrated" }'),
    ]
    for index, (numeric, categorical) in enumerate(combos):
        rule = rules[index % 2]
        path = _spec_with(
            tmp_path, f"combo{index}.toml", f"rule = {rule}\nnumeric = {numeric}\ncategorical = {categorical}"
        )
        profile = tmp_path / f"baseline{index}.json"
        made = run("profile", "--data", str(data / "reference.csv"), "--out", str(profile), "--spec", str(path))
        assert made.returncode == 0, made.stderr
        out = tmp_path / f"combo{index}.json"
        result = drift(str(profile), str(data / "stable.csv"), "--spec", str(path), "--json", str(out))
        assert exit_says_the_verdict(result, out)["features"], (numeric, categorical)
        # A data file as the reference keeps the chunks a calibrated threshold needs.
        result = drift(str(data / "reference.csv"), str(data / "stable.csv"), "--spec", str(path), "--json", str(out))
        assert exit_says_the_verdict(result, out)["features"], (numeric, categorical)


def test_multivariate_drift_in_json_from_csv_parquet_and_a_saved_baseline(data, tmp_path):
    profile = tmp_path / "baseline.json"
    assert run("profile", "--data", str(data / "reference.csv"), "--out", str(profile), "--spec", SPEC).returncode == 0
    for reference, current, verdict in (
        (data / "reference.csv", data / "stable.csv", 0),
        (data / "reference.csv", data / "drifted.parquet", 1),
        (profile, data / "stable.csv", 0),
    ):
        out = tmp_path / "m.json"
        result = drift(str(reference), str(current), "--spec", SPEC, "--json", str(out))
        assert result.returncode == verdict, (current, result.stderr)
        methods = json.loads(out.read_text())["multivariate"]
        assert [m["method"] for m in methods] == ["pca_reconstruction", "domain_classifier"]
        assert all(m["status"] == "ok" and isinstance(m["drifted"], bool) for m in methods)
    # From a saved baseline every row of the window is scored, not a sample of them.
    assert methods[0]["current_rows"] == 2000 and methods[0]["note"] is None


@pytest.mark.parametrize(
    ("task", "target", "picture"),
    [("multiclass", "kind", "Confusion matrix"), ("regression", "price", "Error distribution")],
)
def test_the_report_draws_each_tasks_performance(task_data, tmp_path, task, target, picture):
    """Every performance key of the task in the HTML table, plus the task's own picture: the
    confusion matrix (multiclass) or the error distribution (regression)."""
    from modelwatch.spec.models import TASK_METRICS

    spec = tmp_path / f"{task}.toml"
    reference = str(task_data / f"{task}_reference.csv")
    predicted = "predicted_kind" if task == "multiclass" else "predicted_price"
    extra = ["--score-prefix", "proba_"] if task == "multiclass" else []
    assert (
        run(
            "init", "--data", reference, "--target", target, "--prediction", predicted, *extra, "--out", str(spec)
        ).returncode
        == 0
    )
    html, out = tmp_path / "report.html", tmp_path / "drift.json"
    result = drift(reference, reference, "--spec", str(spec), "--html", str(html), "--json", str(out))
    assert result.returncode == 0, result.stderr  # a file against itself is never drift
    page = html.read_text()
    assert picture in page
    assert all(f"<td>{key}</td>" in page for key in TASK_METRICS[task])
    document = json.loads(out.read_text())
    assert ("confusion_matrix" in document) == (task == "multiclass")
    assert ("error_quantiles" in document) == (task == "regression")
