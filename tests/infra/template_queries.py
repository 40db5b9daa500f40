"""Lookups in a synthesized template that several template tests make: a catalogued function's
resource (found by the description the stack gives it) and the policy statements of a role."""

from __future__ import annotations


def function_resource(template: dict, name: str) -> tuple[str, dict]:
    """(logical id, properties) of the catalogue's function `name`."""
    (found,) = [
        (logical, r["Properties"])
        for logical, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Description", "").startswith(f"ModelWatch {name}:")
    ]
    return found


def role_statements(template: dict, role: str) -> list[dict]:
    """Every statement of the inline policies attached to the role with logical id `role`."""
    return [
        statement
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]
