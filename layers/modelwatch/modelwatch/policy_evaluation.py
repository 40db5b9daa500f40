"""AWS's policy evaluation, for the requests ModelWatch's resources make of each other: the
delivery-graph check of a synthesized template, the local runtime's enforcement, and
`modelwatch smoke` on a deployed stack's live policies all judge with it. Pure: policies in,
a decision with AWS's reason out.

What is followed, from the IAM User Guide's "Policy evaluation logic" and the services' own pages:

- An explicit Deny in any policy that applies ends the evaluation: the request is refused.
- Within one account, a request by a role is allowed when its identity policies or the
  resource's policy allow it. A service principal (cloudwatch.amazonaws.com publishing an alarm,
  sns.amazonaws.com delivering to a queue) has no identity policy: the resource's policy must
  name it.
- A KMS key is different ("Key policies in AWS KMS"): nothing reaches a key that its key policy
  does not allow. A key policy that allows the account (arn:aws:iam::ACCOUNT:root) hands the
  decision to IAM, and then the role's identity policy must allow the action too.
- An SNS topic without a topic policy has SNS's default one, which lets principals of the
  owning account (AWS:SourceOwner) publish; a topic policy replaces it.
- Principals: "*" and {"AWS": "*"} match anyone, {"Service": name} that service, an account's
  root ARN that account's principals (through IAM, as above), a role's ARN that role.
- Condition operators StringEquals, StringNotEquals, StringLike, StringNotLike, ArnEquals,
  ArnLike, ArnNotEquals, ArnNotLike, Bool and Null, each with ...IfExists, and the
  ForAnyValue:/ForAllValues: prefixes are refused rather than guessed at. Keys are matched
  case-insensitively, as AWS matches them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Policy = Mapping[str, Any]  # a policy document: {"Statement": [...]}
ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True)
class Principal:
    """Who asks: a service (cloudwatch.amazonaws.com) or a role (its ARN), of `account`."""

    kind: str  # "service" | "role"
    name: str
    account: str = ACCOUNT

    @classmethod
    def service(cls, name: str, account: str = ACCOUNT) -> Principal:
        return cls("service", name, account)

    @classmethod
    def role(cls, arn: str) -> Principal:
        return cls("role", arn, arn.split(":")[4] or ACCOUNT)


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str
    # Condition keys (lower-cased on use): aws:SourceArn, aws:SourceAccount, aws:SecureTransport...
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's * and ? wildcards (no character classes, unlike fnmatch's)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags | re.DOTALL) is not None


def _action_matches(patterns: Any, action: str) -> bool:
    # Action names are case-insensitive in IAM ("sns:publish" is "SNS:Publish").
    return any(_wildcard(p, action, case_sensitive=False) for p in _listed(patterns))


def _resource_matches(patterns: Any, resource: str) -> bool:
    return any(_wildcard(p, resource) for p in _listed(patterns))


def _principal_matches(spec: Any, principal: Principal, *, root_delegates: bool) -> bool:
    """Whether a statement's Principal names `principal`. With root_delegates, an account's root
    ARN matches that account's roles (the key-policy delegation to IAM; the caller then needs
    the identity policy as well)."""
    if spec == "*":
        return True
    if not isinstance(spec, Mapping):
        raise ValueError(f"unsupported Principal {spec!r}")
    for kind, values in spec.items():
        for value in _listed(values):
            if kind == "AWS" and value == "*":
                return True
            if kind == "Service" and principal.kind == "service" and value == principal.name:
                return True
            if kind == "AWS" and principal.kind == "role":
                if value == principal.name:
                    return True
                if root_delegates and value in (f"arn:aws:iam::{principal.account}:root", principal.account):
                    return True
    return False


def _names_root(spec: Any, account: str) -> bool:
    if not isinstance(spec, Mapping):
        return False
    return any(v in (f"arn:aws:iam::{account}:root", account) for v in _listed(spec.get("AWS", [])))


_OPERATORS = {
    "StringEquals": lambda expected, actual: str(actual) == str(expected),
    "StringLike": lambda expected, actual: _wildcard(str(expected), str(actual)),
    "ArnEquals": lambda expected, actual: str(actual) == str(expected),
    "ArnLike": lambda expected, actual: _wildcard(str(expected), str(actual)),
    "Bool": lambda expected, actual: str(actual).lower() == str(expected).lower(),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    if ":" in operator and operator.split(":")[0] in ("ForAnyValue", "ForAllValues"):
        raise ValueError(f"condition operator {operator} is not evaluated locally")
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    present = key in context
    if base == "Null":
        return str(expected).lower() == ("false" if present else "true")
    if not present:
        # A missing key: IfExists passes; a negated operator passes (nothing to match); any
        # other operator fails.
        return if_exists or base in _NEGATED
    actual = context[key]
    if base in _NEGATED:
        return not any(_OPERATORS[_NEGATED[base]](e, actual) for e in _listed(expected))
    if base not in _OPERATORS:
        raise ValueError(f"condition operator {operator} is not evaluated locally")
    return any(_OPERATORS[base](e, actual) for e in _listed(expected))


def _conditions_hold(conditions: Mapping[str, Any] | None, context: Mapping[str, Any]) -> bool:
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, tests in (conditions or {}).items():
        for key, expected in tests.items():
            if not _condition_holds(operator, key.lower(), expected, lowered):
                return False
    return True


def _statements(policy: Policy | None) -> list[Mapping[str, Any]]:
    return [] if policy is None else _listed(policy.get("Statement", []))


def _applies(statement: Mapping[str, Any], request: Request, *, resource_policy: bool, root_delegates: bool) -> bool:
    if "NotAction" in statement or "NotResource" in statement or "NotPrincipal" in statement:
        raise ValueError("NotAction, NotResource and NotPrincipal are not evaluated locally")
    if not _action_matches(statement.get("Action", []), request.action):
        return False
    # A key policy's "*" resource is the key itself; other resource policies name their resource.
    if not _resource_matches(statement.get("Resource", "*"), request.resource):
        return False
    if resource_policy and not _principal_matches(
        statement.get("Principal"), request.principal, root_delegates=root_delegates
    ):
        return False
    return _conditions_hold(statement.get("Condition"), request.context)


def _matching(policies: Iterable[Policy | None], request: Request, **kind: bool) -> list[Mapping[str, Any]]:
    return [s for p in policies for s in _statements(p) if _applies(s, request, **kind)]


def _sid(statement: Mapping[str, Any]) -> str:
    return f" ({statement['Sid']})" if "Sid" in statement else ""


def _explicit_deny(
    resource_policy: Policy | None, identity: Sequence[Policy], request: Request, name: str
) -> Decision | None:
    """An explicit Deny in the resource's policy or the principal's own ends the evaluation."""
    matching = _matching([resource_policy], request, resource_policy=True, root_delegates=True)
    matching += _matching(identity, request, resource_policy=False, root_delegates=False)
    for statement in matching:
        if statement.get("Effect") == "Deny":
            return Decision(False, f"an explicit Deny{_sid(statement)} refuses {request.action} on {name}")
    return None


def _allows(policies: Sequence[Policy | None], request: Request, *, resource_policy: bool) -> bool:
    """An Allow that names this principal directly (not through the account's root)."""
    return any(
        s.get("Effect") == "Allow"
        for s in _matching(policies, request, resource_policy=resource_policy, root_delegates=False)
    )


def evaluate(
    request: Request,
    *,
    identity: Sequence[Policy] = (),
    resource_policy: Policy | None = None,
    resource_name: str = "the resource",
) -> Decision:
    """A request to a resource that may carry a resource-based policy (a topic, a queue, a
    function, a bucket); `identity` is the principal's own policies (a role's)."""
    if request.principal.kind == "service" and identity:
        raise ValueError("a service principal has no identity policy")
    denied = _explicit_deny(resource_policy, identity, request, resource_name)
    if denied is not None:
        return denied
    if _allows([resource_policy], request, resource_policy=True):
        return Decision(True, f"{resource_name}'s policy allows {request.action}")
    if _allows(identity, request, resource_policy=False):
        return Decision(True, f"the role's policy allows {request.action}")
    who = request.principal.name
    where = "no resource-based policy" if request.principal.kind == "service" else "no identity or resource policy"
    return Decision(False, f"{who} is not authorized to perform {request.action} on {resource_name}: {where} allows it")


def evaluate_key(
    request: Request, *, key_policy: Policy, identity: Sequence[Policy] = (), key_name: str = "the key"
) -> Decision:
    """A request to use a KMS key: the key policy decides, delegating to IAM only where it
    allows the account itself."""
    denied = _explicit_deny(key_policy, identity, request, key_name)
    if denied is not None:
        return denied
    if _allows([key_policy], request, resource_policy=True):
        return Decision(True, f"{key_name}'s key policy allows {request.action}")
    if request.principal.kind == "role":
        delegates = any(
            s.get("Effect") == "Allow" and _names_root(s.get("Principal"), request.principal.account)
            for s in _matching([key_policy], request, resource_policy=True, root_delegates=True)
        )
        granted = _allows(identity, request, resource_policy=False)
        if delegates and granted:
            return Decision(
                True, f"{key_name}'s key policy delegates to IAM and the role's policy allows {request.action}"
            )
        if delegates:
            return Decision(False, f"the role's policy does not allow {request.action} on {key_name}")
    return Decision(
        False,
        f"{request.principal.name} is not authorized to perform {request.action} on {key_name}: "
        "the key policy does not allow it",
    )


def default_topic_policy(topic_arn: str, account: str = ACCOUNT) -> dict[str, Any]:
    """SNS's default topic policy: the owning account's principals may use the topic."""
    return {
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["SNS:Publish", "SNS:Subscribe", "SNS:GetTopicAttributes", "SNS:Receive"],
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ]
    }


