"""Run a command and measure its wall time, CPU time and the peak memory of its process tree.

Peak memory is exact, not sampled: each process's own peak resident set (the kernel's high-water
mark, VmHWM; for the command itself the ru_maxrss `wait4` returns) is summed over every process
the command started. While the tree is one process (a tool on one CPU, or a single-process
tool), that is exactly its peak. With workers it is the sum of their peaks, which is never less
than the tree's peak at any one moment: a tool that works in several processes is charged at
least everything it used, and pages its forked workers share are counted once per process.
Descendants are found and read every 10 ms; the high-water mark only grows, so the read that
matters is the last one before a worker exits, after its work is done.

With `core`, the command and every process it starts run on that one CPU (a tool cannot win by
using a second core the other tool does not get).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
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
    processes: int  # how many processes the tree held, the command included


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _high_water_kb(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _watch(root: int, peaks: dict[int, int], done: threading.Event) -> None:
    while not done.is_set():
        stack = _children(root)
        while stack:
            pid = stack.pop()
            peaks[pid] = max(peaks.get(pid, 0), _high_water_kb(pid))
            stack += _children(pid)
        time.sleep(0.01)


def measure(command: list[str], env: dict[str, str] | None = None, core: int | None = None) -> Measurement:
    pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=pin
    )
    peaks: dict[int, int] = {}
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(process.pid, peaks, done), daemon=True)
    watcher.start()
    # Read the pipes while the tool runs (a full pipe would stall it), then reap it with wait4:
    # its own exact peak and the CPU time of the whole tree.
    outputs = {"stdout": "", "stderr": ""}

    def drain(name: str) -> None:
        outputs[name] = getattr(process, name).read()

    readers = [threading.Thread(target=drain, args=(name,), daemon=True) for name in outputs]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    root_kb = usage.ru_maxrss  # Linux: kilobytes, the command's own peak
    peak_kb = root_kb + sum(peaks.values())
    return Measurement(
        seconds,
        peak_kb / 1024,
        usage.ru_utime + usage.ru_stime,
        process.returncode,
        outputs["stdout"],
        outputs["stderr"],
        1 + len(peaks),
    )
