"""A throwaway PostgreSQL cluster for tests, ``make demo-lake`` and the benchmark (not for production).

Debian's ``postgresql`` package (``apt-get install postgresql``; the Makefile installs it when missing) puts
``initdb`` / ``pg_ctl`` under ``/usr/lib/postgresql/<version>/bin``. The cluster is made for speed, not
durability: ``initdb --no-sync``, ``fsync=off``, ``synchronous_commit=off``, listening on 127.0.0.1 at a free
port with its socket in the cluster folder; it starts in well under a second. PostgreSQL refuses to run as
root, so as root the commands run as the ``postgres`` user (``runuser -u postgres``).

    with pg_cluster.running(Path("/tmp/pg")) as pg:
        url = f"ducklake:postgres:{pg.conninfo('lake')}"
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class PostgresNotInstalled(RuntimeError):
    pass


def bin_dir() -> Path:
    """The folder with ``initdb`` and ``pg_ctl`` (newest Debian version, else the PATH)."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PostgresNotInstalled("PostgreSQL is not installed: `apt-get install -y postgresql` (the Makefile does it for `make test`)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    user: str = "postgres"

    def conninfo(self, dbname: str) -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user={self.user}"

    def createdb(self, name: str) -> None:
        _run([str(bin_dir() / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name], as_owner=False)

    def stop(self) -> None:
        _run([str(bin_dir() / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"], check=False)


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _run(cmd: list[str], check: bool = True, as_owner: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(_as_owner(cmd) if as_owner else cmd, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def start(folder: Path, port: int | None = None) -> Cluster:
    """initdb (when ``folder/data`` is new) and start a cluster; returns it running."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        for parent in folder.parents:  # the postgres user must be able to reach the folder
            if parent == Path("/"):
                break
            if not os.access(parent, os.X_OK) or (parent.stat().st_mode & 0o001) == 0:
                os.chmod(parent, parent.stat().st_mode | 0o001)
    binaries = bin_dir()
    data = folder / "data"
    if not (data / "PG_VERSION").exists():
        _run([str(binaries / "initdb"), "--no-sync", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    port = port or free_port()
    options = (f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c listen_addresses=127.0.0.1 "
               f"-p {port} -k {folder} -c max_connections=200")
    _run([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "postgres.log"), "-w", "-t", "30", "start"])
    return Cluster(folder=folder, port=port)


@contextlib.contextmanager
def running(folder: Path, port: int | None = None) -> Iterator[Cluster]:
    cluster = start(folder, port)
    try:
        yield cluster
    finally:
        cluster.stop()
