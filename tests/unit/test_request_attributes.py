"""Request attributes ([attributes.<name>]): validated at load like every other key, named by
[[segments]] `by`, accepted by the API's request model beside the features (per request), kept
in the capture record and read back as columns that segments cut by but no profile treats as a
feature; and `modelwatch drift` cutting a table's attribute column, with a reference that has it
and one that lacks it (each value then judged against the whole reference)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from pydantic import ValidationError

from modelwatch.cli.main import main
from modelwatch.profiles import ProfileSchema
from modelwatch.profiles.segment_binning import value_profile
from modelwatch.profiles.segmented import SegmentCut, SegmentedProfileBuilder, against_whole_reference, segment_bins
from modelwatch.serving import capture
from modelwatch.serving.request_models import api_models
from modelwatch.spec import SpecError, parse_spec
from modelwatch.windows.capture_profile import capture_columns, profile_captures

FEATURES = {"x1": {"type": "numeric"}, "x2": {"type": "numeric"}, "region": {"type": "categorical"}}
NO_MULTIVARIATE = {"multivariate": {"pca_reconstruction": False, "domain_classifier": False}}
AT = datetime(2026, 12, 8, tzinfo=UTC)


def _document(attributes: dict, segments: list[dict] | None = None, **more: object) -> dict:
    return {
        "model": {"name": "attributes"},
        "features": FEATURES,
        "drift": NO_MULTIVARIATE,
        "attributes": attributes,
        "segments": segments or [],
        **more,
    }


CLIENT = {"client_id": {"description": "the calling application", "max_length": 8}}


def test_attributes_load_and_segments_may_cut_by_them_alone_or_with_features():
    spec = parse_spec(
        _document(
            CLIENT | {"app": {}},
            [{"name": "by_client", "by": ["client_id"]}, {"name": "client_region", "by": ["region", "client_id"]}],
        )
    )
    assert spec.attributes["client_id"].max_length == 8 and spec.attributes["app"].max_length == 64
    assert spec.attributes["client_id"].description == "the calling application"
    assert spec.segment_attributes == ["client_id"]  # app names no segment: never read from a table
    assert parse_spec(_document({})).attributes == {}


@pytest.mark.parametrize(
    ("attributes", "more", "expected"),
    [
        ({"x1": {}}, {}, "attributes.x1: 'x1' is also a feature"),
        ({"label": {}}, {"columns": {"target": "label"}}, "attributes.label: 'label' is also the column of columns."),
        ({"prediction": {}}, {}, "attributes.prediction: 'prediction' is a field every capture record has"),
        ({"request_id": {}}, {}, "attributes.request_id: 'request_id' is also the column of columns.request_id"),
        (
            {"p_client": {}},
            {"model": {"name": "m", "task": "multiclass"}, "columns": {"score_prefix": "p_"}},
            "attributes.p_client: 'p_client' starts with columns.score_prefix 'p_'",
        ),
        ({"client id": {}}, {}, "attributes.client id.[key]: String should match pattern"),
        ({"client_id": {"max_length": 0}}, {}, "attributes.client_id.max_length: Input should be greater than"),
        ({"client_id": {"max_length": 5000}}, {}, "attributes.client_id.max_length: Input should be less than"),
        ({"client_id": {"size": 3}}, {}, "attributes.client_id.size: Extra inputs are not permitted"),
        ({f"a{k}": {} for k in range(17)}, {}, "attributes: Dictionary should have at most 16 items"),
    ],
)
def test_a_bad_attribute_is_refused_naming_its_key(attributes, more, expected):
    with pytest.raises(SpecError) as refused:
        parse_spec(_document(attributes, **more), "spec.toml")
    assert expected in str(refused.value), str(refused.value)


def test_a_segment_by_an_undeclared_name_says_what_it_may_name():
    with pytest.raises(SpecError) as refused:
        parse_spec(_document(CLIENT, [{"name": "by_app", "by": ["app"]}]), "spec.toml")
    assert (
        "spec.toml: segments[0].by: 'app' is neither a categorical feature nor a request attribute "
        "(categorical features: region; request attributes, declared as [attributes.<name>]: client_id)"
    ) in str(refused.value)


def _spec(with_segment: bool = True):
    segments = [{"name": "by_client", "by": ["client_id"], "max_values": 3}] if with_segment else []
    return parse_spec(_document(CLIENT, segments))


def test_the_request_model_takes_attributes_per_request_and_refuses_what_breaks_their_rules():
    request = api_models(_spec())["PredictRequest"]
    single = request.model_validate({"features": {"x1": 1.0}, "attributes": {"client_id": "acme"}})
    assert single.request_attributes() == {"client_id": "acme"}
    assert single.records() == [{"x1": 1.0, "x2": None, "region": None}]  # the model sees features only
    batch = request.model_validate({"instances": [{"x1": 1.0}, {"x1": 2.0}], "attributes": {"client_id": "acme"}})
    assert batch.request_attributes() == {"client_id": "acme"} and len(batch.records()) == 2
    assert request.model_validate({"features": {"x1": 1.0}}).request_attributes() == {}
    assert request.model_validate({"features": {}, "attributes": {"client_id": None}}).request_attributes() == {}

    def errors(body: dict) -> list[tuple[str, str]]:
        with pytest.raises(ValidationError) as refused:
            request.model_validate(body)
        return [(".".join(map(str, e["loc"])), e["type"]) for e in refused.value.errors()]

    assert errors({"features": {}, "attributes": {"tenant": "x"}}) == [("attributes.tenant", "extra_forbidden")]
    assert errors({"features": {}, "attributes": {"client_id": 42}}) == [("attributes.client_id", "string_type")]
    assert errors({"features": {}, "attributes": {"client_id": "x" * 9}}) == [
        ("attributes.client_id", "string_too_long")
    ]
    assert errors({"features": {}, "attributes": {"client_id": ""}}) == [("attributes.client_id", "string_too_short")]
    assert errors({"features": {}, "attributes": ["acme"]}) == [("attributes", "model_type")]
    # Per request: an attribute inside a record is an unknown feature, not an attribute.
    assert errors({"instances": [{"x1": 1.0, "client_id": "acme"}]}) == [("instances.0.client_id", "extra_forbidden")]
    # A spec that declares none has no such key at all.
    plain = api_models(parse_spec(_document({})))["PredictRequest"]
    with pytest.raises(ValidationError) as refused:
        plain.model_validate({"features": {}, "attributes": {"client_id": "acme"}})
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [(("attributes",), "extra_forbidden")]


def _records(client_ids: list[str | None]) -> list[dict]:
    return [
        capture.capture_record(
            f"r{k}",
            AT,
            "v1",
            {"x1": float(k), "x2": 0.0, "region": "eu"},
            "1",
            {"0": 0.2, "1": 0.8},
            None if client is None else {"client_id": client},
        )
        for k, client in enumerate(client_ids)
    ]


def test_a_capture_record_keeps_its_attributes_apart_and_they_are_columns_never_features():
    records = _records(["acme", "acme", "zen", None])
    assert records[0]["attributes"] == {"client_id": "acme"} and "attributes" not in records[3]
    assert "client_id" not in records[0]["features"]
    spec = _spec()
    columns, _ = capture_columns(spec, records)
    assert columns["client_id"].tolist() == ["acme", "acme", "zen", None]
    profiled = profile_captures(spec, records, segment_cut=_cut(spec, records, {"by_client": [("acme",)]})).profile
    assert "client_id" not in profiled.columns  # the whole profile: features and roles only
    table = profiled.segments["by_client"]
    rows = {key: table.rows_of(key) for key in table.keys}
    assert rows == {"acme": 2, "": 2}  # zen and the missing one are "other" (the baseline kept acme)
    assert all("client_id" not in value_profile(table, key).columns for key in table.keys)


def _cut(spec, records: list[dict], kept: dict) -> SegmentCut:
    """A baseline's cut: its kept values, and bins from a profile of these records."""
    return SegmentCut(kept, segment_bins(spec, profile_captures(spec, records).profile))


