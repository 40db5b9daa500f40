"""Segments: the spec's [[segments]] validated at load; profiles per segment value (the
baseline's most frequent kept, the rest "other"); verdicts corrected as one family; and the
drift command's JSON, summary line and exit code."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from modelwatch.cli.main import main
from modelwatch.profiles import DatasetProfile, ProfileSchema
from modelwatch.profiles.segmented import SegmentedProfileBuilder, ValueCounter
from modelwatch.segments.verdicts import analyze_segments
from modelwatch.spec import SpecError, parse_spec

FEATURES = {
    "x1": {"type": "numeric"},
    "x2": {"type": "numeric"},
    "region": {"type": "categorical"},
    "app": {"type": "categorical"},
}


def _document(segments: list[dict], **features: dict) -> dict:
    return {
        "model": {"name": "segments"},
        "features": {**FEATURES, **features},
        "drift": {"multivariate": {"pca_reconstruction": False, "domain_classifier": False}},
        "segments": segments,
    }


def test_segments_load_with_their_default_max_values():
    spec = parse_spec(_document([{"name": "by_region", "by": ["region"]}, {"name": "pair", "by": ["region", "app"]}]))
    assert [(s.name, s.by, s.max_values) for s in spec.segments] == [
        ("by_region", ["region"], 20),
        ("pair", ["region", "app"], 20),
    ]
    assert parse_spec(_document([])).segments == []


@pytest.mark.parametrize(
    ("segments", "features", "expected"),
    [
        ([{"name": "a", "by": ["region"]}, {"name": "a", "by": ["app"]}], {}, "segments: names repeat: a"),
        ([{"name": "a", "by": ["x1"]}], {}, "segments[0].by: 'x1' is neither a categorical feature nor"),
        ([{"name": "a", "by": ["client"]}], {}, "segments[0].by: 'client' is neither a categorical"),
        ([{"name": "a", "by": []}], {}, "segments[0].by: List should have at least 1 item"),
        ([{"name": "a", "by": ["region"], "max_values": 0}], {}, "segments[0].max_values: Input should be greater"),
        ([{"name": "a", "by": ["region", "region"]}], {}, "region named more than once"),
        ([{"name": "a b", "by": ["region"]}], {}, "segments[0].name: String should match pattern"),
        ([{"name": "a", "by": ["region"], "size": 3}], {}, "segments[0].size: Extra inputs are not permitted"),
        (
            [{"name": "a", "by": ["secret"]}],
            {"secret": {"type": "categorical", "sensitive": True, "sensitive_action": "drop"}},
            "segments[0].by: 'secret' is a sensitive feature that is dropped",
        ),
    ],
)
def test_a_bad_segment_is_refused_naming_its_key(segments, features, expected):
    with pytest.raises(SpecError) as refused:
        parse_spec(_document(segments, **features), "spec.toml")
    assert expected in str(refused.value), str(refused.value)


def _spec(max_values: int = 2, by: tuple[str, ...] = ("region",)):
    return parse_spec(_document([{"name": "seg", "by": list(by), "max_values": max_values}]))


def test_the_baselines_most_frequent_values_are_kept_and_the_rest_is_other():
    spec = _spec(max_values=2)
    region = np.array(["eu"] * 50 + ["us"] * 30 + ["asia"] * 15 + [None] * 5, dtype=object)
    rows = {"x1": np.arange(100.0), "x2": np.zeros(100), "region": region, "app": np.full(100, "ios", dtype=object)}
    builder = SegmentedProfileBuilder(ProfileSchema.from_spec(spec), spec.segments)
    builder.add(rows)
    reference = builder.result()
    values = reference.segments["seg"]
    assert {value: profile.rows for value, profile in values.items()} == {("eu",): 50, ("us",): 30, None: 20}
    assert reference.whole.rows == 100
    # other merges the rest: asia's 15 values and the missing region's 5
    assert values[None].columns["x1"].valid == 20
    # A window is cut by the baseline's values: a value it never had is "other".
    window = SegmentedProfileBuilder(ProfileSchema.from_spec(spec), spec.segments, reference.cut(spec))
    window.add({**rows, "region": np.array(["eu"] * 10 + ["mars"] * 90, dtype=object)})
    assert {v: p.rows for v, p in window.result().segments["seg"].items()} == {("eu",): 10, None: 90}


def test_counting_first_keeps_the_same_values_as_profiling_every_value():
    """The command line counts the baseline's values before profiling the kept ones (bounded
    memory for a segment by client id): both ways keep the same values, ties broken alike."""
    spec = _spec(max_values=3, by=("region", "app"))
    rng = np.random.default_rng(7)
    rows = {
        "x1": rng.normal(size=5000),
        "x2": rng.normal(size=5000),
        "region": np.array(["eu", "us", "asia", None], dtype=object)[rng.choice(4, size=5000, p=[0.4, 0.3, 0.2, 0.1])],
        "app": np.array(["ios", "web"], dtype=object)[rng.choice(2, size=5000)],
    }
    counter = ValueCounter(spec.segments)
    for start in range(0, 5000, 1000):  # in batches, as a file is read
        counter.add({name: values[start : start + 1000] for name, values in rows.items()})
    builder = SegmentedProfileBuilder(ProfileSchema.from_spec(spec), spec.segments)
    builder.add(rows)
    assert counter.kept() == builder.result().kept()
    assert len(counter.kept()["seg"]) == 3


def test_a_segment_value_is_the_tuple_of_its_by_values():
    spec = _spec(max_values=5, by=("region", "app"))
    rows = {
        "x1": np.zeros(6),
        "x2": np.zeros(6),
        "region": np.array(["eu", "eu", "us", "us", "us", "eu"], dtype=object),
        "app": np.array(["ios", "web", "ios", "ios", "web", "ios"], dtype=object),
    }
    builder = SegmentedProfileBuilder(ProfileSchema.from_spec(spec), spec.segments)
    builder.add(rows)
    counts = {value: profile.rows for value, profile in builder.result().segments["seg"].items()}
    assert counts == {("eu", "ios"): 2, ("us", "ios"): 2, ("eu", "web"): 1, ("us", "web"): 1}


def _rows(rng: np.random.Generator, rows: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    region = np.array(["eu", "us", "asia"], dtype=object)[rng.choice(3, size=rows, p=[0.6, 0.3, 0.1])]
    x1 = rng.normal(size=rows)
    x1[region == "asia"] += shift
    return {"x1": x1, "x2": rng.normal(size=rows), "region": region, "app": np.full(rows, "ios", dtype=object)}


def test_the_correction_spans_every_segment_and_feature():
    """The same p-value that passes alone fails in a larger family: each segment value's
    adjusted p-values come from the whole family's correction, not its own."""
    spec = _spec(max_values=3)
    schema = ProfileSchema.from_spec(spec)
    builder = SegmentedProfileBuilder(schema, spec.segments)
    builder.add(_rows(np.random.default_rng(1), 30_000))
    reference = builder.result()
    window = SegmentedProfileBuilder(schema, spec.segments, reference.cut(spec))
    window.add(_rows(np.random.default_rng(2), 30_000, shift=0.5))
    results = analyze_segments(spec, reference, window.result())
    assert [r.values for r in results if r.drifted] == [{"region": "asia"}]
    tested = [f for r in results for f in r.report.features if f.p_value is not None]
    # x1, x2 and app per value; the segment's own `by` feature (constant within a value) is not checked
    assert len(tested) == 3 * 3 and "region" not in {f.name for f in tested}
    raw = sorted(f.p_value for f in tested)
    adjusted = sorted(f.p_value_adjusted for f in tested)
    # Benjamini-Hochberg over all nine: the largest p-value keeps its value, the smallest is
    # multiplied by the family's size (unless a larger one's adjusted value is smaller).
    assert adjusted[-1] == pytest.approx(raw[-1])
    assert adjusted[0] == pytest.approx(min(raw[0] * 9, adjusted[1]))
    assert adjusted[0] > raw[0]


