"""The HTML report states CBPE's raw calibration error for a multiclass model too: one per class
(one-vs-rest), where it used to print the binary's single value, absent, as nothing."""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from modelwatch.cli.main import main


def _scored(path, rows: int, seed: int, labelled: bool) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, rows)
    logits = np.stack([x, -x, 0.3 * x], axis=1)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    classes = np.array(["high", "low", "mid"])
    table = {"x": x, "z": rng.normal(0, 1, rows)}
    if labelled:
        table["label"] = np.array([classes[rng.choice(3, p=p)] for p in probabilities])
    table["prediction"] = classes[probabilities.argmax(axis=1)]
    table |= {f"p_{c}": probabilities[:, i] for i, c in enumerate(classes)}
    pacsv.write_csv(pa.table(table), path)


def test_the_multiclass_report_prints_each_classs_raw_calibration_error(tmp_path):
    reference, current = tmp_path / "reference.csv", tmp_path / "current.csv"
    _scored(reference, 3000, 1, labelled=True)
    _scored(current, 1000, 2, labelled=False)
    html, out = tmp_path / "report.html", tmp_path / "drift.json"
    code = main(["drift", "--reference", str(reference), "--current", str(current), "--html", str(html),
                 "--json", str(out)])  # fmt: skip
    assert code in (0, 1)
    calibration = json.loads(out.read_text())["calibration"]
    assert set(calibration) == {"high", "low", "mid"}
    page = " ".join(html.read_text().split())
    assert "raw calibration error ." not in page
    shown = re.search(r"raw calibration error by class: (.*?)\.</p>", page)
    assert shown is not None, page[page.find("calibration") - 200 : page.find("calibration") + 400]
    for label, fitted in calibration.items():
        assert f"{label} {fitted['raw_calibration_error']:.3f}" in shown.group(1)
