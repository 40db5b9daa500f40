"""The drift summary's quality line names the features out of range and by how much, worst
first, instead of an average over every feature that hides one badly off."""

from __future__ import annotations

import io

from rich.console import Console

from modelwatch.cli.quality_line import OUT_OF_RANGE_SHOWN, out_of_range_text
from modelwatch.quality import FeatureQuality


def _feature(name: str, out_of_range: int, rows: int = 1000) -> FeatureQuality:
    return FeatureQuality(name, rows, 0, 0, out_of_range, 0, 0.0, allowed="[0, 1]")


def test_each_feature_out_of_range_is_named_with_its_share_worst_first():
    text = out_of_range_text([_feature("age", 20), _feature("income", 0), _feature("tenure", 180)])
    assert text == "tenure 18.00% outside [0, 1], age 2.00% outside [0, 1]"


def test_none_out_of_range_says_none_and_many_are_counted():
    assert out_of_range_text([_feature("age", 0)]) == "none"
    many = [_feature(f"x{i}", i + 1) for i in range(OUT_OF_RANGE_SHOWN + 2)]
    text = out_of_range_text(many)
    assert text.startswith(f"x{OUT_OF_RANGE_SHOWN + 1} ") and text.endswith("and 2 more feature(s)")


def test_the_allowed_range_prints_as_text_not_as_markup():
    console = Console(file=io.StringIO(), width=200)
    console.print(out_of_range_text([_feature("age", 5)]))
    assert "outside [0, 1]" in console.file.getvalue()
