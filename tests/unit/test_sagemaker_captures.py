"""Model Monitor's data capture and ground truth read record for record: CSV, JSON and BASE64
payloads, output columns first, names from the spec or Spark's _c0, _c1, …, ground truth joined
on inferenceId, else eventId."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from modelwatch.errors import UserInputError
from modelwatch.importing.sagemaker.captures import (
    capture_columns,
    is_model_monitor_capture,
    read_capture_rows,
    read_ground_truth,
)
from tests.sagemaker_examples import ACTUALS, CSV_CAPTURE, JSON_CAPTURE, ONE_GROUND_TRUTH, capture_line


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_the_csv_capture_example_is_read_record_for_record() -> None:
    records = _lines(CSV_CAPTURE)
    rows = read_capture_rows(CSV_CAPTURE)
    assert len(rows) == len(records) == 44
    for row, record in zip(rows, records, strict=True):
        output = record["captureData"]["endpointOutput"]["data"].split(",")
        inputs = record["captureData"]["endpointInput"]["data"].split(",")
        assert row.values == [float(v) for v in output + inputs]
        assert row.join_key == record["eventMetadata"]["eventId"]
    columns = capture_columns(rows, [])
    assert list(columns) == [f"_c{i}" for i in range(8)]  # 1 output, then 7 inputs
    assert columns["_c0"][0] == pytest.approx(0.302709460258)
    assert columns["_c1"][:2] == [9.0, 27.0]


def test_the_json_capture_example_is_read_instance_by_instance() -> None:
    rows = read_capture_rows(JSON_CAPTURE)
    # Two requests of three instances each ({"instances": [1.0, 2.0, 5.0]}, three predictions).
    assert [row.values for row in rows] == [[3.5, 1.0], [4.0, 2.0], [5.5, 5.0]] * 2
    assert {row.join_key for row in rows} == {r["eventMetadata"]["eventId"] for r in _lines(JSON_CAPTURE)}
    columns = capture_columns(rows, ["prediction", "x"])
    assert columns == {"prediction": [3.5, 4.0, 5.5] * 2, "x": [1.0, 2.0, 5.0] * 2}


def test_the_ground_truth_example_joins_every_capture_on_its_event_id() -> None:
    labels = read_ground_truth(ACTUALS)
    assert len(labels) == 44
    rows = read_capture_rows(CSV_CAPTURE)
    columns = capture_columns(rows, [], "label", labels)
    expected = {r["eventMetadata"]["eventId"]: float(r["groundTruthData"]["data"]) for r in _lines(ACTUALS)}
    assert columns["label"] == [expected[row.join_key] for row in rows]
    assert None not in columns["label"]
    assert read_ground_truth(ONE_GROUND_TRUTH) == {"01d3c1a8-aa99-4149-9d5e-78bea047a788": 0.0}


def test_an_inference_id_is_the_join_key_when_there_is_one(tmp_path: Path) -> None:
    capture = tmp_path / "capture.jsonl"
    capture.write_text(
        capture_line("e1", ["1", "2"], ["0.9"], inference_id="order-7") + "\n" + capture_line("e2", ["3", "4"], ["0.1"])
    )
    truth = tmp_path / "truth.jsonl"
    truth.write_text(
        "\n".join(
            json.dumps({"groundTruthData": {"data": data, "encoding": "CSV"}, "eventMetadata": metadata})
            for data, metadata in (("1", {"eventId": "x", "inferenceId": "order-7"}), ("0", {"eventId": "e2"}))
        )
    )
    columns = capture_columns(read_capture_rows(capture), ["score", "a", "b"], "label", read_ground_truth(truth))
    assert columns == {"score": [0.9, 0.1], "a": [1.0, 3.0], "b": [2.0, 4.0], "label": [1.0, 0.0]}


def test_base64_payloads_are_decoded_by_their_content_type(tmp_path: Path) -> None:
    def encoded(text: str, content_type: str) -> dict:
        data = base64.b64encode(text.encode()).decode()
        return {"observedContentType": content_type, "mode": "INPUT", "data": data, "encoding": "BASE64"}

    record = {
        "captureData": {
            "endpointInput": encoded("1,red\n2,blue", "text/csv"),
            "endpointOutput": encoded(json.dumps({"predictions": [0.2, 0.7]}), "application/json"),
        },
        "eventMetadata": {"eventId": "e"},
        "eventVersion": "0",
    }
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert [row.values for row in read_capture_rows(path)] == [[0.2, 1.0, "red"], [0.7, 2.0, "blue"]]


def test_named_json_instances_keep_their_names(tmp_path: Path) -> None:
    record = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "application/json",
                "data": json.dumps({"instances": [{"age": 31, "city": "Oslo"}]}),
                "encoding": "JSON",
            },
            "endpointOutput": {"observedContentType": "text/csv", "data": "1", "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": "e"},
    }
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(record))
    assert capture_columns(read_capture_rows(path), ["prediction"]) == {
        "prediction": [1.0],
        "age": [31.0],
        "city": ["Oslo"],
    }


def test_a_folder_of_captures_is_read_in_key_order(tmp_path: Path) -> None:
    for hour, value in (("11", "2"), ("10", "1")):
        folder = tmp_path / "endpoint" / "AllTraffic" / "2024" / "05" / "01" / hour
        folder.mkdir(parents=True)
        (folder / "part.jsonl").write_text(capture_line(f"e{hour}", [value], ["0"]) + "\n")
    assert is_model_monitor_capture(tmp_path)
    assert [row.values for row in read_capture_rows(tmp_path)] == [[0.0, 1.0], [0.0, 2.0]]


def test_only_model_monitor_captures_are_taken_for_one(tmp_path: Path) -> None:
    own = tmp_path / "own.jsonl"
    own.write_text(json.dumps({"features": {"x": 1}, "prediction": "1"}) + "\n")
    table = tmp_path / "data.csv"
    table.write_text("a,b\n1,2\n")
    assert not is_model_monitor_capture(own) and not is_model_monitor_capture(table)
    assert is_model_monitor_capture(CSV_CAPTURE) and not is_model_monitor_capture(ACTUALS)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not a JSON line"),
        (json.dumps({"groundTruthData": {}}), "not a Model Monitor captureData line"),
        (
            json.dumps({"captureData": {"endpointInput": {"data": "1", "encoding": "XML"}}}),
            "encoding XML",
        ),
        (
            json.dumps({"captureData": {"endpointInput": {"data": "%%%", "encoding": "BASE64"}}}),
            "BASE64 payload",
        ),
    ],
)
def test_a_bad_line_is_one_error_naming_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(capture_line("e", ["1"], ["0"]) + "\n" + line + "\n")
    with pytest.raises(UserInputError, match=message) as raised:
        read_capture_rows(path)
    assert f"{path}:2" in str(raised.value)


def test_the_spec_prediction_column_takes_the_output_and_the_features_the_inputs(tmp_path: Path) -> None:
    capture = tmp_path / "capture.jsonl"
    # The second request carries an extra input: it is one more column, and shifts no name.
    capture.write_text(capture_line("e1", ["1", "2"], ["0.9"]) + "\n" + capture_line("e2", ["3", "4", "5"], ["0.1"]))
    columns = capture_columns(read_capture_rows(capture), ["a", "b"], prediction="score")
    assert columns == {"score": [0.9, 0.1], "a": [1.0, 3.0], "b": [2.0, 4.0], "_c3": [None, 5.0]}
