"""The API's OpenAPI 3 document, generated from the functions' own Powertools apps and models.

`python -m modelwatch_local.openapi [--out docs/openapi.json]`; a test keeps the committed file
equal to what the code generates.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from modelwatch import __version__
from modelwatch.catalog.functions import API_ROUTES, SPEC_NAME
from modelwatch.data_access.platform import Platform, install_platform
from modelwatch_local.lambda_runtime import load_handler
from modelwatch_local.stack import local_environment

DOCUMENT = Path("docs") / "openapi.json"  # in the checkout the command runs from


def generate() -> dict[str, Any]:
    document: dict[str, Any] = {}
    for definition in API_ROUTES.values():
        load_handler(definition.name)
        app = importlib.import_module(definition.handler.rsplit(".", 1)[0]).app
        schema = json.loads(app.get_openapi_json_schema(title="ModelWatch API", version=__version__))
        if not document:
            document = schema
            continue
        document["paths"].update(schema["paths"])
        document["components"]["schemas"].update(schema["components"]["schemas"])
    document["info"]["description"] = (
        "Predictions and delayed feedback for a model monitored by ModelWatch. Served by AWS Lambda "
        "behind an API Gateway HTTP API; every error is JSON naming each field and the rule it broke."
    )
    return document


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True) + "\n"


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCUMENT)
    parser.add_argument("--spec", type=Path, default=Path(SPEC_NAME), help="the spec the API is generated for")
    args = parser.parse_args()
    install_platform(Platform(local_environment(args.spec)))  # the handlers read the spec at import
    args.out.write_text(render())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
