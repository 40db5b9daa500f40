"""The key sensitive features are pseudonymised with: a secret of the stack's own in Secrets
Manager (generated at deploy time, readable only by the functions that hash: predict, which
writes captures, and drift, which pseudonymises the baseline to compare)."""

from __future__ import annotations

from typing import Any

from modelwatch.catalog import functions as catalog
from modelwatch.data_access.settings import SettingsError
from modelwatch.serving.pseudonyms import Pseudonyms
from modelwatch.spec.models import MonitoringSpec


def load_pseudonyms(spec: MonitoringSpec, environment: Any, secrets_manager: Any) -> Pseudonyms | None:
    """The pseudonyms of this deployment; None when no feature is hashed (no call is made)."""
    if "hash" not in spec.sensitive_features.values():
        return None
    name = environment.get(catalog.PSEUDONYM_SECRET, "")
    if not name:
        raise SettingsError(f"{catalog.PSEUDONYM_SECRET}: the spec hashes sensitive features but names no secret")
    return Pseudonyms(secrets_manager.get_secret_value(SecretId=name)["SecretString"].encode("utf-8"))
