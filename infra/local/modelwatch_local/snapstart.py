"""Lambda SnapStart's two moments, run here the way the runtime runs them: the functions'
before-snapshot hooks when a version is published (newest registration first), the after-restore
hooks when an environment resumes from the snapshot (in registration order)."""

from __future__ import annotations

import snapshot_restore_py


def take_snapshot() -> None:
    for hook, args, kwargs in reversed(snapshot_restore_py._before_snapshot_registry):
        hook(*args, **kwargs)


def restore() -> None:
    for hook, args, kwargs in snapshot_restore_py._after_restore_registry:
        hook(*args, **kwargs)
