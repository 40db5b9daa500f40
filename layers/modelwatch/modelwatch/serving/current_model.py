"""The model a function serves: re-reads the registry pointer on a TTL, loads a new version only
after it verifies, and keeps serving the last good version when a new one does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from modelwatch.registry.manifest import ModelManifest

Model = TypeVar("Model")


class ModelUnavailableError(Exception):
    """No servable model: the pointer, manifest or artifact is missing or does not verify."""


class Registry(Protocol):
    def current_version(self) -> str: ...
    def manifest(self, version: str) -> ModelManifest: ...
    def verified_artifact(self, manifest: ModelManifest) -> bytes: ...
    def verified_loss_model(self, manifest: ModelManifest) -> bytes | None: ...


@dataclass(frozen=True)
class Served(Generic[Model]):
    manifest: ModelManifest
    model: Model


@dataclass(frozen=True)
class LoadFailure:
    version: str
    reason: str


class CurrentModel(Generic[Model]):
    def __init__(
        self,
        registry: Registry,
        # (manifest, verified artifact, verified loss model or None) -> the model to serve
        build: Callable[[ModelManifest, bytes, bytes | None], Model],
        ttl_seconds: float,
        clock: Callable[[], datetime],
        artifacts: bool = True,
    ) -> None:
        self.registry, self.build, self.ttl, self.clock = registry, build, ttl_seconds, clock
        # False: `build` needs only what the manifest says (the classes, say), so the artifact
        # and loss model are neither fetched nor verified and `build` gets b"" and None for them.
        self.artifacts = artifacts
        self._served: Served[Model] | None = None
        self._checked_at: datetime | None = None

    def expire(self) -> None:
        """Re-read the pointer on the next request, whatever the TTL says: after a SnapStart
        restore, the last check happened when the snapshot was taken, possibly days ago."""
        self._checked_at = None

    def get(self) -> tuple[Served[Model], LoadFailure | None]:
        """The model to serve now, and the failure to report if a newer version could not load.

        Raises ModelUnavailableError when nothing has loaded yet.
        """
        now = self.clock()
        fresh = self._checked_at is not None and (now - self._checked_at).total_seconds() < self.ttl
        if self._served is not None and fresh:
            return self._served, None
        failure = None
        version = "(pointer unreadable)"
        try:
            version = self.registry.current_version()
            if self._served is None or version != self._served.manifest.version:
                manifest = self.registry.manifest(version)
                artifact = self.registry.verified_artifact(manifest) if self.artifacts else b""
                loss_model = self.registry.verified_loss_model(manifest) if self.artifacts else None
                self._served = Served(manifest, self.build(manifest, artifact, loss_model))
        except Exception as exc:  # any failure to load: report it, never serve a half-loaded model
            if self._served is None:
                raise ModelUnavailableError(str(exc)) from exc
            failure = LoadFailure(version=version, reason=str(exc))
        self._checked_at = now
        assert self._served is not None
        return self._served, failure
