"""Render a page in Debian's headless Chromium and return the screenshot as pixels."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("Chromium is not installed: `make test` installs it (apt-get install chromium)")
    return found


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 2400) -> np.ndarray:
    """Screenshot `page` to `out` (PNG) and return its RGB pixels."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={out}",
                f"--window-size={width},{height}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return np.asarray(Image.open(out).convert("RGB"))


def dump_dom(page: Path) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    return result.stdout


def console_messages(page: Path) -> list[str]:
    """What the page wrote to the browser's console while loading (script errors, failed
    loads, console.* calls), from Chromium's own log."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
