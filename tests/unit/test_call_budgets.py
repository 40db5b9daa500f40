"""A request never waits on AWS longer than its function may run: the registry reads a request
makes (pointer, manifest, artifact) fit, at their worst, well inside the predict timeout."""

from __future__ import annotations

from modelwatch.catalog.functions import PREDICT
from modelwatch.data_access.platform import BACKGROUND_BUDGET, REQUEST_PATH_BUDGET

REGISTRY_CALLS_PER_REQUEST = 3  # pointer, then (on a new version) manifest and artifact


def test_the_request_path_budget_fits_the_predict_timeout_with_room_to_answer():
    worst = REGISTRY_CALLS_PER_REQUEST * REQUEST_PATH_BUDGET.worst_case_seconds
    assert worst <= PREDICT.timeout_seconds - 2  # two seconds left to score and answer


def test_background_jobs_keep_their_patient_retries():
    # The old single budget (5 attempts of 3 s + 10 s) exceeded the 10 s predict timeout on one call.
    assert BACKGROUND_BUDGET.worst_case_seconds > PREDICT.timeout_seconds
    assert REQUEST_PATH_BUDGET.attempts >= 2  # one retry still rides out a transient error
