"""The model a function serves: re-reads the registry pointer on a TTL, loads a new version only
after it verifies, and keeps serving the last good version when a new one does not.

Once a model is served, a refresh runs beside the request and the request waits for its registry
reads at most REFRESH_WAIT_SECONDS: a throttled or silent SSM or S3 costs a caller that long, not
the sum of every call's retries and read timeouts (seconds each). Once the reads are done, the
request waits for the new version to load (no AWS call is left, only building the model), so a
healthy registry's promotion is served from the first request after the TTL. A refresh still running when the request
answers finishes later (in Lambda, frozen with the environment and resumed by the next
invocation); the next request serves its model or reports its failure."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from modelwatch.registry.manifest import ModelManifest

Model = TypeVar("Model")
# How long a request waits for a pointer refresh before it is answered with the model it has: the
# API's answers stay within 2 s when the registry does not answer (botocore's request-path budget
# alone is 2 attempts x 0.75 s read timeout per call, and a new version takes three calls).
REFRESH_WAIT_SECONDS = 1.0


class ModelUnavailableError(Exception):
    """No servable model: the pointer, manifest or artifact is missing or does not verify."""


class Registry(Protocol):
    def current_version(self) -> str: ...
    def manifest(self, version: str) -> ModelManifest: ...
    def verified_artifact(self, manifest: ModelManifest) -> bytes: ...


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
        # (manifest, verified artifact) -> the model to serve
        build: Callable[[ModelManifest, bytes], Model],
        ttl_seconds: float,
        clock: Callable[[], datetime],
        wait_seconds: float = REFRESH_WAIT_SECONDS,
        artifacts: bool = True,
    ) -> None:
        self.registry, self.build, self.ttl, self.clock = registry, build, ttl_seconds, clock
        self.wait_seconds = wait_seconds
        # False: `build` needs only what the manifest says (the classes, say), so the artifact
        # is neither fetched nor verified and `build` gets b"" for it.
        self.artifacts = artifacts
        self._served: Served[Model] | None = None
        self._checked_at: datetime | None = None
        self._failure: LoadFailure | None = None  # a refresh's failure, not yet reported
        self._refreshing: threading.Thread | None = None
        self._fetched = threading.Event()  # the running refresh has done its registry reads
        self._lock = threading.Lock()

    def expire(self) -> None:
        """Re-read the pointer on the next request, whatever the TTL says: after a SnapStart
        restore, the last check happened when the snapshot was taken, possibly days ago."""
        self._checked_at = None

    def get(self) -> tuple[Served[Model], LoadFailure | None]:
        """The model to serve now, and the failure to report if a newer version could not load.

        Raises ModelUnavailableError when nothing has loaded yet.
        """
        now = self.clock()
        if self._served is None:
            self._refresh(now)  # nothing to serve meanwhile: the request waits for the first model
            if self._served is None:
                failure, self._failure = self._failure, None
                raise ModelUnavailableError(failure.reason if failure else "no model loaded")
        else:
            self._wait_for_reads(now)
        with self._lock:
            failure, self._failure = self._failure, None
        return self._served, failure

    def join_refresh(self, timeout: float | None = None) -> None:
        """Wait for a refresh in progress (at most `timeout` seconds; None: until it ends)."""
        refreshing = self._refreshing
        if refreshing is not None:
            refreshing.join(timeout)

    def _wait_for_reads(self, now: datetime) -> None:
        if not self._start_refresh(now):
            return
        self.join_refresh(self.wait_seconds)
        if self._fetched.is_set():
            self.join_refresh()  # only loading the fetched version is left: CPU, no AWS

    def _start_refresh(self, now: datetime) -> bool:
        """Start a pointer check in the background when the TTL has run out and none is running."""
        with self._lock:
            fresh = self._checked_at is not None and (now - self._checked_at).total_seconds() < self.ttl
            if fresh or (self._refreshing is not None and self._refreshing.is_alive()):
                return False
            self._checked_at = now  # one check per TTL, whatever its outcome
            self._fetched = threading.Event()
            self._refreshing = threading.Thread(target=self._refresh, args=(now, self._fetched), daemon=True)
        self._refreshing.start()
        return True

    def _refresh(self, now: datetime, fetched: threading.Event | None = None) -> None:
        version = "(pointer unreadable)"
        try:
            version = self.registry.current_version()
            served = self._served
            if served is None or version != served.manifest.version:
                manifest = self.registry.manifest(version)
                artifact = self.registry.verified_artifact(manifest) if self.artifacts else b""
                if fetched is not None:
                    fetched.set()
                self._served = Served(manifest, self.build(manifest, artifact))
            self._checked_at = now
        except Exception as exc:  # any failure to load: report it, never serve a half-loaded model
            with self._lock:
                self._failure = LoadFailure(version=version, reason=str(exc))
