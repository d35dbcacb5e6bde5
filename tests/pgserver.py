"""A private PostgreSQL server for the test suite, started on demand on 127.0.0.1.

`TEST_DATABASE_URL` or `HOTLINE_TEST_POSTGRES_URL` (a server the tests may create databases
on) is used as is. Otherwise the Debian `postgresql` package is installed when missing, and
a throw-away cluster is created in a temporary directory, on a free port, run as the
`postgres` system user when we are root (the server refuses to run as root). It is tuned
for tests (no fsync) and removed when the session ends. `python -m tests.pgserver` starts
one and prints its URL, for the benchmark or a manual session.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ENV_URLS = ("TEST_DATABASE_URL", "HOTLINE_TEST_POSTGRES_URL")
SERVER_USER = "postgres"


def external_url() -> str | None:
    for name in ENV_URLS:
        if os.environ.get(name):
            return os.environ[name]
    return None


def _binaries() -> Path:
    """The directory holding initdb and pg_ctl, installing the server if needed."""
    found = _find_binaries()
    if found is None:
        _install()
        found = _find_binaries()
    if found is None:
        raise RuntimeError("PostgreSQL binaries not found, even after apt-get install postgresql")
    return found


def _find_binaries() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _install() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError("PostgreSQL is missing: install the 'postgresql' package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", "postgresql"]
    if subprocess.run(command, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
        subprocess.run(command, env=env, check=True, capture_output=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SERVER_USER, "--", *command]
    return ["su", SERVER_USER, "-s", "/bin/sh", "-c", " ".join(command)]


class Cluster:
    """One initdb'd data directory and the server running on it."""

    def __init__(self) -> None:
        self.bin = _binaries()
        self.root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = SERVER_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            server = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, server.pw_uid, server.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        self._run(
            [
                *(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user),
                *("-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
            ]
        )
        self.restart()
        return self.url

    def stop(self, mode: str = "fast") -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def restart(self) -> None:
        """Start again after stop(): same data, same port."""
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300 -c shared_buffers=64MB"
        )
        self._run(
            [
                *(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log")),
                *("-o", options, "-w", "-t", "60", "start"),
            ]
        )
        self._wait_ready()

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError(f"PostgreSQL did not open port {self.port}: see {self.root}/log")

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(
            _as_server_user(command), capture_output=True, text=True, cwd=self.root
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stdout}\n{result.stderr}")


@contextlib.contextmanager
def server() -> Iterator[tuple[str, Cluster | None]]:
    """The admin URL of a server to use, and the cluster when we started it ourselves."""
    url = external_url()
    if url is not None:
        yield url, None
        return
    cluster = Cluster()
    try:
        yield cluster.start(), cluster
    finally:
        cluster.remove()


if __name__ == "__main__":
    # Start a server for a manual session; it lives until Enter is pressed.
    with server() as (admin_url, _cluster):
        print(admin_url, flush=True)
        with contextlib.suppress(EOFError, KeyboardInterrupt):
            input()