def _write(path, rows: dict[str, np.ndarray]) -> str:
    pacsv.write_csv(pa.table(rows), path)
    return str(path)


def test_the_drift_command_reports_segments_and_exits_1_on_segment_drift(tmp_path, capsys):
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(
        "[model]\nname = 'segments'\n"
        "[features.x1]\ntype = 'numeric'\n[features.x2]\ntype = 'numeric'\n"
        "[features.region]\ntype = 'categorical'\n[features.app]\ntype = 'categorical'\n"
        "[drift.multivariate]\npca_reconstruction = false\ndomain_classifier = false\n"
        "[[segments]]\nname = 'by_region'\nby = ['region']\nmax_values = 2\n"
    )
    reference = _write(tmp_path / "reference.csv", _rows(np.random.default_rng(3), 20_000))
    stable = _write(tmp_path / "stable.csv", _rows(np.random.default_rng(4), 20_000))
    shifted = _write(tmp_path / "shifted.csv", _rows(np.random.default_rng(5), 20_000, shift=0.8))
    out = tmp_path / "out.json"
    argv = ["drift", "--spec", str(spec_path), "--reference", reference, "--json", str(out)]

    assert main([*argv, "--current", stable]) == 0
    document = json.loads(out.read_text())
    assert document["segment_drift"] is False
    assert {json.dumps(s["values"]) for s in document["segments"]} == {
        '{"region": "eu"}',
        '{"region": "us"}',
        '{"region": "other"}',
    }
    capsys.readouterr()

    assert main([*argv, "--current", shifted]) == 1
    document = json.loads(out.read_text())
    assert document["dataset_drift"] is False and document["segment_drift"] is True
    (asia,) = [s for s in document["segments"] if s["drifted_features"]]
    assert asia["segment"] == "by_region" and asia["values"] == {"region": "other"}
    assert asia["drifted_features"] == ["x1"]
    assert 0.08 * 20_000 < asia["current_rows"] < 0.12 * 20_000
    assert asia["reference_rows"] > 0 and asia["drift_share"] == pytest.approx(1 / 3)
    assert [f["name"] for f in asia["features"]] == ["x1", "x2", "app"]
    assert set(asia) >= {"dataset_drift", "performance", "estimated_performance"}
    assert "Segments: 1 of 3 drifted — by_region[region=other] (x1)" in capsys.readouterr().out

    # A CI gate that asks for multivariate drift only is not failed by a segment.
    assert main([*argv, "--current", shifted, "--fail-on", "multivariate"]) == 0


