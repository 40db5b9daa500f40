"""`sensitive = true` in the spec: what each feature type allows, refused with the key named;
and the pseudonyms: keyed, stable, and never the value."""

from __future__ import annotations

import tomllib

import pytest

from modelwatch.drift.sensitive import monitored_view
from modelwatch.profiles import DatasetProfile
from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.serving.pseudonyms import Pseudonyms, protected
from modelwatch.spec import SpecError, parse_spec
from tests.conftest import ROOT


def _document(**features: dict) -> dict:
    document = tomllib.loads((ROOT / "monitoring.toml").read_text())
    for name, extra in features.items():
        document["features"][name].update(extra)
    return document


def _problems(document: dict) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(document, "spec.toml")
    return " ".join(caught.value.problems)


def test_a_categorical_feature_is_hashed_by_default_and_a_numeric_one_dropped():
    document = _document(region={"sensitive": True}, income={"sensitive": True})
    document["drift"]["multivariate"] = {"pca_reconstruction": False, "domain_classifier": False}
    spec = parse_spec(document)
    assert spec.sensitive_features == {"income": "drop", "region": "hash"}


def test_hashing_a_number_is_refused_naming_the_key():
    problems = _problems(_document(income={"sensitive": True, "sensitive_action": "hash"}))
    assert "income" in problems and "sensitive_action" in problems and '"drop"' in problems


def test_an_action_without_sensitive_is_refused():
    assert "sensitive_action" in _problems(_document(region={"sensitive_action": "drop"}))


def test_dropping_a_number_while_multivariate_drift_needs_it_is_refused():
    problems = _problems(_document(income={"sensitive": True}))
    assert "features.income.sensitive" in problems and "drift.multivariate" in problems


def test_pseudonyms_are_keyed_stable_and_hide_the_value():
    one, other = Pseudonyms(b"k" * 32), Pseudonyms(b"j" * 32)
    assert one.of("north") == one.of("north") != other.of("north")
    assert "north" not in one.of("north")
    with pytest.raises(ValueError, match="32 bytes"):
        Pseudonyms(b"short")
    record = {"age": 30, "region": "north", "income": 1.5, "category": None}
    kept = protected(record, {"region": "hash", "income": "drop", "category": "hash"}, one)
    assert kept == {"age": 30, "region": one.of("north"), "category": None}


def test_the_drift_check_sees_the_baseline_as_the_captures_do():
    document = _document(region={"sensitive": True}, income={"sensitive": True})
    document["drift"]["multivariate"] = {"pca_reconstruction": False, "domain_classifier": False}
    spec, pseudonyms = parse_spec(document), Pseudonyms(b"k" * 32)
    baseline = DatasetProfile(
        rows=3,
        columns={
            "region": CategoricalColumnProfile(count=3, missing=0, counts={"north": 2, "south": 1}),
            "income": DatasetProfile().columns.get("income"),
        },
    )
    view, seen = monitored_view(spec, baseline, pseudonyms)
    assert "income" not in view.features and "income" not in seen.columns
    assert seen.columns["region"].counts == {pseudonyms.of("north"): 2, pseudonyms.of("south"): 1}
    assert view.features["region"].categories == [pseudonyms.of(c) for c in spec.features["region"].categories]
