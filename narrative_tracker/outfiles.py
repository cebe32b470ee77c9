"""Files the commands write for people (``--out`` of ``report``, ``review``, ``codebook import-semeval``): never a
database, never through a link, always whole.

``check_output`` refuses, with a one-line reason, an ``--out`` that is the database, its write-ahead log, its working
copy (or that one's log), any other DuckDB file, a symbolic link (it could point anywhere, the database included), a
folder, or anything that is not a regular file (a FIFO would block the command). ``write_atomic`` writes to a
temporary file beside the target, flushes it to disk and renames it over the target: a crash, a full disk or a
kill leaves the previous file as it was, never half a file, and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

DUCKDB_MAGIC = b"DUCK"  # bytes 8..11 of every DuckDB database file


class OutputError(ValueError):
    """An ``--out`` the command refuses to write (the message says why and what to do)."""


def _is_duckdb(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(12)[8:12] == DUCKDB_MAGIC
    except OSError:
        return False


def check_output(out: str | os.PathLike, database: str | os.PathLike | None = None) -> Path:
    """``out`` as a path the command may write, else ``OutputError`` (see the module docstring).

    ``database``: the warehouse setting in use; its files (``db.database_files``) are refused by name even
    when they do not exist yet."""
    from narrative_tracker.db import database_files

    path = Path(out)
    if path.is_symlink():
        raise OutputError(f"--out {out} is a symbolic link: give the file itself (a link could point anywhere, "
                          "the database included)")
    if path.is_dir():
        raise OutputError(f"--out {out} is a folder: give a file name inside it")
    real = os.path.realpath(path)
    if database is not None:
        for protected, what in database_files(database):
            if real == os.path.realpath(protected):
                raise OutputError(f"--out {out} is {what}: writing there would destroy it; choose another file")
    if path.exists():
        if not stat.S_ISREG(path.stat().st_mode):
            raise OutputError(f"--out {out} is not a regular file: give a file name")
        if _is_duckdb(path):
            raise OutputError(f"--out {out} is a DuckDB database: writing there would destroy it; choose another file")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # as an ordinary new file would be (mkstemp makes it 0600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself reaches the disk (not possible on every file system)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return path