def service_context(source_arn: str, account: str = ACCOUNT) -> dict[str, Any]:
    """What a service sends with a request on an account's behalf: the resource it acts for, the
    account, and TLS (every service-to-service delivery is over HTTPS)."""
    return {
        "aws:SourceArn": source_arn,
        "aws:SourceAccount": account,
        "AWS:SourceOwner": account,
        "aws:SecureTransport": "true",
    }


# What sending to an SSE-KMS queue or publishing to an SSE-KMS topic does with the key.
ENCRYPT_WITH_KEY = ("kms:GenerateDataKey", "kms:Decrypt")


def key_use(
    principal: Principal,
    key: str,
    key_policy: Policy,
    context: Mapping[str, Any],
    identity: Sequence[Policy] = (),
    key_name: str = "the key",
) -> Decision:
    """Whether `principal` may encrypt with `key` for a queue or topic (both actions), and why not."""
    decision = Decision(True, f"{key_name}'s key policy allows it")
    for action in ENCRYPT_WITH_KEY:
        decision = evaluate_key(
            Request(principal, action, key, context), key_policy=key_policy, identity=identity, key_name=key_name
        )
        if not decision:
            return decision
    return decision


def alarm_publish_decision(
    alarm_arn: str, topic_arn: str, topic_policy: Policy | None, key_policy: Policy | None = None, key: str = ""
) -> Decision:
    """Whether CloudWatch may publish this alarm's notice to the topic: the topic's policy (SNS's
    default when it has none), then, for a topic encrypted with a customer managed key, that
    key's policy."""
    policy = topic_policy if topic_policy is not None else default_topic_policy(topic_arn)
    request = Request(
        Principal.service("cloudwatch.amazonaws.com"), "sns:Publish", topic_arn, service_context(alarm_arn)
    )
    name = f"topic {topic_arn.rsplit(':', 1)[-1]}"
    return encrypted_delivery(request, policy, (), key, key_policy, name)


def encrypted_delivery(
    request: Request,
    resource_policy: Policy | None,
    identity: Sequence[Policy],
    key: str,
    key_policy: Policy | None,
    resource_name: str,
) -> Decision:
    """A send to a destination that may be encrypted with a customer managed key (a topic, a
    queue): the destination's policy and the sender's, then the key's (`key_policy` None: not
    encrypted, or with an AWS managed key)."""
    decision = evaluate(request, identity=identity, resource_policy=resource_policy, resource_name=resource_name)
    if not decision or key_policy is None:
        return decision
    decision = key_use(request.principal, key, key_policy, request.context, identity, f"the key of {resource_name}")
    if not decision:
        return decision
    return Decision(True, f"{resource_name} and its key allow {request.action} and encrypting with the key")
