"""The local runtime keeps Powertools' warnings that only a local run causes out of the process's
output (serve's terminal), by their messages: any other warning still shows."""

from __future__ import annotations

import warnings

from modelwatch_local import lambda_runtime


def test_local_run_warnings_are_ignored_and_others_still_show():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # as a caller's filters may be: nothing deduplicated
        lambda_runtime._ignore_local_run_warnings()
        warnings.warn(
            "No application metrics to publish. The cold-start metric may be published if enabled.",
            UserWarning,
            stacklevel=1,
        )
        warnings.warn(
            "This metric doesn't meet the requirements and will be skipped by Amazon CloudWatch.",
            UserWarning,
            stacklevel=1,
        )
        warnings.warn("Dimension 'service' has already been added.", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["Dimension 'service' has already been added."]


def test_filters_are_put_back_when_a_caller_restored_a_list_without_them():
    with warnings.catch_warnings():
        warnings.resetwarnings()
        lambda_runtime._ignore_local_run_warnings()
        lambda_runtime._ignore_local_run_warnings()  # once each, however often invocations check
        ignored = [f for f in warnings.filters if f[0] == "ignore" and f[1] is not None]
        assert sorted(f[1].pattern for f in ignored) == sorted(lambda_runtime.LOCAL_RUN_WARNINGS)
