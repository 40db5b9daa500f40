"""The deployment's request-id key for the API functions: predict signs every id it issues with
it, feedback checks the ids it is given. Read from Secrets Manager once per execution environment
(predict: before its SnapStart snapshot)."""

from functools import cache

from modelwatch.data_access.platform import Platform
from modelwatch.data_access.request_id_key import load_request_id_signer
from modelwatch.serving.request_ids import RequestIdSigner


@cache
def request_id_signer(platform: Platform) -> RequestIdSigner:
    return load_request_id_signer(platform.environment, platform.client("secretsmanager"))
