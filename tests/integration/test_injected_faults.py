"""The fault injector the load and fault tests rely on: a refused call must not happen behind
the client's back (moto's handler sees every request), and botocore retries it as AWS's own."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from modelwatch_local.faults import INTERNAL_ERROR, InjectedFaults
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT


@pytest.fixture
def s3():
    stack = LocalStack(ROOT / "monitoring.toml")
    yield stack.s3, stack.platform.settings.data_bucket
    stack.stop()


def test_a_refused_write_is_retried_and_never_stored(s3):
    client, bucket = s3
    faults = InjectedFaults(client, "PutObject", lambda request: INTERNAL_ERROR)
    try:
        with pytest.raises(ClientError, match="InternalError"):
            client.put_object(Bucket=bucket, Key="capture/refused.jsonl", Body=b"{}\n")
    finally:
        faults.remove()
    assert faults.injected == {"InternalError": client.meta.config.retries["total_max_attempts"]}
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="capture/")
    client.put_object(Bucket=bucket, Key="capture/accepted.jsonl", Body=b"{}\n")  # removed: writes again
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["capture/accepted.jsonl"]
