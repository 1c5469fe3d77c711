"""A throw-away PostgreSQL server for the tests: one cluster per test process, one database per test.

The server binaries are looked up on PATH, then in /usr/lib/postgresql/*/bin. initdb and
the server refuse to run as root, so as root they run as `nobody` (via runuser, else su)
in a temporary directory owned by that user. Without binaries the tests skip — except in
CI (env CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

UNPRIVILEGED = "nobody"
PASSWORD = "pg-test-secret"  # trust authentication ignores it; it is there to test redaction


def find_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's versioned folders."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        # Debian links /usr/local/bin/initdb → /usr/lib/postgresql/N/bin/initdb; keep the
        # real folder so that initdb finds the `postgres` binary beside it.
        folder = Path(os.path.realpath(initdb)).parent
        if (folder / "pg_ctl").exists():
            return folder
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: _version_key(p), reverse=True)
    for candidate in candidates:
        folder = Path(candidate).parent
        if (folder / "pg_ctl").exists() and (folder / "postgres").exists():
            return folder
    return None


def _version_key(path: str) -> tuple[int, ...]:
    part = Path(path).parent.parent.name
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_user_prefix() -> list[str]:
    """The command prefix that runs a program as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser"):
        return ["runuser", "-u", UNPRIVILEGED, "--"]
    if shutil.which("su"):
        return ["su", "-s", "/bin/sh", UNPRIVILEGED, "-c"]
    raise RuntimeError("running as root, but neither runuser nor su is available to drop privileges for initdb")


def _run(prefix: list[str], argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [*prefix, shlex.join(argv)] if prefix and prefix[0] == "su" else [*prefix, *argv]
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def _private_dir(prefix: list[str]) -> Path:
    """A fresh 0700 folder the server's user owns and can reach (as root: one `nobody` can traverse)."""
    if not prefix:
        return Path(tempfile.mkdtemp(prefix="segsql-pg-"))
    import pwd

    entry = pwd.getpwnam(UNPRIVILEGED)
    tried = []
    for parent in dict.fromkeys([tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]):
        if not os.path.isdir(parent):
            continue
        root = Path(tempfile.mkdtemp(prefix="segsql-pg-", dir=parent))
        os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chmod(root, 0o700)
        if _run(prefix, ["test", "-w", str(root)], timeout=30).returncode == 0:
            return root
        tried.append(parent)
        shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"no temporary folder that user {UNPRIVILEGED!r} can write to (tried {', '.join(tried)})")


@dataclass
class PostgresServer:
    """A running cluster on 127.0.0.1:port with trust authentication for user `postgres`."""

    bin_dir: Path
    root: Path
    port: int
    prefix: list[str]

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @classmethod
    def start(cls, bin_dir: Path) -> PostgresServer:
        prefix = _as_user_prefix()
        root = _private_dir(prefix)
        server = cls(bin_dir, root, _free_port(), prefix)
        try:
            server._init_and_start()
        except BaseException:
            server.stop()
            raise
        return server

    def _init_and_start(self) -> None:
        done = _run(self.prefix, [str(self.bin_dir / "initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D", str(self.data_dir)])
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr or done.stdout}")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        started = _run(self.prefix, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.root / "server.log"), "-o", options, "-w", "-t", "60", "start"])
        if started.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed ({started.returncode}): {started.stderr or started.stdout}\n{log}")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            _run(self.prefix, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"], timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def settings(self, dbname: str, schema: str = "main") -> dict[str, object]:
        """A profile target's settings for one database of this server."""
        return {"type": "postgres", "host": "127.0.0.1", "port": self.port, "user": "postgres", "password": PASSWORD, "dbname": dbname, "schema": schema}

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_LOCK = threading.Lock()
_SERVER: PostgresServer | None = None


def server_or_skip() -> PostgresServer:
    """The process's server, started on first use and stopped at exit (skip when unavailable)."""
    global _SERVER
    with _LOCK:
        if _SERVER is not None:
            return _SERVER
        pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")
        bin_dir = find_bin_dir()
        if bin_dir is None:
            message = "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin — install postgresql to run these tests"
            if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
                pytest.fail(message + " (CI=true: a missing server is a failure)", pytrace=False)
            pytest.skip(message)
        _SERVER = PostgresServer.start(bin_dir)
        atexit.register(stop_server)
        return _SERVER


def stop_server() -> None:
    global _SERVER
    with _LOCK:
        if _SERVER is not None:
            _SERVER.stop()
            _SERVER = None


@contextlib.contextmanager
def fresh_database(schema: str = "main"):  # type: ignore[no-untyped-def]
    """A new database on the server, as a Target, dropped afterwards."""
    from segsql.project.config import Target

    server = server_or_skip()
    name = server.create_database()
    try:
        yield Target("segsql", "pg", "postgres", server.settings(name, schema), frozenset())
    finally:
        server.drop_database(name)
