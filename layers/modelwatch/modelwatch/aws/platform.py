"""Where every function gets its AWS clients, settings and clock: one object the local runtime
and the tests swap for their own (moto clients, a simulated clock)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from modelwatch.spec import MonitoringSpec, load_spec

SPEC_NAME = "monitoring.toml"


def _default_spec() -> Path:
    """The nearest monitoring.toml above this package (the repo locally); deployed functions set
    MODELWATCH_SPEC to the copy packaged with them."""
    for folder in Path(__file__).resolve().parents:
        if (folder / SPEC_NAME).is_file():
            return folder / SPEC_NAME
    return Path.cwd() / SPEC_NAME


@dataclass(frozen=True)
class Settings:
    spec_path: str
    data_bucket: str
    model_bucket: str
    model_prefix: str
    pointer_parameter: str
    region: str
    # Off only to measure what monitoring costs: no metrics, no capture.
    monitoring: bool = True

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            spec_path=environ.get("MODELWATCH_SPEC") or str(_default_spec()),
            data_bucket=environ.get("MODELWATCH_DATA_BUCKET", "modelwatch-data"),
            model_bucket=environ.get("MODELWATCH_MODEL_BUCKET", "modelwatch-models"),
            model_prefix=environ.get("MODELWATCH_MODEL_PREFIX", "models/"),
            pointer_parameter=environ.get("MODELWATCH_POINTER_PARAMETER", "/modelwatch/current-model"),
            region=environ.get("AWS_REGION", environ.get("AWS_DEFAULT_REGION", "us-east-1")),
            monitoring=environ.get("MODELWATCH_MONITORING", "on").lower() != "off",
        )


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)  # identity: functions cache what they build per platform
class Platform:
    settings: Settings
    clock: Callable[[], datetime] = system_clock
    _clients: dict[str, Any] = field(default_factory=dict)
    _session: Any = None  # one botocore session: its clients share the loaded service models

    def client(self, service: str) -> Any:
        """An AWS client, created once; standard retries with backoff for every call.

        Made by botocore directly: boto3's wrapper adds nothing the functions use, and importing
        it (with s3transfer) costs about 45 ms of every cold start. Imported here, not at module
        level, so functions that never call AWS on a request pay nothing.
        """
        if service not in self._clients:
            import botocore.session
            from botocore.config import Config

            if self._session is None:
                self._session = botocore.session.get_session()
            config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
            self._clients[service] = self._session.create_client(
                service, region_name=self.settings.region, config=config
            )
        return self._clients[service]

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
        _current = Platform(Settings.from_environment())
    return _current


def install_platform(platform: Platform | None) -> Platform | None:
    """Swap the platform (local runtime, tests); functions read it on every invocation. Returns
    the one it replaced, so a caller can put it back."""
    global _current
    previous, _current = _current, platform
    return previous
