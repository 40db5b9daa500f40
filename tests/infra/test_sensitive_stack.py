"""A spec that hashes a sensitive feature deploys the pseudonym key: a generated secret,
encrypted with the inputs' key, named to predict and drift and readable by them alone; a spec
without one deploys no secret (and names none). cdk-nag passes on both (its SMG4 acknowledged)."""

from __future__ import annotations

import json

from modelwatch.catalog import functions as catalog
from tests.conftest import ROOT
from tests.infra.conftest import synthesize


def _readers(template: dict, secret: str) -> set[str]:
    """Descriptions' function names of every role allowed GetSecretValue on the secret."""
    roles = {
        role["Ref"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if "secretsmanager:GetSecretValue" in s["Action"]
        and {"Ref": secret} in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        for role in r["Properties"]["Roles"]
    }
    return {
        r["Properties"]["Description"].split(":")[0].removeprefix("ModelWatch ")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Role"]["Fn::GetAtt"][0] in roles
    }


def test_the_pseudonym_key_exists_only_for_a_hashing_spec_and_only_its_users_read_it(tmp_path, template):
    text = (
        (ROOT / "monitoring.toml")
        .read_text()
        .replace(
            'categories = ["north", "south", "east", "west"]\n',
            'categories = ["north", "south", "east", "west"]\nsensitive = true\n',
            1,
        )
    )
    spec = tmp_path / "monitoring.toml"
    spec.write_text(text)
    _, hashing, _ = synthesize({"spec": str(spec)})  # with cdk-nag: raises on an unacknowledged finding
    hashing = hashing.to_json()
    (secret,) = [k for k, r in hashing["Resources"].items() if k.startswith("PseudonymKey")]
    key = hashing["Resources"][secret]["Properties"]["KmsKeyId"]["Fn::GetAtt"][0]
    assert "raw inputs" in hashing["Resources"][key]["Properties"]["Description"]  # the inputs' key
    users = {n for n, f in catalog.FUNCTIONS.items() if catalog.PSEUDONYM_SECRET in f.environment}
    assert users == {"predict", "drift"} and _readers(hashing, secret) == users
    named = [
        r["Properties"]["Environment"]["Variables"][catalog.PSEUDONYM_SECRET]
        for r in hashing["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and catalog.PSEUDONYM_SECRET in json.dumps(r["Properties"])
    ]
    assert len(named) == 2 and all(json.dumps(n).count(secret) for n in named)

    assert not [k for k in template["Resources"] if k.startswith("PseudonymKey")]
