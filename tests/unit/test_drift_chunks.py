"""Drift over time: `modelwatch drift --timestamp COL --chunk-period 1h|1d|1w | --chunk-size N`.

Rows fall in calendar periods in UTC whatever zone their times were written in; each chunk is
judged as a window of its own, so stable chunks flag at the spec's rate and no more; a change part
way through the current file is found from the chunk it starts in, not before; and the whole file
is still judged as one, as without chunks."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from benchmarks.drift_scenarios import FEATURES, counted, spec_document, window
from modelwatch.cli.main import main
from modelwatch.drift.chunks import analyze_chunks
from modelwatch.errors import UserInputError
from modelwatch.profiles import DatasetProfile, ProfileSchema, profile_batch
from modelwatch.profiles.chunking import MAX_CHUNKS, ChunkAssigner, ChunkPlan
from modelwatch.profiles.grouped import GroupedProfileBuilder
from modelwatch.profiles.timestamps import iso, utc_microseconds
from modelwatch.spec import parse_spec
from tests.unit.test_drift_verdicts import RATE, _at_most

START = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
SPEC = parse_spec(spec_document(multivariate={"pca_reconstruction": False, "domain_classifier": False}))
SCHEMA = ProfileSchema.from_spec(SPEC)


def _us(moment: datetime) -> int:
    return utc_microseconds(np.array([moment.isoformat()], dtype=object), "t")[0]


def _chunk_starts(plan: ChunkPlan, moments: list[str]) -> list[str]:
    assigner = ChunkAssigner(plan)
    times = utc_microseconds(np.array(moments, dtype=object), "t")
    keys = assigner.keys(times, len(moments))
    bounds = {chunk.key: chunk for chunk in assigner.chunks()}
    return [iso(bounds[key].start) for key in keys.tolist()]  # type: ignore[arg-type]


def test_periods_are_calendar_hours_days_and_iso_weeks_in_utc():
    moments = ["2026-01-05T01:30:00+02:00", "2026-01-05T00:00:00Z", "2026-01-04T23:59:59.999", "2026-01-11T23:00:00"]
    assert _chunk_starts(ChunkPlan("t", "1d"), moments) == [
        "2026-01-04T00:00:00Z",  # 01:30 at +02:00 is 23:30 UTC the day before
        "2026-01-05T00:00:00Z",
        "2026-01-04T00:00:00Z",  # no zone: UTC
        "2026-01-11T00:00:00Z",
    ]
    # ISO weeks start on Monday: 2026-01-05 is one, and 2026-01-04 (a Sunday) is in the week before.
    assert _chunk_starts(ChunkPlan("t", "1w"), moments) == [
        "2025-12-29T00:00:00Z",
        "2026-01-05T00:00:00Z",
        "2025-12-29T00:00:00Z",
        "2026-01-05T00:00:00Z",
    ]
    assert _chunk_starts(ChunkPlan("t", "1h"), moments)[:2] == ["2026-01-04T23:00:00Z", "2026-01-05T00:00:00Z"]


def test_times_read_the_same_in_every_form_a_table_gives():
    expected = _us(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    forms = [
        np.array(["2026-01-05T14:30:00Z"], dtype=object),
        np.array(["2026-01-05T16:30:00+02:00"], dtype=object),
        np.array(["2026-01-05 14:30:00"], dtype=object),
        np.array([np.datetime64("2026-01-05T14:30:00", "ns")]),
        np.array([datetime(2026, 1, 5, 15, 30, tzinfo=UTC) - timedelta(hours=1)], dtype=object),
    ]
    for values in forms:
        assert utc_microseconds(values, "t").tolist() == [expected], values
    mixed = utc_microseconds(np.array(["2026-01-05T14:30:00Z", "2026-01-05", "2026-01-05T15:30+01:00"]), "t")
    assert mixed.tolist() == [expected, _us(datetime(2026, 1, 5, tzinfo=UTC)), expected]


@pytest.mark.parametrize(
    "values, message",
    [
        (np.array(["2026-01-05T14:30:00Z", "yesterday"], dtype=object), "'yesterday' is not a time"),
        (np.array(["2026-01-05T14:30:00Z", None], dtype=object), "1 row.* without a readable time"),
        (np.array([np.datetime64("2026-01-05"), np.datetime64("NaT")]), "without a readable time"),
        (np.array([1_767_225_600, 1_767_225_601]), "holds numbers, not times"),
    ],
)
def test_a_row_without_a_readable_time_is_an_error_naming_the_column(values, message):
    with pytest.raises(UserInputError, match=rf"--timestamp when: .*{message}"):
        utc_microseconds(values, "when")


def test_size_chunks_run_in_row_order_across_batches():
    assigner = ChunkAssigner(ChunkPlan(size=3))
    keys = [assigner.keys(None, rows).tolist() for rows in (4, 5)]
    assert keys == [[0, 0, 0, 1], [1, 1, 2, 2, 2]]
    assert [(c.first_row, c.last_row) for c in assigner.chunks()] == [(1, 3), (4, 6), (7, 9)]


@pytest.mark.parametrize(
    "plan, message",
    [
        ({"period": "1d"}, "--chunk-period needs --timestamp"),
        ({"timestamp": "t", "period": "2d"}, "one of 1h, 1d, 1w"),
        ({"timestamp": "t", "size": 0}, "at least 1"),
        ({"timestamp": "t"}, "one of --chunk-period and --chunk-size"),
    ],
)
def test_plans_that_cannot_cut_are_refused(plan, message):
    with pytest.raises(UserInputError, match=message):
        ChunkPlan(**plan)


def test_more_chunks_than_can_be_read_is_an_error_asking_for_a_longer_period():
    assigner = ChunkAssigner(ChunkPlan("t", "1h"))
    assigner.keys(np.array([0, (MAX_CHUNKS + 5) * 3_600_000_000], dtype=np.int64), 2)
    with pytest.raises(UserInputError, match="choose a longer period"):
        assigner.chunks()


def test_chunk_profiles_are_the_profiles_of_their_rows_and_the_whole_of_all():
    rng = np.random.default_rng(5)
    frame = window(rng, 3000)
    keys = rng.integers(0, 3, 3000)
    builder = GroupedProfileBuilder(SCHEMA)
    for start in range(0, 3000, 700):  # batches across chunks, rows in no order
        builder.add({name: values[start : start + 700] for name, values in frame.items()}, keys[start : start + 700])
    whole, groups = builder.result()
    assert whole.rows == 3000 and sorted(groups) == [0, 1, 2]
    for key, profile in groups.items():
        direct = profile_batch(SCHEMA, {name: values[keys == key] for name, values in frame.items()})
        assert profile.rows == direct.rows
        for name in ("normal", "discrete"):
            ours, theirs = profile.columns[name], direct.columns[name]
            assert ours.valid == theirs.valid and ours.mean == pytest.approx(theirs.mean)  # type: ignore[union-attr]
        assert profile.columns["region"].counts == direct.columns["region"].counts  # type: ignore[union-attr]


def _hourly_chunks(rng: np.random.Generator, hours: int, shifted_from: int | None = None):
    """Stable traffic of a varying rate (a chunk is as large as its hour was busy), shifted in
    every feature by half a standard deviation from hour `shifted_from` on."""
    plan = ChunkPlan("t", "1h")
    assigner, builder = ChunkAssigner(plan), GroupedProfileBuilder(SCHEMA)
    for hour in range(hours):
        rows = int(rng.integers(100, 2000))
        shifted = FEATURES if shifted_from is not None and hour >= shifted_from else ()
        times = _us(START) + hour * 3_600_000_000 + rng.integers(0, 3_600_000_000, rows)
        builder.add(window(rng, rows, shifted), assigner.keys(times, rows))
    _, groups = builder.result()
    return plan, [(chunk, groups.get(chunk.key) or DatasetProfile()) for chunk in assigner.chunks()]


def test_stable_chunks_flag_at_most_the_spec_rate():
    # The per-window control of test_drift_verdicts, over the chunks of one stable current file:
    # the share of chunks in which any feature is flagged stays at the spec's 5%.
    rng = np.random.default_rng(24)
    reference = profile_batch(SCHEMA, counted(window(rng, 20_000)))
    plan, chunks = _hourly_chunks(rng, 160)
    drift = analyze_chunks(SPEC, reference, chunks, plan)
    assert len(drift.results) == 160 and not drift.insufficient
    flagged = sum(bool(result.report.drifted) for result in drift.results)
    assert flagged <= _at_most(RATE, 160), f"{flagged} of 160 stable chunks flagged a feature"
    assert len(drift.drifted) <= _at_most(RATE, 160)
    # Each chunk's own p-values, before the correction across features, hold the rate too: a
    # chunk's profile is a fair sample of its hour, not rows of other hours or a reordered mix.
    raw = [feature.p_value for result in drift.results for feature in result.report.features]
    assert sum(p < RATE for p in raw) <= _at_most(RATE, len(raw))


def test_a_shift_is_found_from_the_chunk_it_starts_in():
    rng = np.random.default_rng(25)
    reference = profile_batch(SCHEMA, counted(window(rng, 20_000)))
    plan, chunks = _hourly_chunks(rng, 24, shifted_from=12)
    drift = analyze_chunks(SPEC, reference, chunks, plan)
    flags = [bool(result.report.dataset_drift) for result in drift.results]
    assert flags == [False] * 12 + [True] * 12
    assert drift.labels[12] == "2026-01-01 12h"


def test_an_hour_without_rows_is_a_chunk_too_short_for_a_verdict_not_a_flag():
    rng = np.random.default_rng(3)
    reference = profile_batch(SCHEMA, counted(window(rng, 5000)))
    plan = ChunkPlan("t", "1h")
    assigner, builder = ChunkAssigner(plan), GroupedProfileBuilder(SCHEMA)
    for hour, rows in ((0, 500), (2, 10), (3, 500)):  # hour 1 silent, hour 2 nearly so
        times = _us(START) + hour * 3_600_000_000 + np.zeros(rows, dtype=np.int64)
        builder.add(window(rng, rows, FEATURES), assigner.keys(times, rows))
    _, groups = builder.result()
    drift = analyze_chunks(
        SPEC, reference, [(c, groups.get(c.key) or DatasetProfile()) for c in assigner.chunks()], plan
    )
    assert [r.report.current_rows for r in drift.results] == [500, 0, 10, 500]
    assert [r.report.dataset_drift for r in drift.results] == [True, None, None, True]
    assert len(drift.insufficient) == 2 and [r["status"] for r in drift.to_list()][1:3] == ["insufficient_data"] * 2


# --- the command ------------------------------------------------------------------------------


def _days(rng: np.random.Generator, days: int, changed_from: int, rows: int = 1500) -> dict[str, np.ndarray]:
    """`days` days of rows in no order, every feature moved half a standard deviation from day
    `changed_from` (counted from 1) on; each time written in a zone of its own (UTC-11 to UTC+12),
    so only a reader that turns them to UTC puts them in the right day."""
    parts, moments = [], []
    for day in range(days):
        parts.append(window(rng, rows, FEATURES if day + 1 >= changed_from else ()))
        seconds = rng.integers(0, 86_400, rows)
        moments += [START + timedelta(days=day, seconds=int(s)) for s in seconds]
    frame = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    zones = rng.integers(-11, 13, len(moments))
    frame["ts"] = np.array(
        [m.astimezone(timezone_of(int(z))).isoformat() for m, z in zip(moments, zones, strict=True)], dtype=object
    )
    order = rng.permutation(len(moments))
    return {name: values[order] for name, values in frame.items()}


def timezone_of(hours: int):
    from datetime import timezone

    return timezone(timedelta(hours=hours))


def _write_csv(path: Path, frame: dict[str, np.ndarray]) -> Path:
    pacsv.write_csv(pa.table(frame), path)
    return path


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("chunks")
    rng = np.random.default_rng(2026)
    reference = _write_csv(folder / "reference.csv", window(rng, 5000))
    current = _write_csv(folder / "current.csv", _days(rng, 10, changed_from=5))
    return reference, current


def _drift(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["drift", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_change_on_day_5_of_10_flags_days_5_to_10_and_not_before(tables, tmp_path, capsys):
    reference, current = tables
    out_json = tmp_path / "drift.json"
    code, out, err = _drift(
        capsys,
        *("--reference", str(reference), "--current", str(current)),
        *("--timestamp", "ts", "--chunk-period", "1d", "--json", str(out_json)),
    )
    assert code == 1, err
    document = json.loads(out_json.read_text())
    chunks = document["chunks"]
    assert len(chunks) == 10 and document["chunking"] == {"timestamp": "ts", "period": "1d", "size": None}
    assert [c["start"][:10] for c in chunks] == [f"2026-01-{day:02d}" for day in range(1, 11)]
    assert [c["dataset_drift"] for c in chunks] == [False] * 4 + [True] * 6
    assert all(c["rows"] == 1500 and len(c["features"]) == len(FEATURES) for c in chunks)
    keys = {"start", "end", "rows", "dataset_drift", "drift_share", "drifted_features", "features", "performance"}
    assert keys <= set(chunks[0]) and "estimated_performance" in chunks[0]
    assert "Chunks: 10 by 1d, 6 drifted, first on 2026-01-05" in out

    # The whole file is judged as without chunks; the time column is no feature.
    whole_json = tmp_path / "whole.json"
    _drift(capsys, "--reference", str(reference), "--current", str(current), "--json", str(whole_json))
    whole = json.loads(whole_json.read_text())
    assert "chunks" not in whole and "ts" not in [f["name"] for f in document["features"]]
    for key in ("dataset_drift", "drift_share", "drifted_features", "current_rows"):
        assert document[key] == whole[key], key
    for ours, theirs in zip(document["features"], [f for f in whole["features"] if f["name"] != "ts"], strict=True):
        assert ours["name"] == theirs["name"] and ours["drifted"] == theirs["drifted"]
        assert ours["statistic"] == pytest.approx(theirs["statistic"], rel=1e-9)


def test_chunk_size_cuts_by_row_order_without_a_time_column(tables, tmp_path, capsys):
    reference, current = tables
    out_json = tmp_path / "drift.json"
    code, out, err = _drift(
        capsys,
        "--reference",
        str(reference),
        "--current",
        str(current),
        "--chunk-size",
        "4000",
        "--json",
        str(out_json),
    )
    assert code in (0, 1), err
    chunks = json.loads(out_json.read_text())["chunks"]
    assert [(c["first_row"], c["last_row"], c["rows"]) for c in chunks] == [
        (1, 4000, 4000),
        (4001, 8000, 4000),
        (8001, 12000, 4000),
        (12001, 15000, 3000),
    ]
    assert chunks[0]["start"] is None and "Chunks: 4 by 4,000 rows" in out


def test_a_parquet_datetime_column_chunks_like_iso_text(tables, tmp_path, capsys):
    reference, current = tables
    table = pacsv.read_csv(current)
    times = utc_microseconds(table.column("ts").to_numpy(zero_copy_only=False), "ts")
    table = table.set_column(table.schema.get_field_index("ts"), "ts", pa.array(times, pa.timestamp("us", "UTC")))
    parquet = tmp_path / "current.parquet"
    pq.write_table(table, parquet)
    out_json = tmp_path / "drift.json"
    code, _, err = _drift(
        capsys,
        *("--reference", str(reference), "--current", str(parquet)),
        *("--timestamp", "ts", "--chunk-period", "1w", "--json", str(out_json)),
    )
    assert code in (0, 1), err
    chunks = json.loads(out_json.read_text())["chunks"]
    # 2026-01-01 (a Thursday) to 2026-01-10: the week from 2025-12-29 and the week from 2026-01-05.
    assert [(c["start"], c["rows"]) for c in chunks] == [("2025-12-29T00:00:00Z", 6000), ("2026-01-05T00:00:00Z", 9000)]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--timestamp", "when", "--chunk-period", "1d"], "no column 'when' for --timestamp"),
        (["--chunk-period", "1d"], "--chunk-period needs --timestamp"),
        (["--timestamp", "ts"], "--timestamp needs --chunk-period or --chunk-size"),
        (
            ["--timestamp", "region", "--chunk-period", "1d"],
            r"--timestamp region: '(north|south|east|west|central)' is not a time",
        ),
        (["--timestamp", "ts", "--chunk-size", "0"], "--chunk-size 0: a number of rows, at least 1"),
    ],
)
def test_bad_chunk_flags_are_one_error_line_and_exit_2(tables, capsys, extra, message):
    reference, current = tables
    code, _, err = _drift(capsys, "--reference", str(reference), "--current", str(current), *extra)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and re.search(message, lines[0]), err


def test_both_chunk_flags_at_once_are_a_usage_error(tables, capsys):
    reference, current = tables
    argv = ["--reference", str(reference), "--current", str(current), "--timestamp", "ts"]
    with pytest.raises(SystemExit) as ended:
        main(["drift", *argv, "--chunk-period", "1d", "--chunk-size", "10"])
    assert ended.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_saved_profile_as_current_has_no_rows_to_cut(tables, tmp_path, capsys):
    reference, _ = tables
    profile = tmp_path / "current.json"
    profile_batch(SCHEMA, window(np.random.default_rng(1), 100)).save(profile)
    code, _, err = _drift(
        capsys, "--reference", str(reference), "--current", str(profile), "--timestamp", "ts", "--chunk-period", "1d"
    )
    assert code == 2 and "a saved profile has no rows to cut into chunks" in err


def test_a_capture_folder_chunks_by_each_records_serving_time(tmp_path, capsys, demo_spec):
    from modelwatch.demo.data import FEATURES as DEMO_FEATURES
    from modelwatch.demo.data import demo_frame
    from modelwatch.serving.capture import capture_record
    from tests.conftest import ROOT

    reference = _write_csv(tmp_path / "reference.csv", demo_frame(2000, 1))
    frame = demo_frame(900, 2)
    folder = tmp_path / "captures" / "capture" / "model_version=v1"
    for hour in range(3):  # 300 predictions an hour, each filed under its hour as the capture function does
        records = [
            capture_record(
                f"r{i}",
                START + timedelta(hours=hour, seconds=i),
                "v1",
                {name: frame[name][i].item() for name in DEMO_FEATURES},
                str(frame["predicted_label"][i]),
                {"1": float(frame["confidence"][i]), "0": 1 - float(frame["confidence"][i])},
            )
            for i in range(hour * 300, hour * 300 + 300)
        ]
        (folder / f"dt=2026-01-01-0{hour}").mkdir(parents=True)
        (folder / f"dt=2026-01-01-0{hour}" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    out_json = tmp_path / "drift.json"
    code, out, err = _drift(
        capsys,
        *("--spec", str(ROOT / "monitoring.toml"), "--reference", str(reference)),
        *("--current", str(tmp_path / "captures"), "--timestamp", "timestamp", "--chunk-period", "1h"),
        *("--json", str(out_json)),
    )
    assert code in (0, 1), err
    chunks = json.loads(out_json.read_text())["chunks"]
    assert [(c["start"], c["rows"]) for c in chunks] == [(f"2026-01-01T0{h}:00:00Z", 300) for h in range(3)]
    assert all(c["estimated_performance"] is not None for c in chunks)  # from the captured probabilities
    assert "Chunks: 3 by 1h" in out


def test_the_report_charts_put_drifted_chunks_above_their_threshold_line():
    # p-values are drawn on an inverted log scale: a drifted chunk's marker sits above the dashed
    # threshold as a distance's does, and its column is the one shaded as drifted.
    import dataclasses

    from modelwatch.drift import analyze
    from modelwatch.report.chunk_charts import chunk_charts

    rng = np.random.default_rng(26)
    reference = profile_batch(SCHEMA, counted(window(rng, 20_000)))
    plan, chunks = _hourly_chunks(rng, 6, shifted_from=3)
    whole = chunks[0][1].merged(*(profile for _, profile in chunks[1:]))
    report = dataclasses.replace(analyze(SPEC, reference, whole), chunks=analyze_chunks(SPEC, reference, chunks, plan))
    charts = {chart.key: chart for chart in chunk_charts(report)}
    assert set(charts) == {"drift_share"} | {f"feature:{name}" for name in FEATURES}
    for chart in charts.values():
        assert [column.state for column in chart.columns] == ["ok"] * 3 + ["drifted"] * 3, chart.key
        threshold_y = float(re.match(r"M[\d.]+,([\d.]+)", chart.guides[0].path).group(1))  # type: ignore[union-attr]
        for marker in chart.series[0].markers:
            assert (marker.y < threshold_y) == marker.flagged, (chart.key, marker.title)
