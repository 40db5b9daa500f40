"""`modelwatch publish`, `promote` and `versions` against moto: in this process (the embedded
stack's own AWS), and through AWS_ENDPOINT_URL to a moto server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from modelwatch.cli.main import main
from modelwatch.demo.data import demo_frame
from modelwatch.registry import stack_outputs
from modelwatch.training.publish import build_model_folder
from tests.conftest import ROOT
from tests.integration.conftest import GOOD


def _folder(stack, version: str, seed: int, path):
    folder = build_model_folder(
        stack.platform.spec, version, demo_frame(1500, seed), demo_frame(500, seed + 1), stack.clock()
    )
    folder.write(path)
    return path


@pytest.fixture
def stack():
    from modelwatch_local.stack import LocalStack

    local = LocalStack(ROOT / "monitoring.toml")
    yield local
    local.stop()


def _versions(where: list[str], capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["versions", *where, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_publish_promote_rollback_and_refusals(stack, tmp_path, capsys):
    settings = stack.platform.settings
    where = [
        "--bucket",
        settings.model_bucket,
        "--pointer-parameter",
        settings.pointer_parameter,
        "--prefix",
        settings.model_prefix,
    ]
    v1, v2 = _folder(stack, "v1", 1, tmp_path / "v1"), _folder(stack, "v2", 3, tmp_path / "v2")
    assert main(["publish", str(v1), *where, "--promote"]) == 0
    assert main(["publish", str(v2), *where]) == 0
    capsys.readouterr()
    assert main(["publish", str(v1), *where]) == 2  # write-once
    assert "write-once" in capsys.readouterr().err
    listed = _versions(where, capsys)
    assert [(v["version"], v["current"], v["task"]) for v in listed] == [
        ("v1", True, "binary"),
        ("v2", False, "binary"),
    ]
    assert set(listed[0]) == {"version", "created_at", "task", "validation_metrics", "current"}
    assert "accuracy" in listed[0]["validation_metrics"]

    assert stack.call("predict", "POST", "/predict", {"features": GOOD}).body["predictions"][0]["model_version"] == "v1"
    assert main(["promote", "v2", *where]) == 0
    # Within the pointer's TTL the function keeps serving v1; after it, v2.
    assert stack.call("predict", "POST", "/predict", {"features": GOOD}).body["predictions"][0]["model_version"] == "v1"
    stack.clock.advance(stack.platform.spec.serving.pointer_ttl_seconds + 1)
    assert stack.call("predict", "POST", "/predict", {"features": GOOD}).body["predictions"][0]["model_version"] == "v2"

    assert main(["promote", "v1", *where]) == 0  # rollback
    assert [v["current"] for v in _versions(where, capsys)] == [True, False]

    # A tampered artifact (written around the conditional-write rule, as moto enforces no policy).
    stack.s3.put_object(
        Bucket=settings.model_bucket, Key=f"{settings.model_prefix}v2/model.onnx", Body=b"not the model"
    )
    capsys.readouterr()
    assert main(["promote", "v2", *where]) == 2
    assert "SHA-256" in capsys.readouterr().err
    # A version that does not fit the spec's task.
    from tests.integration.model_import_fixtures import spec_text

    regression = tmp_path / "regression.toml"
    regression.write_text(spec_text("regression", categorical=True))
    assert main(["promote", "v1", *where, "--spec", str(regression)]) == 2
    assert "binary model" in capsys.readouterr().err
    assert main(["promote", "v9", *where]) == 2


def test_stack_outputs_locate_the_registry(stack, tmp_path, capsys):
    settings = stack.platform.settings
    outputs = {
        stack_outputs.MODEL_BUCKET: settings.model_bucket,
        stack_outputs.MODEL_PREFIX: settings.model_prefix,
        stack_outputs.POINTER_PARAMETER: settings.pointer_parameter,
    }
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    stack.platform.client("cloudformation").create_stack(StackName="ModelWatch", TemplateBody=json.dumps(template))
    assert main(["publish", str(_folder(stack, "v1", 1, tmp_path / "v1")), "--stack", "ModelWatch", "--promote"]) == 0
    assert [(v["version"], v["current"]) for v in _versions(["--stack", "ModelWatch"], capsys)] == [("v1", True)]
    assert main(["versions", "--stack", "Missing"]) == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_commands_reach_a_moto_server_through_aws_endpoint_url(tmp_path):
    import boto3
    from moto.server import ThreadedMotoServer

    from modelwatch.registry.folder import ModelFolder

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        session.client("s3", endpoint_url=endpoint).create_bucket(Bucket="models-bucket")
        from modelwatch.spec import load_spec

        spec = load_spec(ROOT / "monitoring.toml")
        from datetime import UTC, datetime

        folder: ModelFolder = build_model_folder(spec, "v1", demo_frame(1000, 1), demo_frame(300, 2), datetime.now(UTC))
        folder.write(tmp_path / "v1")
        where = ["--bucket", "models-bucket", "--pointer-parameter", "/mw/current-model"]

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "-m", "modelwatch", *args], env=env, capture_output=True, text=True, timeout=120
            )

        assert cli("publish", str(tmp_path / "v1"), *where, "--promote").returncode == 0
        again = cli("publish", str(tmp_path / "v1"), *where)
        assert again.returncode == 2 and "write-once" in again.stderr
        listed = cli("versions", *where, "--json")
        assert [(v["version"], v["current"]) for v in json.loads(listed.stdout)] == [("v1", True)]
        assert (
            session.client("ssm", endpoint_url=endpoint).get_parameter(Name="/mw/current-model")["Parameter"]["Value"]
            == "v1"
        )
    finally:
        server.stop()
