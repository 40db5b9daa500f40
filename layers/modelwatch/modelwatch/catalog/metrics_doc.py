"""docs/spec.md's metric list, written from the metric catalogue.

`python -m modelwatch.catalog.metrics_doc [docs/spec.md]` rewrites the part between the
markers; a test keeps the committed file equal to what the catalogue gives."""

from __future__ import annotations

import sys
from pathlib import Path

from modelwatch.catalog.metrics import CATALOGUE, EVERY_TASK

BEGIN, END = "<!-- metric catalogue: begin -->", "<!-- metric catalogue: end -->"


def render() -> str:
    rows = ["| metric | unit | dimensions | emitted by | tasks | what it measures |", "|---|---|---|---|---|---|"]
    for metric in CATALOGUE.values():
        name = f"`{metric.name_for(f'<{metric.named_per}>')}`"
        by = ", ".join(metric.emitted_by) + ("" if metric.emitted_by_function_code else " (not function code)")
        dimensions = ", ".join(f"`{d}`" for d in metric.dimensions)
        tasks = "all" if metric.tasks == EVERY_TASK else ", ".join(metric.tasks)
        rows.append(f"| {name} | {metric.unit} | {dimensions} | {by} | {tasks} | {metric.description} |")
    return "\n".join([BEGIN, *rows, END])


def updated(document: str) -> str:
    start, end = document.index(BEGIN), document.index(END) + len(END)
    return document[:start] + render() + document[end:]


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/spec.md")
    path.write_text(updated(path.read_text()))
    print(f"wrote the metric list of {path}")


if __name__ == "__main__":
    main()
