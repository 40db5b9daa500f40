"""The key request ids are signed with: a secret of the stack's own in Secrets Manager (generated
at deploy time, never shown), readable only by the functions that issue ids (predict) and check
them (feedback)."""

from __future__ import annotations

from typing import Any

from modelwatch.catalog import functions as catalog
from modelwatch.data_access.settings import SettingsError
from modelwatch.serving.request_ids import RequestIdSigner


def load_request_id_signer(environment: Any, secrets_manager: Any) -> RequestIdSigner:
    name = environment.get(catalog.REQUEST_ID_SECRET, "")
    if not name:
        raise SettingsError(f"{catalog.REQUEST_ID_SECRET}: no secret is named to sign request ids with")
    return RequestIdSigner(secrets_manager.get_secret_value(SecretId=name)["SecretString"].encode("utf-8"))
