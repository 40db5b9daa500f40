"""Run a command and measure its wall time and the peak memory of its whole process tree.

Peak memory is sampled from /proc every 50 ms and summed over the process and its children,
so a tool that works in several processes is charged for all of them at once. The figure is
the proportional set size (PSS): a page that forked processes share counts once in total,
where summing resident sizes would count it once per process. With `core`, the command and every
process it starts run on that one CPU (a tool cannot win by using a second core the other tool
does not get); CPU time (user + system of the whole tree) is reported beside wall time.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_mb: float
    cpu_seconds: float
    returncode: int
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_pss_kb(root: int) -> int:
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _pss_kb(pid)
        stack += _children(pid)
    return total


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(command: list[str], env: dict[str, str] | None = None, core: int | None = None) -> Measurement:
    pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=pin
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_pss_kb(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    stdout, stderr = process.communicate()
    cpu_seconds = _children_cpu_seconds() - cpu_before  # the tree's processes, once all are waited for
    return Measurement(seconds, peak / 1024, cpu_seconds, process.returncode, stdout, stderr)
