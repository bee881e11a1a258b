"""Run gunicorn or uvicorn as a real subprocess on a loopback port, for real-HTTP tests."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
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


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a server leading its own process group, wait for it to exit, then SIGKILL
    whatever is left of the group (workers, helpers) while its unreaped exit still holds the
    group id (so no other process can have it), and reap it."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    while time.monotonic() < deadline and os.waitid(os.P_PID, process.pid, flags) is None:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@dataclass(frozen=True)
class Launch:
    """How the server process is started beyond its own command line (the bench pins it to a
    CPU and keeps its output aside): the defaults are what the tests use."""

    prefix: Sequence[str] = ()  # run the command under this, e.g. ("taskset", "-c", "1")
    log: Path | None = None  # the server's stdout and stderr go to this file, else to ours
    inherit_env: bool = True  # False: `env` is the whole environment (plus PYTHONPATH)


@contextmanager
def _serve(
    command: list[str],
    port: int,
    env: Mapping[str, str] | None,
    *,
    own_group: bool = False,
    launch: Launch = Launch(),
) -> Iterator[Server]:
    """`own_group`: the server leads a process group of its own, all of which is stopped."""
    inherited = os.environ if launch.inherit_env else {}
    full_env = {**inherited, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})}
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(launch.log.open("ab")) if launch.log is not None else None
        process = subprocess.Popen(
            [*launch.prefix, *command],
            cwd=PROJECT_ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
            start_new_session=own_group,
        )
    try:
        _wait_until_accepting(process, port)
        yield Server(url=f"http://127.0.0.1:{port}", pid=process.pid, port=port)
    finally:
        if own_group:
            _stop_group(process)
        elif process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def serve_gunicorn(
    app_ref: str,
    *extra_args: str,
    env: Mapping[str, str] | None = None,
    launch: Launch = Launch(),
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
    with _serve(command, port, env, launch=launch) as server:
        yield server


@contextmanager
def serve_uvicorn(
    app_ref: str,
    *extra_args: str,
    env: Mapping[str, str] | None = None,
    workers: int = 1,
    launch: Launch = Launch(),
) -> Iterator[Server]:
    """An ASGI app (`module:attr`) on one uvicorn worker (`workers=N`: N worker processes under
    uvicorn's supervisor, `Server.pid`; all are stopped on the way out), never trusting proxy
    headers unless `--proxy-headers` is passed.

    With several workers the port accepts before they have started: a request waits for one."""
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
    if workers != 1:
        command += ["--workers", str(workers)]
    with _serve(command, port, env, own_group=workers != 1, launch=launch) as server:
        yield server


class PinnedConnection:
    """One keep-alive HTTP/1.1 connection to a server, so every request on it is served by the
    same worker process: `pid`, as the JSON `{"pid": ...}` at `pid_path` said when it opened.
    It never reconnects behind the caller's back (a closed connection raises)."""

    def __init__(self, url: str, pid_path: str, timeout: float = 10.0) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self._connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        self._connection.connect()
        self._connection.auto_open = 0  # raise NotConnected, never reconnect
        try:
            status, _, body = self.get(pid_path)
            if status != 200:
                raise RuntimeError(f"{pid_path} answered {status}: {body!r}")
            self.pid: int = json.loads(body)["pid"]
        except BaseException:
            self.close()
            raise

    def get(
        self, path: str, headers: Mapping[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """GET `path` on this connection: status, headers, body."""
        self._connection.request("GET", path, headers=dict(headers or {}))
        response = self._connection.getresponse()
        body = response.read()
        if response.will_close:
            self.close()  # the next request raises instead of reaching another worker
        return response.status, response.headers, body

    def close(self) -> None:
        self._connection.close()


def pin_workers(
    url: str, count: int, pid_path: str, timeout: float = 30.0
) -> list[PinnedConnection]:
    """A connection pinned to each of the `count` worker processes behind `url`, opening
    connections (kept open meanwhile, so the kernel hands new ones elsewhere too) until that
    many distinct pids have answered; the extra connections are closed."""
    pinned: dict[int, PinnedConnection] = {}
    extra: list[PinnedConnection] = []
    deadline = time.monotonic() + timeout
    try:
        while len(pinned) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only pids {sorted(pinned)} answered at {url} within {timeout}s, "
                    f"not {count} processes"
                )
            connection = PinnedConnection(url, pid_path)
            if connection.pid in pinned:
                extra.append(connection)
            else:
                pinned[connection.pid] = connection
    except BaseException:
        for connection in pinned.values():
            connection.close()
        raise
    finally:
        for connection in extra:
            connection.close()
    return list(pinned.values())
