"""Where every function gets its AWS clients, settings and clock: one object the local runtime
and the tests swap for their own (moto clients, a simulated clock, the local environment)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, TypeVar

from modelwatch.data_access.settings import Settings
from modelwatch.spec import MonitoringSpec, load_spec

SettingsModel = TypeVar("SettingsModel", bound=Settings)


@dataclass(frozen=True)
class CallBudget:
    """How long one AWS call may take at worst: attempts x (connect + read)."""

    attempts: int
    connect_seconds: float
    read_seconds: float

    @property
    def worst_case_seconds(self) -> float:
        return self.attempts * (self.connect_seconds + self.read_seconds)


# Jobs retry patiently; a call on the request path gives up quickly (the caller is waiting).
BACKGROUND_BUDGET = CallBudget(attempts=5, connect_seconds=3, read_seconds=10)
REQUEST_PATH_BUDGET = CallBudget(attempts=2, connect_seconds=0.5, read_seconds=0.75)


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)  # identity: functions cache what they build per platform
class Platform:
    # The function's environment: os.environ in Lambda, the catalogue's variables locally.
    environment: Mapping[str, str]
    clock: Callable[[], datetime] = system_clock
    _clients: dict[str, Any] = field(default_factory=dict)
    _session: Any = None  # one botocore session: its clients share the loaded service models

    @cached_property
    def settings(self) -> Settings:
        return Settings.from_environment(self.environment)

    def settings_of(self, model: type[SettingsModel]) -> SettingsModel:
        """A function's own settings model, validated from the same environment."""
        return model.from_environment(self.environment)

    def client(self, service: str, request_path: bool = False) -> Any:
        """An AWS client, created once; standard retries with backoff for every call.

        `request_path`: a client a caller waits on (the registry pointer in the predict
        function), with a budget that fits well inside the function's timeout: on a slow or
        throttled service the call gives up in seconds and the last good model keeps serving.

        Made by botocore directly: boto3's wrapper adds nothing the functions use, and importing
        it (with s3transfer) costs about 45 ms of every cold start. Imported here, not at module
        level, so functions that never call AWS on a request pay nothing.
        """
        key = f"{service}:request" if request_path else service
        if key not in self._clients:
            import botocore.session
            from botocore.config import Config

            if self._session is None:
                self._session = botocore.session.get_session()
            budget = REQUEST_PATH_BUDGET if request_path else BACKGROUND_BUDGET
            config = Config(
                # total_max_attempts counts the first try; "max_attempts" would count retries
                # only (one attempt more than the budget says).
                retries={"mode": "standard", "total_max_attempts": budget.attempts},
                connect_timeout=budget.connect_seconds,
                read_timeout=budget.read_seconds,
            )
            self._clients[key] = self._session.create_client(service, region_name=self.settings.region, config=config)
        return self._clients[key]

    def drop_connections(self) -> None:
        """Close the clients' pooled connections; the clients stay usable and reconnect. After a
        SnapStart restore the snapshot's sockets lead nowhere, and a request sent on one would
        wait for an error and a retry."""
        for client in self._clients.values():
            client.close()

    @cached_property
    def spec(self) -> MonitoringSpec:
        return load_spec(self.settings.spec_path)


_current: Platform | None = None


def current_platform() -> Platform:
    global _current
    if _current is None:
        _current = Platform(os.environ)
    return _current


def install_platform(platform: Platform | None) -> Platform | None:
    """Swap the platform (local runtime, tests); functions read it on every invocation. Returns
    the one it replaced, so a caller can put it back."""
    global _current
    previous, _current = _current, platform
    return previous
