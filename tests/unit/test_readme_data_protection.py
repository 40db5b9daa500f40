"""The README's "Data protection" section says what is stored where, for how long, and how to
turn it off, from the catalogues: every S3 area that holds inputs or labels, with its retention
setting, the input-holding log groups' key, and sensitive features."""

from __future__ import annotations

from modelwatch.catalog.layout import DATA_AREAS
from tests.conftest import ROOT


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Data protection")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_every_area_holding_inputs_is_named_with_its_retention():
    section = _section()
    for area in DATA_AREAS:
        if area.holds_inputs:
            assert f"`{area.prefix}`" in section, area.name
            kept = area.retention_setting or f"{area.retention_days} days"
            assert kept in section, f"{area.name}: {kept}"


def test_sensitive_features_say_what_is_kept_and_how_to_turn_it_off():
    section = _section()
    for words in ("sensitive = true", '"hash"', '"drop"', "HMAC-SHA256", "quarantine", "To turn it off"):
        assert words in section, words
