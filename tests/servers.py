"""Run gunicorn or uvicorn as a real subprocess on a loopback port, for real-HTTP tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Server:
    """A running server: where to reach it and which process to measure."""

    url: str
    pid: int
    port: int


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _wait_until_accepting(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before accepting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not accept on port {port} within {START_TIMEOUT}s")


def file_log_config(log_file: Path) -> Path:
    """A uvicorn --log-config sending every record to `log_file`, one line per message."""
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"format": "%(levelname)s %(name)s %(message)s"}},
        "handlers": {
            "file": {"class": "logging.FileHandler", "filename": str(log_file), "formatter": "line"}
        },
        "root": {"level": "INFO", "handlers": ["file"]},
    }
    path = log_file.with_suffix(".json")
    path.write_text(json.dumps(config))
    return path


@contextmanager
def _serve(command: list[str], port: int, env: Mapping[str, str] | None) -> Iterator[Server]:
    full_env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})}
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=full_env)
    try:
        _wait_until_accepting(process, port)
        yield Server(url=f"http://127.0.0.1:{port}", pid=process.pid, port=port)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def serve_gunicorn(
    app_ref: str, *extra_args: str, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """A WSGI app (`module:attr`) on one gunicorn sync worker, the legacy deployment."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        *extra_args,
        app_ref,
    ]
    with _serve(command, port, env) as server:
        yield server


@contextmanager
def serve_uvicorn(
    app_ref: str, *extra_args: str, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """An ASGI app (`module:attr`) on one uvicorn worker, never trusting proxy headers unless
    `--proxy-headers` is passed."""
    port = free_port()
    defaults = ["--http", "httptools", "--loop", "uvloop", "--no-access-log"]
    defaults += ["--log-level", "warning", "--timeout-graceful-shutdown", "2"]
    if "--proxy-headers" not in extra_args:
        defaults.append("--no-proxy-headers")
    command = [
        str(BIN / "uvicorn"),
        app_ref,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *defaults,
        *extra_args,
    ]
    with _serve(command, port, env) as server:
        yield server
