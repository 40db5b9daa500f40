"""The deployed functions equal the function catalogue: handler, packaging, memory, timeout,
environment, layer, SnapStart, and exactly the S3 areas and pointer access it declares."""

from __future__ import annotations

import pytest

from modelwatch.catalog.functions import FUNCTIONS, FunctionDefinition
from modelwatch.catalog.layout import DEFAULT_MODEL_PREFIX
from tests.infra.template_queries import function_resource, role_statements


def _function(template: dict, definition: FunctionDefinition) -> tuple[str, dict]:
    return function_resource(template, definition.name)


def _object_prefixes(statements: list[dict], action: str) -> set[str]:
    """The prefixes of <bucket>/<prefix>* resources an action is allowed on."""
    found = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if action not in actions:
            continue
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            parts = resource.get("Fn::Join", ["", []])[1] if isinstance(resource, dict) else [resource]
            tail = parts[-1] if parts and isinstance(parts[-1], str) else ""
            if tail.startswith("/") and tail.endswith("*"):
                found.add(tail[1:-1])
    return found


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_deployed_function_is_its_catalogue_entry(template, name):
    definition = FUNCTIONS[name]
    _, properties = _function(template, definition)
    assert properties["MemorySize"] == definition.memory_mb
    assert properties["Timeout"] == definition.timeout_seconds
    assert set(properties["Environment"]["Variables"]) == set(definition.environment)
    if definition.packaging == "zip":
        assert properties["Handler"] == definition.handler
        layers = [template["Resources"][layer["Ref"]]["Properties"] for layer in properties["Layers"]]
        from modelwatch_infra.functions import layer_description

        # As a set: CDK orders a function's layers itself, and no two layers hold the same file.
        assert {layer["Description"] for layer in layers} == {layer_description(n) for n in definition.layers}
    else:
        assert properties["PackageType"] == "Image" and "Layers" not in properties
    assert ("SnapStart" in properties) == definition.snap_start


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_is_granted_exactly_the_areas_it_declares(template, name):
    definition = FUNCTIONS[name]
    _, properties = _function(template, definition)
    role = properties["Role"]["Fn::GetAtt"][0]
    statements = role_statements(template, role)

    def prefixes(areas) -> set[str]:
        return {DEFAULT_MODEL_PREFIX if a.bucket == "models" else a.prefix for a in areas}

    assert _object_prefixes(statements, "s3:GetObject") == prefixes(definition.reads)
    assert _object_prefixes(statements, "s3:PutObject") == prefixes(definition.writes)
    actions = {
        action
        for s in statements
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        if action.startswith("ssm:")
    }
    assert ("ssm:GetParameter" in actions) == (definition.pointer is not None)
    assert ("ssm:PutParameter" in actions) == (definition.pointer == "write")


def test_no_function_is_deployed_that_the_catalogue_does_not_know(template):
    described = [
        r["Properties"].get("Description", "")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Description", "").startswith("ModelWatch ")
    ]
    assert sorted(d.split(":")[0].removeprefix("ModelWatch ") for d in described) == sorted(FUNCTIONS)
