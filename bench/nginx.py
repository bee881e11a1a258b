"""The strangler fig as a reverse proxy does it: Debian's nginx (one worker) in front, the
ported paths proxied to uvicorn + FastAPI and everything else to gunicorn + Flask, with
keep-alive connections to both (bench/run.sh installs nginx when it is missing)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.servers import START_TIMEOUT, Server, free_port

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
STOP_TIMEOUT = 10.0


def nginx_binary() -> str | None:
    """nginx on PATH or where Debian puts it, else None."""
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def split_config(port: int, legacy_port: int, new_port: int, new_paths: Sequence[str]) -> str:
    """nginx.conf: `new_paths` (exact) to the new upstream, the rest to the legacy one."""
    proxy = (
        'proxy_http_version 1.1; proxy_set_header Connection ""; '
        "proxy_set_header Host $host; proxy_buffering on;"
    )
    new_locations = "\n".join(
        f"        location = {path} {{ proxy_pass http://new; {proxy} }}" for path in new_paths
    )
    return f"""daemon off;
master_process on;
worker_processes 1;
pid nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    upstream legacy {{ server 127.0.0.1:{legacy_port}; keepalive 32; }}
    upstream new {{ server 127.0.0.1:{new_port}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
{new_locations}
        location / {{ proxy_pass http://legacy; {proxy} }}
    }}
}}
"""


def _wait_until_accepting(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode} before accepting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not accept on port {port} within {START_TIMEOUT}s")


@contextmanager
def serve_nginx_split(
    legacy_port: int,
    new_port: int,
    new_paths: Sequence[str],
    prefix: Sequence[str] = (),
    log: Path | None = None,
) -> Iterator[Server]:
    """nginx on a free loopback port in front of the two servers, run under `prefix` (the
    bench's CPU pinning), its output appended to `log`; stopped on the way out."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError(
            "nginx not found: install it (apt-get install nginx) or run bench/run.sh"
        )
    port = free_port()
    with contextlib.ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cutover-bench-nginx-")))
        (home / "tmp").mkdir()
        home.chmod(0o755)
        (home / "tmp").chmod(0o777)  # the worker may run as nobody
        conf = home / "nginx.conf"
        conf.write_text(split_config(port, legacy_port, new_port, new_paths))
        out = stack.enter_context(log.open("ab")) if log is not None else None
        process = subprocess.Popen(
            [*prefix, binary, "-p", str(home), "-c", str(conf)],
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
        )
        try:
            _wait_until_accepting(process, port)
            yield Server(url=f"http://127.0.0.1:{port}", pid=process.pid, port=port)
        finally:
            if process.poll() is None:
                process.terminate()  # SIGTERM: nginx's fast shutdown, workers included
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
