"""A segment's table (modelwatch.profiles.segment_table): each value's row of counts over the
baseline's bins merges by sums, stores and reads back unchanged, and rebuilds a profile whose
moments, counts and quality figures are the full profile's, and whose rank statistic never
exceeds the exact one (both sides stand at the same points)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from modelwatch.profiles import ProfileSchema
from modelwatch.profiles.builder import ProfileBuilder
from modelwatch.profiles.segment_binning import bins_of, table_of, value_profile
from modelwatch.profiles.segment_table import SegmentBins, SegmentTable
from modelwatch.quality import assess_quality
from modelwatch.spec import parse_spec
from modelwatch.stats.numeric import kolmogorov_smirnov

SPEC = parse_spec(
    {
        "model": {"name": "table"},
        "features": {
            "income": {"type": "numeric"},
            "age": {"type": "numeric"},
            "rating": {"type": "numeric"},
            "plan": {"type": "categorical"},
        },
        "drift": {"multivariate": {"pca_reconstruction": False, "domain_classifier": False}},
    }
)


def _rows(rng: np.random.Generator, n: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    income = rng.lognormal(10 + shift, 0.6, size=n)
    income[rng.random(n) < 0.03] = np.nan
    return {
        "income": income,
        "age": rng.integers(18, 90, size=n).astype(np.float64),
        "rating": rng.integers(1, 6, size=n).astype(np.float64),  # five values: binned one per value
        "plan": np.array(["basic", "plus", "pro", "max"], dtype=object)[
            rng.choice(4, size=n, p=[0.5, 0.3, 0.15, 0.05])
        ],
    }


def _profile(rows: dict[str, np.ndarray]):
    builder = ProfileBuilder(ProfileSchema.from_spec(SPEC))
    builder.add(rows)
    return builder.result()


@pytest.fixture(scope="module")
def baseline():
    return _profile(_rows(np.random.default_rng(1), 50_000))


@pytest.fixture(scope="module")
def bins(baseline) -> SegmentBins:
    return bins_of(baseline)


def test_merging_tables_sums_what_profiling_all_rows_at_once_counts(bins):
    rng = np.random.default_rng(2)
    parts = [_rows(rng, n) for n in (300, 500, 700)]  # 1,500 rows: the whole's sketch stays exact
    tables = [table_of(bins, {"a": _profile(part), f"only-{i}": _profile(part)}) for i, part in enumerate(parts)]
    merged = tables[0].merged(*tables[1:])
    whole = table_of(bins, {"a": _profile({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})})
    assert merged.keys == ["a", "only-0", "only-1", "only-2"]
    np.testing.assert_allclose(merged.counts[0], whole.counts[0], rtol=1e-9, atol=1e-6)
    assert [merged.rows_of(key) for key in merged.keys] == [1500, 300, 500, 700]


def test_a_table_reads_back_as_it_was_written(bins):
    table = table_of(
        bins, {"a": _profile(_rows(np.random.default_rng(3), 900)), "": _profile(_rows(np.random.default_rng(4), 90))}
    )
    again = SegmentTable.from_dict(table.to_dict())
    assert again.bins == table.bins and again.keys == table.keys
    np.testing.assert_array_equal(again.counts, table.counts)


def test_a_rebuilt_profile_keeps_the_moments_counts_and_small_values(bins):
    rows = _rows(np.random.default_rng(5), 3000)
    full = _profile(rows)
    rebuilt = value_profile(table_of(bins, {"a": full}), "a")
    assert rebuilt.rows == full.rows
    for name in ("income", "age", "rating"):
        exact, binned = full.columns[name], rebuilt.columns[name]
        assert (binned.count, binned.missing, binned.type_errors) == (exact.count, exact.missing, exact.type_errors)
        assert binned.mean == pytest.approx(exact.mean, rel=1e-9)
        assert binned.std == pytest.approx(exact.std, rel=1e-6)
        assert (binned.minimum, binned.maximum) == (exact.minimum, exact.maximum)
        assert binned.sketch.n == exact.valid
    assert rebuilt.columns["rating"].small_values == full.columns["rating"].small_values
    assert rebuilt.columns["plan"].counts == full.columns["plan"].counts


@pytest.mark.parametrize("shift", [0.0, 0.05, 0.3])
def test_the_rank_statistic_on_binned_sides_never_exceeds_the_exact_one(bins, shift):
    """Both sides' bins stand at the baseline's positions: their step CDFs jump together, so KS
    reads the bins' share differences, at most the exact statistic (a conservative test)."""
    rng = np.random.default_rng(6)
    reference, current = _profile(_rows(rng, 4000)), _profile(_rows(rng, 20_000, shift))
    table = table_of(bins, {"ref": reference, "cur": current})
    for name in ("income", "age"):
        binned = kolmogorov_smirnov(
            value_profile(table, "ref").columns[name], value_profile(table, "cur").columns[name]
        )
        exact = stats.ks_2samp(
            *(
                p.columns[name].weighted_values()[0].repeat(p.columns[name].weighted_values()[1].astype(int))
                for p in (reference, current)
            )
        )
        assert binned.statistic <= exact.statistic + 1e-12
        if shift >= 0.3 and name == "income":
            assert binned.statistic >= 0.9 * exact.statistic  # a shift is read nearly whole


