"""A throwaway PostgreSQL cluster of a test's own, to stop and start under a running server."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import free_port

START_TIMEOUT_SECONDS = 60
# The server runs as this OS user when the tests run as root, since initdb refuses root.
SERVER_USER = "postgres"


def find_bin_dir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: `PG_BIN`, else Debian's newest."""
    candidates = [os.environ.get("PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major_version, reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(initdb).parent))
    for candidate in filter(None, candidates):
        path = Path(candidate)
        if all((path / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return path
    return None


def _major_version(bin_dir: str) -> int:
    version = Path(bin_dir).parent.name
    return int(version) if version.isdigit() else 0


class Cluster:
    """One initdb'd data directory with trust auth, on its own loopback port and socket dir."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data_dir = root / "data"
        self.log_file = root / "server.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        return subprocess.run(
            command, check=check, capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS
        )

    def init(self) -> None:
        """initdb with trust auth for the `postgres` role; fsync off, it is thrown away."""
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c full_page_writes=off"
        )
        data, log, timeout = str(self.data_dir), str(self.log_file), str(START_TIMEOUT_SECONDS)
        self._run("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", timeout, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop and wait until the server has exited (`fast` disconnects every client)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


@contextmanager
def throwaway_cluster(bin_dir: Path) -> Iterator[Cluster]:
    """A started cluster in a fresh temporary directory; stopped and deleted on the way out."""
    root = Path(tempfile.mkdtemp(prefix="cutover-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(root, user=SERVER_USER)
        cluster = Cluster(bin_dir, root)
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.is_running():
                cluster.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)
