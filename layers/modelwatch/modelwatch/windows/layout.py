"""Where everything lives in the data bucket: one place for every key the functions use.

capture/model_version=V/dt=YYYY-MM-DD-HH/<batch>.jsonl    captured predictions (JSON lines)
profiles/model_version=V/dt=…/<batch>.json                 a partial profile per capture object
profiles-hourly/model_version=V/dt=….json                  an hour's partial profiles rolled up
joins/model_version=V/dt=…/<batch>.json                    request id -> (prediction, P(positive))
labels/dt=…/<request id>.json                               feedback, under the prediction's hour
labels-joined/model_version=V/dt=….json                    an hour's labels joined to predictions
reports/V/<window>/<end>/drift.json, report.html            a window's drift check
quarantine/poison/<capture key>                            capture objects that could not be profiled
retraining/<run>/train.parquet, holdout.parquet, decision.json   a retraining run's data and verdict
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

HOUR_FORMAT = "%Y-%m-%d-%H"


def hour_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(HOUR_FORMAT)


def window_hours(end: datetime, hours: float) -> list[str]:
    """The hour partitions of [end - hours, end), end rounded down to the hour."""
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    count = max(1, round(hours))
    return [hour_of(end - timedelta(hours=k)) for k in range(count, 0, -1)]


def derived_key(capture_key: str, area: str) -> str:
    """profiles/… or joins/… for a capture object: same partitions, same name, .json."""
    if not capture_key.startswith("capture/"):
        raise ValueError(f"not a capture object: {capture_key}")
    return area + "/" + capture_key.removeprefix("capture/").removesuffix(".jsonl") + ".json"


def partition_prefix(area: str, model_version: str, hour: str) -> str:
    return f"{area}/model_version={model_version}/dt={hour}/"


def hourly_profile_key(model_version: str, hour: str) -> str:
    return f"profiles-hourly/model_version={model_version}/dt={hour}.json"


def joined_labels_key(model_version: str, hour: str) -> str:
    return f"labels-joined/model_version={model_version}/dt={hour}.json"


def report_prefix(model_version: str, window: str, end: datetime) -> str:
    return f"reports/{model_version}/{window}/{end.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}/"


def poison_key(capture_key: str) -> str:
    return f"quarantine/poison/{capture_key}"


def retraining_key(run_id: str, name: str) -> str:
    return f"retraining/{run_id}/{name}"