def test_values_beyond_the_baselines_range_stay_out_of_range_for_the_quality_check(bins, baseline):
    """The guard bins hold what the baseline never reached, at its own mean: the quality check
    counts them out of range as on the full profile (here against the baseline's own range)."""
    rows = _rows(np.random.default_rng(7), 2000)
    rows["age"][:50] = 130.0  # the baseline's ages stop at 89
    rows["age"][50:70] = 5.0
    rows["income"][:7] = 1e7
    full = _profile(rows)
    reference = baseline
    rebuilt = value_profile(table_of(bins, {"a": full}), "a")
    exact = {f.name: f.out_of_range for f in assess_quality(SPEC, reference, full).features}
    binned = {f.name: f.out_of_range for f in assess_quality(SPEC, reference, rebuilt).features}
    assert binned == exact and exact["age"] == 70 and exact["income"] == 7


def test_categories_beyond_the_slots_are_counted_together(bins):
    rows = _rows(np.random.default_rng(9), 500)
    rows["plan"][:40] = "enterprise"  # never in the baseline
    rebuilt = value_profile(table_of(bins, {"a": _profile(rows)}), "a")
    assert rebuilt.columns["plan"].counts["__other__"] == 40
    assert sum(rebuilt.columns["plan"].counts.values()) == 500


def test_tables_on_other_bins_are_not_summed_the_larger_are_kept(bins):
    other_bins = bins_of(_profile(_rows(np.random.default_rng(10), 5000, shift=1.0)))
    assert other_bins != bins
    big = table_of(bins, {"a": _profile(_rows(np.random.default_rng(11), 3000))})
    small = table_of(other_bins, {"a": _profile(_rows(np.random.default_rng(12), 100))})
    merged = small.merged(big)
    assert merged.bins == bins and merged.rows_of("a") == 3000


def test_values_regroup_into_other_with_their_extremes(bins):
    profiles = {key: _profile(_rows(np.random.default_rng(13 + i), 200 * (i + 1))) for i, key in enumerate("abc")}
    table = table_of(bins, profiles)
    folded = table.regrouped(["a", "", ""])
    assert folded.keys == ["a", ""] and folded.rows_of("") == 400 + 600
    rebuilt = value_profile(folded, "")
    assert rebuilt.columns["income"].maximum == max(profiles[k].columns["income"].maximum for k in "bc")
    assert rebuilt.columns["age"].minimum == min(profiles[k].columns["age"].minimum for k in "bc")


def test_estimated_performance_from_binned_scores_is_the_full_histograms_within_half_a_point():
    """CBPE reads a value's score histograms: 40 bins in log-odds, each at its mean grid point,
    give the expected accuracy and ROC AUC of the full histograms within 0.005."""
    from modelwatch.cbpe import binary_score_histograms, estimate, fit_calibration

    spec = parse_spec(
        {
            "model": {"name": "scores"},
            "columns": {"target": "label", "prediction": "predicted", "score": "probability"},
            "features": {"x": {"type": "numeric"}},
            "drift": {"multivariate": {"pca_reconstruction": False, "domain_classifier": False}},
        }
    )
    schema = ProfileSchema.from_spec(spec)
    rng = np.random.default_rng(14)

    def scored(n: int, labelled: bool) -> dict[str, np.ndarray]:
        x = rng.normal(size=n)
        probability = 1 / (1 + np.exp(-(1.5 * x + rng.normal(scale=0.5, size=n))))
        rows = {"x": x, "probability": probability, "predicted": np.where(probability >= 0.5, "1", "0").astype(object)}
        if labelled:
            rows["label"] = np.where(rng.random(n) < probability, "1", "0").astype(object)
        return rows

    def profiled(rows: dict[str, np.ndarray]):
        builder = ProfileBuilder(schema)
        builder.add(rows)
        return builder.result()

    reference, current = profiled(scored(20_000, True)), profiled(scored(5000, False))
    calibration = fit_calibration(reference.performance)
    bins = bins_of(reference)
    rebuilt = value_profile(table_of(bins, {"a": current}), "a")
    full = estimate(calibration, *binary_score_histograms(current, "1"))
    binned = estimate(calibration, *binary_score_histograms(rebuilt, "1"))
    for metric in ("accuracy", "roc_auc"):
        assert binned[metric] == pytest.approx(full[metric], abs=0.005), metric


def test_a_profile_stored_with_a_profile_per_segment_value_reads_without_those_segments(bins):
    """Segments stored before tables (each value a profile of its own, no bins) cannot merge with
    tables counted over a baseline's bins: the profile reads, without them."""
    from modelwatch.profiles import DatasetProfile

    profile = _profile(_rows(np.random.default_rng(15), 300))
    document = profile.to_dict() | {"segments": {"by_region": {"eu": profile.to_dict(), "": profile.to_dict()}}}
    read = DatasetProfile.from_dict(document)
    assert read.rows == 300 and read.segments == {}
