"""Profiling capture objects: each one gets its partial profile and its join index, keyed from
the capture key (so a repeat rewrites the same objects). An object that cannot be read as
captures is copied to quarantine/poison/ and reported, never retried forever."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from modelwatch.catalog import layout
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.spec.models import MonitoringSpec
from modelwatch.windows.capture_profile import PoisonCaptureError, parse_capture, profile_captures


@dataclass
class ProfileOutcome:
    profiled: int = 0
    quarantined: dict[str, str] = field(default_factory=dict)  # capture key -> why


class ProfileJob:
    def __init__(self, data: DataBucket, spec: MonitoringSpec) -> None:
        self.data, self.spec = data, spec

    def run(self, keys: list[str]) -> ProfileOutcome:
        outcome = ProfileOutcome()
        for key in keys:
            if not layout.is_capture_object(key):
                continue  # the notification's filter should never let one through; ignore it
            body = self.data.read(key)
            try:
                result = profile_captures(self.spec, parse_capture(body))
            except (PoisonCaptureError, UnicodeDecodeError, ValueError, TypeError) as exc:
                self.data.copy(key, layout.poison_key(key))
                outcome.quarantined[key] = str(exc)
                continue
            self.data.write(layout.derived_key(key, layout.PROFILES), result.profile.to_json(), "application/json")
            join_index = json.dumps(result.join_index).encode()
            self.data.write(layout.derived_key(key, layout.JOINS), join_index, "application/json")
            outcome.profiled += 1
        return outcome