def test_a_saved_profile_carries_its_segments_and_one_without_them_is_refused(tmp_path, capsys):
    """`modelwatch profile` with a spec that has segments stores them in the profile, so a drift
    run (or the deployed stack) can take the saved baseline; a profile made without them names
    the segment it lacks."""
    spec_path = tmp_path / "spec.toml"
    plain = "[model]\nname = 'segments'\n[features.x1]\ntype = 'numeric'\n[features.region]\ntype = 'categorical'\n"
    spec_path.write_text(plain + "[[segments]]\nname = 'by_region'\nby = ['region']\n")
    rows = _rows(np.random.default_rng(6), 2000)
    data = _write(tmp_path / "data.csv", {"x1": rows["x1"], "region": rows["region"]})
    profile = tmp_path / "baseline.json"
    assert main(["profile", "--spec", str(spec_path), "--data", data, "--out", str(profile)]) == 0
    saved = DatasetProfile.load(profile)
    table = saved.segments["by_region"]
    assert saved.rows == 2000 and sum(table.rows_of(key) for key in table.keys) == 2000
    out = tmp_path / "drift.json"
    argv = ["drift", "--spec", str(spec_path), "--reference", str(profile), "--current", data, "--json", str(out)]
    assert main(argv) == 0
    document = json.loads(out.read_text())
    assert document["segment_drift"] is False
    assert {s["values"]["region"] for s in document["segments"]} == set(np.unique(rows["region"]))

    plain_spec = tmp_path / "plain.toml"
    plain_spec.write_text(plain)
    old = tmp_path / "old.json"
    assert main(["profile", "--spec", str(plain_spec), "--data", data, "--out", str(old)]) == 0
    capsys.readouterr()
    code = main(["drift", "--spec", str(spec_path), "--reference", str(old), "--current", data])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no segment 'by_region'" in err[0]


def test_each_segment_gets_its_own_performance_and_estimated_performance(tmp_path):
    """Labels and scores are split with the rows: each value's accuracy is its own rows', and
    CBPE's estimate is calibrated on its own slice of the reference."""
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(
        "[model]\nname = 'segments'\n[columns]\ntarget = 'label'\nprediction = 'prediction'\nscore = 'p_1'\n"
        "[features.x1]\ntype = 'numeric'\n[features.region]\ntype = 'categorical'\n"
        "[[segments]]\nname = 'by_region'\nby = ['region']\n"
    )

    def rows(seed: int, n: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        x1 = rng.normal(size=n)
        region = np.array(["eu", "us"], dtype=object)[rng.integers(0, 2, n)]
        probability = 1 / (1 + np.exp(-2 * x1))
        label = (rng.random(n) < probability).astype(int)
        # The model is right everywhere in "eu" and guesses in "us": accuracy 1 against about 0.5.
        prediction = np.where(region == "eu", label, rng.integers(0, 2, n))
        return {"x1": x1, "region": region, "label": label, "prediction": prediction, "p_1": probability}

    reference = _write(tmp_path / "reference.csv", rows(8, 6000))
    current = _write(tmp_path / "current.csv", rows(9, 6000))
    out = tmp_path / "out.json"
    argv = ["drift", "--spec", str(spec_path), "--reference", reference, "--current", current, "--json", str(out)]
    assert main(argv) == 0
    segments = {s["values"]["region"]: s for s in json.loads(out.read_text())["segments"]}
    assert segments["eu"]["performance"]["accuracy"] == 1.0
    assert 0.4 < segments["us"]["performance"]["accuracy"] < 0.6
    assert segments["eu"]["estimated_performance"] is not None and segments["us"]["estimated_performance"] is not None


def test_a_value_the_reference_never_had_is_other_and_not_judged_against_nothing():
    spec = _spec(max_values=20)
    schema = ProfileSchema.from_spec(spec)
    builder = SegmentedProfileBuilder(schema, spec.segments)
    builder.add(_rows(np.random.default_rng(10), 3000))  # eu, us, asia: all kept, no "other"
    reference = builder.result()
    assert None not in reference.segments["seg"]
    window = SegmentedProfileBuilder(schema, spec.segments, reference.cut(spec))
    rows = _rows(np.random.default_rng(11), 3000)
    rows["region"] = np.where(np.arange(3000) < 500, "mars", rows["region"]).astype(object)
    window.add(rows)
    results = analyze_segments(spec, reference, window.result())
    (other,) = [r for r in results if r.value is None]
    assert other.values == {"region": "other"}
    assert (other.report.reference_rows, other.report.current_rows) == (0, 500)
    assert other.report.status == "insufficient_data" and not other.drifted
    assert other.to_dict()["dataset_drift"] is None
