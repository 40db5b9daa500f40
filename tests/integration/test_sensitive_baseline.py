"""A baseline holds no raw value of a sensitive feature: a dropped one is not in it (nor in the
row sample), a hashed one names only the categories the spec lists, any other value counted as
one, and the drift check counts a window's other pseudonyms the same way."""

from __future__ import annotations

import numpy as np

from modelwatch.drift.sensitive import monitored_current, monitored_view
from modelwatch.profiles import OTHER, DatasetProfile, ProfileBuilder, ProfileSchema
from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.profiles.protected import protected_baseline
from modelwatch.serving.pseudonyms import Pseudonyms
from modelwatch.spec import load_spec
from modelwatch_local.stack import LocalStack
from tests.integration.test_sensitive_features import _sensitive_spec

DECLARED = {"north", "south", "east", "west"}


def test_the_published_baseline_holds_no_sensitive_raw_value(tmp_path):
    stack = LocalStack(_sensitive_spec(tmp_path))
    try:
        stack.publish_demo_model("v1")
        registry = stack.registry
        baseline = registry.baseline(registry.manifest("v1"))
        assert baseline is not None
        profile = DatasetProfile.from_json(baseline)
        assert "income" not in profile.columns and profile.multivariate is None
        assert all("income" not in chunk.columns for chunk in profile.chunks)
        region = profile.columns["region"]
        assert isinstance(region, CategoricalColumnProfile) and set(region.counts) <= DECLARED | {OTHER}
        assert b'"income"' not in baseline
    finally:
        stack.stop()


def test_undeclared_values_are_one_category_on_both_sides(tmp_path):
    spec = load_spec(_sensitive_spec(tmp_path))
    rng = np.random.default_rng(3)
    regions = rng.choice(["north", "south", "Rue de la Paix 12", "Baker Street 221b"], 400)
    columns = {name: rng.normal(50, 10, 400) for name in spec.numeric_features}
    columns |= {name: rng.choice(["a", "b"], 400) for name in spec.categorical_features}
    columns["region"] = regions
    builder = ProfileBuilder(ProfileSchema.from_spec(spec), chunk_rows=100)
    builder.add(columns)
    baseline = protected_baseline(spec, builder.result())
    text = baseline.to_json().decode()
    assert "Rue de la Paix" not in text and "Baker Street" not in text
    undeclared = int(np.isin(regions, ["Rue de la Paix 12", "Baker Street 221b"]).sum())
    assert baseline.columns["region"].counts[OTHER] == undeclared

    pseudonyms = Pseudonyms(b"k" * 32)
    monitored, pseudonymised = monitored_view(spec, baseline, pseudonyms)
    window = DatasetProfile(
        rows=400, columns={"region": CategoricalColumnProfile.from_values([pseudonyms.of(r) for r in regions], 0)}
    )
    counted = monitored_current(monitored, window).columns["region"].counts
    assert counted == pseudonymised.columns["region"].counts  # the same rows, counted alike
