"""The part of Lambda's API that commands run against a stack use (`modelwatch smoke`,
`redrive-alerts`), served by the local API server for the stack's functions, since moto runs no
function code without Docker: Invoke (RequestResponse), GetFunction and GetPolicy. A client
reaches it with AWS_ENDPOINT_URL_LAMBDA pointing at the server."""

from __future__ import annotations

import json
import re
from typing import Any

from modelwatch.catalog.functions import FUNCTIONS
from modelwatch_local.stack import LocalStack

PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)(?P<rest>/policy|/invocations)?/?$")
Answer = tuple[int, dict[str, str], bytes]


def handles(path: str) -> bool:
    return PATH.match(path.split("?")[0]) is not None


def _not_found(name: str) -> Answer:
    body = {"Type": "User", "Message": f"Function not found: {name}"}
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ResourceNotFoundException"}
    return 404, headers, json.dumps(body).encode()


def answer(stack: LocalStack, method: str, path: str, body: bytes) -> Answer:
    match = PATH.match(path.split("?")[0])
    assert match is not None
    name = match.group("name").rsplit(":", 1)[-1].removeprefix("modelwatch-")
    if name not in FUNCTIONS:
        return _not_found(match.group("name"))
    arn = stack.access.function_arn(name)
    rest = match.group("rest")
    json_headers = {"Content-Type": "application/json"}
    if rest is None and method == "GET":
        configuration = {"FunctionName": f"modelwatch-{name}", "FunctionArn": arn}
        return 200, json_headers, json.dumps({"Configuration": configuration}).encode()
    if rest == "/policy" and method == "GET":
        policy = stack.access.function_policies.get(name)
        if policy is None:
            return _not_found(f"the resource policy of {name}")
        return 200, json_headers, json.dumps({"Policy": json.dumps(policy), "RevisionId": "1"}).encode()
    if rest == "/invocations" and method == "POST":
        event: Any = json.loads(body or b"{}")
        try:
            result = stack.invoke(name, event).result
        except Exception as error:  # a function error: Lambda answers 200 with X-Amz-Function-Error
            payload = {"errorMessage": str(error), "errorType": type(error).__name__}
            return 200, {**json_headers, "X-Amz-Function-Error": "Unhandled"}, json.dumps(payload).encode()
        return 200, json_headers, json.dumps(result, default=str).encode()
    return 404, json_headers, b'{"Message":"not supported locally"}'
