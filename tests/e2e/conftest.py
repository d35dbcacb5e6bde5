"""The Bot API emulator (telegram-test-api, installed by `make test` with `npm ci`)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def emulator() -> Iterator[str]:
    """The emulator's root URL; the bot appends /bot<token>/<method> to it."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "telegram-test-api").is_dir():
        pytest.fail("run `make test` (it installs the emulator with npm ci in tests/e2e)")
    port = free_port()
    process = subprocess.Popen(
        [node, str(HERE / "emulator.js"), str(port)],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"emulator did not start: {line} {process.stderr.read()}")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.communicate(timeout=10)  # waits, and closes its pipes
