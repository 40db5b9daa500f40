"""Whatever a statistics.json or constraints.json holds, import-sagemaker imports it or says in
one line what is wrong (exit 2): never a traceback (exit 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelwatch.cli.main import main
from modelwatch.errors import UserInputError
from modelwatch.importing.sagemaker.captures import read_capture_rows, read_ground_truth
from tests.sagemaker_examples import (
    ACTUALS,
    CSV_CAPTURE,
    JSON_CAPTURE,
    MONITOR_CONSTRAINTS,
    MONITOR_STATISTICS,
    PIPELINE_CONSTRAINTS,
    PIPELINE_STATISTICS,
)

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.just([]),
    st.just({}),
    st.just([[1.0, "x"]]),
    st.just({"count": "many"}),
)


def _places(document: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value inside the document."""
    found = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _places(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document[:3]):
            found += _places(value, (*path, index))
    return found


def _replaced(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    holder = copy
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("which", "statistics", "constraints"),
    [
        ("statistics", PIPELINE_STATISTICS, PIPELINE_CONSTRAINTS),
        ("constraints", PIPELINE_STATISTICS, PIPELINE_CONSTRAINTS),
        ("statistics", MONITOR_STATISTICS, MONITOR_CONSTRAINTS),
        ("constraints", MONITOR_STATISTICS, MONITOR_CONSTRAINTS),
    ],
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_file_is_imported_or_refused_in_one_line(
    tmp_path: Path, capsys, which: str, statistics: Path, constraints: Path, data: st.DataObject
) -> None:
    files = {"statistics": statistics, "constraints": constraints}
    document = json.loads(files[which].read_text())
    place = data.draw(st.sampled_from(_places(document)))
    damaged = tmp_path / f"{which}.json"
    damaged.write_text(json.dumps(_replaced(document, place, data.draw(JUNK))))
    files[which] = damaged
    code = main(["import-sagemaker", "--statistics", str(files["statistics"]), "--constraints",
                 str(files["constraints"]), "--out", str(tmp_path / "out"), "--force"])  # fmt: skip
    err = capsys.readouterr().err
    assert code in (0, 2), err
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_capture_or_ground_truth_line_is_read_or_refused_as_bad_input(
    tmp_path: Path, data: st.DataObject
) -> None:
    source = data.draw(st.sampled_from([CSV_CAPTURE, JSON_CAPTURE, ACTUALS]))
    record = json.loads(source.read_text().splitlines()[0])
    place = data.draw(st.sampled_from(_places(record)))
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(json.dumps(_replaced(record, place, data.draw(JUNK | st.text(max_size=8)))) + "\n")
    try:
        if source == ACTUALS:
            read_ground_truth(damaged)
        else:
            read_capture_rows(damaged)
    except UserInputError as error:
        assert "\n" not in str(error) and str(damaged) in str(error)
