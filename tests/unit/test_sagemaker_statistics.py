"""statistics.json -> a baseline profile: the pipeline example's imported baseline is the CSV it
was computed from; missing sketches and foreign files are said, not guessed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from modelwatch.importing.sagemaker.documents import NotModelMonitorFileError
from modelwatch.importing.sagemaker.statistics import import_statistics
from modelwatch.profiles import CategoricalColumnProfile, DatasetProfile, NumericColumnProfile
from tests.sagemaker_examples import MONITOR_STATISTICS, PIPELINE_DATASET, PIPELINE_STATISTICS, SAGEMAKER


def test_the_pipeline_baseline_equals_the_csv_it_was_computed_from() -> None:
    data = np.loadtxt(PIPELINE_DATASET, delimiter=",")
    imported = import_statistics(PIPELINE_STATISTICS)
    assert imported.unmapped == [] and imported.notes == {}
    assert imported.profile.rows == len(data)
    assert list(imported.profile.columns) == [f"_c{i}" for i in range(data.shape[1])]
    for index, column in enumerate(imported.profile.columns.values()):
        values = data[:, index]
        assert isinstance(column, NumericColumnProfile)
        assert column.count == column.valid == len(values)
        assert column.mean == pytest.approx(values.mean(), rel=1e-15)
        assert column.minimum == values.min() and column.maximum == values.max()
        # Model Monitor's std_dev is the population one, as ModelWatch's.
        assert column.std == pytest.approx(values.std(), rel=1e-12)
        # One level of 100 items: the sketch is the column itself, so every rank is exact.
        points = np.unique(values)
        exact = np.array([np.mean(values <= p) for p in points])
        assert np.abs(column.cdf(points) - exact).max() <= 1e-12
        assert column.quantiles(np.array([0.25, 0.5, 0.75])).tolist() == pytest.approx(
            np.quantile(values, [0.25, 0.5, 0.75], method="inverted_cdf").tolist()
        )
        assert column.small_values == {float(v): int(np.sum(values == v)) for v in points}


def test_the_imported_baseline_survives_its_json(tmp_path: Path) -> None:
    imported = import_statistics(PIPELINE_STATISTICS)
    (tmp_path / "baseline.json").write_bytes(imported.to_json(PIPELINE_STATISTICS.name))
    loaded = DatasetProfile.load(tmp_path / "baseline.json")
    assert loaded.to_dict() == imported.profile.to_dict()
    assert json.loads((tmp_path / "baseline.json").read_text())["sagemaker_import"]["notes"] == {}


def test_string_features_come_from_their_bucket_counts() -> None:
    imported = import_statistics(MONITOR_STATISTICS)
    column = imported.profile.columns["message"]
    assert isinstance(column, CategoricalColumnProfile)
    assert column.counts == {"preproc-not-YET-supported-for-csv-json": 418}
    assert column.count == 418 and column.missing == 0


def _without_sketch(tmp_path: Path, keep_buckets: bool) -> Path:
    document = json.loads(PIPELINE_STATISTICS.read_text())
    for feature in document["features"]:
        kll = feature["numerical_statistics"]["distribution"]["kll"]
        del kll["sketch"]
        if not keep_buckets:
            del kll["buckets"]
    path = tmp_path / "statistics.json"
    path.write_text(json.dumps(document))
    return path


def test_a_missing_sketch_is_imported_from_the_buckets_and_the_json_says_so(tmp_path: Path) -> None:
    data = np.loadtxt(PIPELINE_DATASET, delimiter=",")
    imported = import_statistics(_without_sketch(tmp_path, keep_buckets=True))
    assert set(imported.notes) == {f"_c{i}" for i in range(6)}
    assert all("no KLL sketch" in note for note in imported.notes.values())
    column = imported.profile.columns["_c0"]
    assert isinstance(column, NumericColumnProfile)
    # Count, mean, min and max come from the file whatever the sketch; quantiles from the buckets
    # are within a bucket of the data's.
    assert column.valid == 100 and column.mean == pytest.approx(data[:, 0].mean())
    assert column.sketch.n == 100
    width = (data[:, 0].max() - data[:, 0].min()) / 10
    assert abs(column.quantiles(np.array([0.5]))[0] - np.median(data[:, 0])) <= width
    written = json.loads(imported.to_json("statistics.json"))
    assert written["sagemaker_import"]["notes"]["_c0"].startswith("no KLL sketch")


def test_without_sketch_or_buckets_the_feature_keeps_its_moments_and_says_it_has_no_quantiles(
    tmp_path: Path,
) -> None:
    imported = import_statistics(_without_sketch(tmp_path, keep_buckets=False))
    column = imported.profile.columns["_c2"]
    assert isinstance(column, NumericColumnProfile)
    assert column.mean == pytest.approx(3.21) and column.maximum == 6.0
    assert "no quantiles" in imported.notes["_c2"]


@pytest.mark.parametrize(
    "path",
    [
        SAGEMAKER / "data_quality" / "sdk_pipeline_dq_baseline_dataset.csv",
        SAGEMAKER / "model_quality" / "sdk_pipeline_mq_regression_statistics.json",
        SAGEMAKER / "data_quality" / "sdk_monitor_constraint_violations.json",
    ],
    ids=["csv", "model-quality", "violations"],
)
def test_a_file_that_is_not_model_monitor_statistics_is_refused(path: Path) -> None:
    with pytest.raises(NotModelMonitorFileError, match=r"not Model Monitor's statistics\.json"):
        import_statistics(path)
