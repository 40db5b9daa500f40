"""Shared fixtures: the demo spec, and profiles built from plain arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelwatch.profiles import NumericColumnProfile, ProfileBuilder, ProfileSchema
from modelwatch.profiles.coercion import as_finite_floats
from modelwatch.spec import MonitoringSpec, load_spec
from modelwatch_local.stack import LocalStack

ROOT = Path(__file__).resolve().parent.parent


def spec_sending_every_drift_series(folder: Path) -> Path:
    """The demo spec with `[metrics] drift_series = "all"`, written to `folder`: for tests of
    every metric the drift check can send (by default it sends only what is read)."""
    text = (ROOT / "monitoring.toml").read_text().replace("\n[metrics]\n", '\n[metrics]\ndrift_series = "all"\n', 1)
    path = folder / "monitoring.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def demo_spec() -> MonitoringSpec:
    return load_spec(ROOT / "monitoring.toml")


def numeric_profile(values) -> NumericColumnProfile:
    finite, missing, type_errors = as_finite_floats(np.asarray(values, dtype=np.float64))
    return NumericColumnProfile.from_values(finite, missing, type_errors)


def build_profile(spec: MonitoringSpec, batch: dict, chunk_rows: int | None = None):
    builder = ProfileBuilder(ProfileSchema.from_spec(spec), chunk_rows=chunk_rows)
    builder.add(batch)
    return builder.result()


@pytest.fixture(scope="module", autouse=True)
def no_stack_left_running(request):
    """A LocalStack left running (a test or fixture that failed before stopping it) would hand
    every later stack in this worker its objects, since moto resets only when its outermost mock
    starts: the module that leaves one fails here, and the stack is stopped."""
    before = list(LocalStack.running)
    refused_before = len(LocalStack.refused_when_stopped)
    yield
    left = [stack for stack in LocalStack.running if stack not in before]
    for stack in left:
        stack.stop()
    assert not left, f"{len(left)} LocalStack(s) left running by this module"
    # Every stack enforces what AWS would refuse; a refusal no test asked for is a permission the
    # code needs and the stack lacks (or a delivery that would fail deployed).
    refused = LocalStack.refused_when_stopped[refused_before:]
    expected = getattr(request.module, "REFUSALS_EXPECTED", False)
    assert expected or not refused, "refused on the local stack: " + "; ".join(map(str, refused))


def without_segments(spec_text: str) -> str:
    """A spec's TOML with its [[segments]] tables left out (each runs to the next table)."""
    kept, skipping = [], False
    for line in spec_text.splitlines(keepends=True):
        if line.startswith("["):
            skipping = line.strip() == "[[segments]]"
        if not skipping:
            kept.append(line)
    return "".join(kept)
