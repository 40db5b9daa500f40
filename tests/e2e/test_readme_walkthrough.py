"""The README's quick path, run as written: every line of the fenced block after the
`<!-- walkthrough -->` marker, in a folder holding what the README says the user has (a labelled
reference set, a model fitted on it here, new rows scored by it). A command the README changes,
or a line this runner cannot run, fails the test: the walk-through cannot rot."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import ROOT

MARKER = "<!-- walkthrough -->"
FEATURES = ["age", "income", "tenure", "plan"]
SERVED = 150  # requests the "application" sends while the walk-through serves


def walkthrough() -> list[str]:
    """The block's command lines, comments dropped."""
    after = (ROOT / "README.md").read_text().split(MARKER, 1)[1]
    block = re.match(r"\s*```sh\n(.*?)```", after, re.S)
    assert block is not None, f"no ```sh block right after {MARKER} in README.md"
    lines = [re.sub(r"(^|\s)#.*$", "", line).strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def _customers(rows: int, seed: int, older: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows) + older,
            "income": rng.normal(50_000, 15_000, rows).round(2),
            "tenure": rng.exponential(3, rows).round(3),
            "plan": rng.choice(["basic", "pro", "team"], rows),
        }
    )
    risk = (frame["age"] < 35) & (frame["tenure"] < 2) | (frame["plan"] == "basic") & (frame["income"] < 40_000)
    frame["churned"] = (risk | (rng.random(rows) < 0.1)).astype(int)
    return frame


def _what_the_user_has(folder: Path):
    """reference.csv, model.joblib (fitted here) and new.csv scored by it, as the README lists."""
    import joblib
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    training, reference = _customers(3000, 1), _customers(1500, 2)
    prepare = ColumnTransformer(
        [("numbers", "passthrough", FEATURES[:3]), ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])]
    )
    model = Pipeline([("prepare", prepare), ("forest", RandomForestClassifier(40, max_depth=6, random_state=0))])
    model.fit(training[FEATURES], training["churned"])
    joblib.dump(model, folder / "model.joblib")
    reference.to_csv(folder / "reference.csv", index=False)
    new = _customers(800, 3, older=8.0).drop(columns="churned")
    probabilities = model.predict_proba(new[FEATURES])
    new["prediction"] = model.classes_[probabilities.argmax(axis=1)]
    for index, label in enumerate(model.classes_):
        new[f"p_{label}"] = probabilities[:, index]
    new.to_csv(folder / "new.csv", index=False)
    return new


def _run(args: list[str], folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=folder, capture_output=True, text=True, env=os.environ.copy(), timeout=300
    )


def _start(args: list[str], folder: Path) -> tuple[subprocess.Popen, str]:
    """A background command (`... &`): `modelwatch serve` on a free port, and its URL."""
    if "--port" in args:  # any free port: the README's may be taken where the test runs
        args[args.index("--port") + 1] = "0"
    process = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ.copy(),
    )  # fmt: skip
    first = process.stdout.readline()
    url = re.search(r"http://127\.0\.0\.1:\d+", first)
    if url is None:
        process.kill()
        raise AssertionError(first + process.stderr.read())
    return process, url.group(0)


def _application_sends(url: str, rows: pd.DataFrame) -> None:
    """What the README's comment says the user's application does while it serves."""
    for record in rows[FEATURES].head(SERVED).to_dict("records"):
        body = json.dumps({"features": {k: v.item() if hasattr(v, "item") else v for k, v in record.items()}})
        request = urllib.request.Request(
            f"{url}/predict", data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200


def test_the_readme_walkthrough_runs_as_written(tmp_path):
    new = _what_the_user_has(tmp_path)
    commands = walkthrough()
    assert commands and all(c.startswith(("modelwatch ", "kill %1")) for c in commands), commands
    server: subprocess.Popen | None = None
    try:
        for line in commands:
            if line == "kill %1":
                assert server is not None, "kill %1 before a command in the background"
                server.send_signal(signal.SIGTERM)
                _, err = server.communicate(timeout=60)
                assert server.returncode == 0, err
                server = None
                continue
            args = shlex.split(line)
            if args[-1] == "&":
                server, url = _start(args[:-1], tmp_path)
                _application_sends(url, new)
                continue
            result = _run(args, tmp_path)
            allowed = (0, 1) if args[1] == "drift" else (0,)  # drift exits 1 on drift
            assert result.returncode in allowed, f"{line}\n{result.stdout}\n{result.stderr}"
    finally:
        if server is not None:
            server.kill()
            server.communicate(timeout=30)

    # The report on the scored rows: prediction drift and the estimated performance, no labels.
    scored = json.loads((tmp_path / "drift.json").read_text())
    assert [f["name"] for f in scored["features"]] == FEATURES
    assert scored["prediction_drift"]["status"] == "ok"
    assert scored["estimated_performance"]["accuracy"] is not None
    assert (tmp_path / "report.html").is_file()
    # And on what was served: every request's record, its prediction and scores.
    served = json.loads((tmp_path / "served.json").read_text())
    assert served["current_rows"] == SERVED
    assert served["prediction_drift"]["current_count"] == SERVED
    assert served["estimated_performance"]["accuracy"] is not None
