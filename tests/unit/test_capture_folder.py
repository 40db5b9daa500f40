"""A folder of capture objects read as `modelwatch drift`'s current table: features flattened into
columns, the prediction and scores under the spec's [columns] names, every object below it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from modelwatch.cli.tabular import TableFile
from modelwatch.errors import UserInputError
from modelwatch.serving.capture import capture_record
from modelwatch.spec import parse_spec
from modelwatch.spec.models import MonitoringSpec

AT = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _record(number: int, age: float | str, predicted: str, p_one: float) -> dict:
    features = {"age": age, "income": 1000.0 * number, "score": 600, "category": "a", "region": "north"}
    return capture_record(f"r{number}", AT, "v1", features, predicted, {"0": 1 - p_one, "1": p_one})


def _write(folder: Path, key: str, records: list[dict]) -> None:
    path = folder.joinpath(*key.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


@pytest.fixture
def captures(tmp_path: Path) -> Path:
    folder = tmp_path / "captures"
    _write(
        folder,
        "capture/model_version=v1/dt=2026-12-06-12/a.jsonl",
        [_record(1, 30, "1", 0.9), _record(2, 40, "0", 0.2)],
    )
    _write(folder, "capture/model_version=v1/dt=2026-12-06-13/b.jsonl", [_record(3, 50, "1", 0.7)])
    # A copy being written (capture_mirror writes beside the final name, then renames): not read.
    (folder / "capture/model_version=v1/dt=2026-12-06-13/.c.jsonl.partial").write_text("{half")
    return folder


def _columns(table: TableFile, spec: MonitoringSpec) -> dict:
    names = [*spec.features, "predicted_label", "confidence"]
    return table.read_columns(names)


def test_binary_captures_give_features_prediction_and_confidence(captures: Path, demo_spec: MonitoringSpec):
    table = TableFile(captures, demo_spec)
    assert table.format == "captures" and table.row_count() == 3
    # and the spec's request attribute, a column for segments (missing: these records sent none)
    assert set(table.columns) == {*demo_spec.features, "predicted_label", "confidence", *demo_spec.attributes}
    kinds = table.inferred_kinds()
    assert {"age", "income", "score", "confidence"} <= set(kinds.numeric)
    columns = _columns(table, demo_spec)
    assert columns["age"].tolist() == [30.0, 40.0, 50.0]  # files in key order, records in line order
    assert columns["predicted_label"].tolist() == ["1", "0", "1"]
    assert np.allclose(columns["confidence"], [0.9, 0.8, 0.7])
    batches = list(table.batches(["age", "confidence"], ["region", "predicted_label"]))
    assert sum(len(batch["age"]) for batch in batches) == 3


def test_score_as_positive_probability_and_multiclass_score_columns(captures: Path, demo_spec: MonitoringSpec):
    document = demo_spec.model_dump(mode="json", exclude_unset=True)
    document["columns"]["score_kind"] = "positive_probability"
    positive = parse_spec(document, "<test>", deployable=False)
    assert np.allclose(TableFile(captures, positive).read_columns(["confidence"])["confidence"], [0.9, 0.2, 0.7])

    document = demo_spec.model_dump(mode="json", exclude_unset=True)
    document["model"]["task"] = "multiclass"
    document["columns"] = {"target": "label", "prediction": "predicted_label", "score_prefix": "p_"}
    multiclass = parse_spec(document, "<test>", deployable=False)
    columns = TableFile(captures, multiclass).read_columns(["p_0", "p_1"])
    assert np.allclose(columns["p_1"], [0.9, 0.2, 0.7]) and np.allclose(columns["p_0"], [0.1, 0.8, 0.3])


def test_without_a_spec_only_the_features(captures: Path):
    table = TableFile(captures)
    assert table.columns == ["age", "income", "score", "category", "region"]
    assert table.inferred_kinds().categorical == ["category", "region"]


def test_text_in_a_numeric_feature_stays_text_for_the_profile_to_count(tmp_path: Path, demo_spec: MonitoringSpec):
    _write(tmp_path, "capture/x.jsonl", [_record(1, 30, "1", 0.9), _record(2, "old", "1", 0.9)])
    assert TableFile(tmp_path, demo_spec).read_columns(["age"])["age"].tolist() == ["30", "old"]


def test_folders_that_hold_no_captures_are_refused(tmp_path: Path, demo_spec: MonitoringSpec):
    with pytest.raises(UserInputError, match="no capture objects"):
        TableFile(tmp_path, demo_spec)
    _write(tmp_path, "labels/dt=2026-12-06-12/l.jsonl", [{"request_id": "r1", "label": 1}])
    with pytest.raises(UserInputError, match=r"l\.jsonl: not a capture object"):
        TableFile(tmp_path, demo_spec)
