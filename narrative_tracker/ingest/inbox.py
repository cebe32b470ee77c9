"""The inbox watcher's logic (the Dagster sensor ``inbox`` in ``pipelines/definitions.py`` calls it).

A file is taken when **its content is not yet in ``source_files``** (by SHA-256), whatever its modification
time: files delivered with their original time kept (``cp -p``, ``rsync -a``, ``mv``, ``tar x``, unzip)
are ingested like any other. A file is taken only once it has been **stable for the settle period**: the
same size, modification time and inode seen on two looks at least ``settle_seconds`` apart, so a file
still being written is not read half-way (it is taken whole once the writer has finished).

State between looks (the sensor's cursor, JSON): per path the signature seen, since when, and the content
hash once computed (a file is hashed again only when its signature changes); and the content hashes
already requested, so a file is not requested again while its ingest has not yet been published. A
request not visible in the published database after ``retry_seconds`` is made again (ingest skips what
it already has, so a repeat adds nothing).

Paths that are never read (links out of the inbox, FIFOs and devices, files over the cap) are passed to
the ingest once per signature; the ingest quarantines them with the reason, unread. Hidden files, READMEs
and links to folders are left to a whole-folder ingest, which lists them as skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from narrative_tracker.ingest.inputs import Refused, check_input, walk_inputs

DEFAULT_SETTLE_SECONDS = 60.0
DEFAULT_RETRY_SECONDS = 6 * 3600.0


def clock() -> float:
    """The sensor's notion of now (seconds since the epoch); the soak benchmark replaces it to simulate nights."""
    return time.time()


@dataclass
class InboxScan:
    """The outcome of one look at the inbox."""

    take: list[str] = field(default_factory=list)  # paths to ingest now
    waiting: list[str] = field(default_factory=list)  # new or changed, not yet stable for the settle period
    known: int = 0  # stable files whose content is already ingested or requested
    cursor: str = ""  # the state to keep for the next look

    @property
    def run_key(self) -> str:
        # a name that is not UTF-8 arrives with surrogate escapes (os.fsdecode): hashed by its bytes, never an error
        names = b"\n".join(os.fsencode(p) for p in sorted(self.take))
        return "inbox-" + hashlib.sha256(names + self.cursor.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _sha256(path: str, limit: int) -> str | None:
    """The content hash, reading through a guarded file descriptor (``None`` when it cannot be read)."""
    h = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        total = 0
        while chunk := os.read(fd, 1 << 20):
            h.update(chunk)
            total += len(chunk)
            if total > limit:
                return None
    except OSError:
        return None
    finally:
        os.close(fd)
    return h.hexdigest()


def scan_inbox(folder: str | os.PathLike, cursor: str | None, now: float, known_shas: Callable[[Iterable[str]], set[str]],
               settle_seconds: float = DEFAULT_SETTLE_SECONDS, max_bytes: int = 50 * 1024 * 1024,
               retry_seconds: float = DEFAULT_RETRY_SECONDS) -> InboxScan:
    """Look at ``folder`` once. ``known_shas(shas)`` returns those of ``shas`` already in ``source_files``."""
    state = json.loads(cursor) if cursor else {}
    if not isinstance(state, dict) or "files" not in state:  # an old cursor (a bare mtime) or none
        state = {"files": {}, "requested": {}}
    files: dict[str, list] = state["files"]
    requested: dict[str, float] = state["requested"]
    scan = InboxScan()
    current: dict[str, list] = {}
    stable: list[tuple[str, str]] = []  # (path, key): key is the content hash, or the refusal and signature
    for entry in walk_inputs([folder]):
        if entry.skip:
            continue
        path = str(entry.path)
        try:
            st = os.lstat(path)
        except OSError:
            continue  # gone since the listing
        signature = [st.st_size, st.st_mtime_ns, st.st_ino]
        before = files.get(path)
        if before and before[0] == signature:
            since, sha = before[1], before[2]
        else:
            since, sha = now, None
        current[path] = [signature, since, sha]
        if now - since < settle_seconds:
            scan.waiting.append(path)
            continue
        checked = check_input(entry, max_bytes)
        if isinstance(checked, Refused):
            stable.append((path, f"refused:{checked.reason}:{path}:{signature}"))
            continue
        if sha is None:
            sha = _sha256(checked[0], max_bytes)
            if sha is None:
                stable.append((path, f"refused:unreadable:{path}:{signature}"))
                continue
            current[path][2] = sha
        stable.append((path, sha))
    shas = {key for _, key in stable if not key.startswith("refused:")}
    in_db = known_shas(sorted(shas | {k for k in requested if not k.startswith("refused:")})) if shas or requested else set()
    requested = {k: t for k, t in requested.items() if k not in in_db and now - t < retry_seconds}
    taken_keys: set[str] = set()
    for path, key in stable:
        if key in in_db or key in requested:
            scan.known += 1
        elif key in taken_keys:
            scan.take.append(path)  # same content twice in one delivery: the ingest counts the copy as unchanged
        else:
            taken_keys.add(key)
            scan.take.append(path)
    for key in taken_keys:
        requested[key] = now
    scan.cursor = json.dumps({"files": current, "requested": requested}, sort_keys=True)
    return scan


def published_source_shas(db_path: str | os.PathLike) -> Callable[[Iterable[str]], set[str]]:
    """``known_shas`` for ``scan_inbox``, reading the published database (never the working file, which a
    running ingest holds; an open read-only session would block it)."""

    def known(shas: Iterable[str]) -> set[str]:
        shas = list(shas)
        if not shas or not Path(db_path).exists():
            return set()
        from narrative_tracker import db

        with db.connection(db_path, read_only=True) as con:
            if not db.table_exists(con, "source_files"):
                return set()
            rows = con.execute(db.query("known_source_shas"), {"shas": shas}).fetchall()
        return {r[0] for r in rows}

    return known