def test_a_capture_object_keeps_its_own_clients_when_the_baseline_has_no_slice_of_them():
    """A baseline from data without the client id holds no by_client slices: each capture
    object keeps its own most frequent clients (at most max_values + 1 profiles), for the drift
    check to judge against the whole baseline."""
    records = _records(["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] * 2 + ["e"])
    profiled = profile_captures(_spec(), records, segment_cut=_cut(_spec(), records, {})).profile
    table = profiled.segments["by_client"]
    assert {key: table.rows_of(key) for key in table.keys} == {"a": 5, "b": 4, "c": 3, "": 3}


def test_a_baseline_without_the_attribute_leaves_its_segment_out_and_a_window_keeps_its_own_values():
    spec = _spec()
    schema = ProfileSchema.from_spec(spec)
    rng = np.random.default_rng(1)
    window_rows = {
        "x1": rng.normal(size=100),
        "x2": rng.normal(size=100),
        "region": np.full(100, "eu", dtype=object),
        "client_id": np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 10 + ["d"] * 6 + ["e"] * 4, dtype=object),
    }
    baseline = SegmentedProfileBuilder(schema, []).result()  # no slices of by_client
    window = SegmentedProfileBuilder(schema, spec.segments, baseline.cut(spec), open_segments=frozenset({"by_client"}))
    window.add(window_rows)
    current = window.result()
    rows = {value: part.rows for value, part in current.segments["by_client"].items()}
    assert rows == {("a",): 50, ("b",): 30, ("c",): 10, None: 10}
    judged = against_whole_reference(baseline, current, ["by_client"])
    assert set(judged.segments["by_client"]) == {("a",), ("b",), ("c",), None}
    # Each value's slice is the whole baseline, counted over the same bins.
    assert all(part.rows == baseline.whole.rows for part in judged.segments["by_client"].values())


def _table(rng: np.random.Generator, rows: int, shifted_client: str | None = None, with_client: bool = True) -> dict:
    client = np.array(["acme", "zen", "kite"], dtype=object)[rng.choice(3, size=rows, p=[0.6, 0.3, 0.1])]
    x1 = rng.normal(size=rows)
    if shifted_client is not None:
        x1[client == shifted_client] += 0.8
    table = {"x1": x1, "x2": rng.normal(size=rows), "region": np.full(rows, "eu", dtype=object)}
    return table | ({"client_id": client} if with_client else {})


def _write(path, rows: dict) -> str:
    pacsv.write_csv(pa.table(rows), path)
    return str(path)


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(
        "[model]\nname = 'attributes'\n"
        "[features.x1]\ntype = 'numeric'\n[features.x2]\ntype = 'numeric'\n[features.region]\ntype = 'categorical'\n"
        "[drift.multivariate]\npca_reconstruction = false\ndomain_classifier = false\n"
        "[attributes.client_id]\ndescription = 'the calling application'\n"
        "[[segments]]\nname = 'by_client'\nby = ['client_id']\n"
    )
    return path


@pytest.mark.parametrize("reference_has_the_column", [True, False])
def test_the_drift_command_flags_the_one_client_whose_inputs_shifted(
    tmp_path, spec_file, capsys, reference_has_the_column
):
    """An attribute is a column of the file: read as a segment key only (never a feature in the
    verdicts). A reference without the column (training data seldom has a client id) compares
    each client's window with the whole reference."""
    reference = _write(
        tmp_path / "reference.csv", _table(np.random.default_rng(3), 20_000, with_client=reference_has_the_column)
    )
    shifted = _write(tmp_path / "shifted.csv", _table(np.random.default_rng(5), 20_000, shifted_client="kite"))
    out = tmp_path / "out.json"
    argv = ["drift", "--spec", str(spec_file), "--reference", reference, "--current", shifted, "--json", str(out)]
    assert main(argv) == 1
    document = json.loads(out.read_text())
    assert [f["name"] for f in document["features"]] == ["x1", "x2", "region"]  # no client_id feature
    assert document["dataset_drift"] is False and document["segment_drift"] is True
    (kite,) = [s for s in document["segments"] if s["drifted_features"]]
    assert kite["segment"] == "by_client" and kite["values"] == {"client_id": "kite"}
    assert kite["drifted_features"] == ["x1"]
    assert {json.dumps(s["values"]) for s in document["segments"]} >= {
        '{"client_id": "acme"}',
        '{"client_id": "zen"}',
        '{"client_id": "kite"}',
    }
    if reference_has_the_column:
        assert 0.08 * 20_000 < kite["reference_rows"] < 0.12 * 20_000  # kite's own slice
    else:
        assert kite["reference_rows"] == 20_000  # the whole reference
    assert "by_client[client_id=kite] (x1)" in capsys.readouterr().out


def test_a_window_without_the_attribute_column_is_refused_naming_it(tmp_path, spec_file, capsys):
    reference = _write(tmp_path / "reference.csv", _table(np.random.default_rng(3), 2000))
    current = _write(tmp_path / "current.csv", _table(np.random.default_rng(4), 2000, with_client=False))
    code = main(["drift", "--spec", str(spec_file), "--reference", reference, "--current", current])
    assert code == 2
    assert "no column 'client_id' to cut the spec's segments by" in capsys.readouterr().err


def test_retraining_rows_carry_the_captured_attributes_for_the_new_baseline_never_for_the_model():
    from modelwatch.retraining.dataset import labelled_rows
    from modelwatch.retraining.trainer import training_frame

    spec = parse_spec(_document(CLIENT, [{"name": "by_client", "by": ["client_id"]}], columns={"target": "label"}))
    records = _records(["acme", None, "zen"])
    rows = labelled_rows(spec, records, {"r0": "1", "r1": "0", "r2": "1"})
    assert rows.columns["client_id"].tolist() == ["acme", None, "zen"]
    assert "client_id" not in training_frame(spec, rows.columns).columns


def test_a_saved_profile_of_data_without_the_attribute_is_a_reference_for_it(tmp_path, spec_file):
    """`modelwatch profile` of rows without the client id stores no by_client slices (a feature
    segment it lacked would be refused); the drift command then judges each client against the
    whole saved profile."""
    data = _write(tmp_path / "reference.csv", _table(np.random.default_rng(3), 20_000, with_client=False))
    saved = tmp_path / "baseline.json"
    assert main(["profile", "--spec", str(spec_file), "--data", data, "--out", str(saved)]) == 0
    assert "by_client" not in json.loads(saved.read_text()).get("segments", {})
    shifted = _write(tmp_path / "shifted.csv", _table(np.random.default_rng(5), 20_000, shifted_client="kite"))
    out = tmp_path / "out.json"
    argv = ["drift", "--spec", str(spec_file), "--reference", str(saved), "--current", shifted, "--json", str(out)]
    assert main(argv) == 1
    (kite,) = [s for s in json.loads(out.read_text())["segments"] if s["drifted_features"]]
    assert kite["values"] == {"client_id": "kite"} and kite["reference_rows"] == 20_000
