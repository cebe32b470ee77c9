"""DuckDB access: opening the database (working and published files, DuckLake), named queries, transactions.

Creating and migrating the tables is ``narrative_tracker.schema``.

All SQL lives in ``.sql`` files (``sql/schema/*.sql`` for tables, ``sql/queries/*.sql`` for
statements) and takes values through DuckDB parameters (``$name``). The single exception is
the embedding dimension in ``paragraph_embeddings`` (a fixed-size ``FLOAT[dim]`` column),
filled in from a checked ``int``.

**Working and published files.** DuckDB allows one process to hold a file for writing, and a process
holding it read-only blocks writers too. So the pipeline never writes the file analysts open: it writes a
*working* file next to it (``narratives.work.duckdb`` for ``narratives.duckdb``) and, at the end of a run,
*publishes* it — checkpoint, copy to a temporary name, atomic ``os.replace`` onto the published path. An
analyst's open session keeps reading the snapshot it opened (the old file stays alive until closed); the
next session sees the new one. A crash at any point leaves the published file whole. ``connect(path)``
opens the working file for writing (adopting the published file the first time); ``connect(path,
read_only=True)`` opens the published file.

**DuckLake.** ``path`` may also be a DuckLake setting (``ducklake:<catalog file>`` or
``ducklake:postgres:dbname=...``, see ``narrative_tracker.warehouse``): ``connect`` then attaches the lake and
``USE``s it, so the same SQL runs. There is nothing to publish (every commit is a snapshot readers see whole),
and the tables are created once by :func:`setup`, never by a stage that may run beside another. DuckLake has no
PRIMARY KEY / UNIQUE constraints and no fixed-size arrays: :func:`lake_ddl` drops the constraints and stores
``FLOAT[dim]`` as ``FLOAT[]``; every write is backend-neutral SQL (anti-joins and delete-then-insert, never
``ON CONFLICT``), so the DuckDB file keeps its keys as a guard and behaves as before.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from narrative_tracker import warehouse
from narrative_tracker.settings import DEFAULT_DB

class DatabaseLockedError(RuntimeError):
    """Another process holds the DuckDB file open for writing."""


def sql_dir() -> Path:
    """The ``sql/`` folder: next to the package in a checkout, inside it in a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "sql", here.parent / "sql"):
        if (candidate / "schema").is_dir():
            return candidate
    raise FileNotFoundError("cannot find the sql/ folder with schema/ and queries/")


@functools.lru_cache(maxsize=None)
def query(name: str) -> str:
    """The text of ``sql/queries/<name>.sql``."""
    return (sql_dir() / "queries" / f"{name}.sql").read_text(encoding="utf-8")


def _without_comment(line: str) -> str:
    """``line`` without its ``--`` comment (a ``--`` inside a quoted literal is kept)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif line.startswith("--", i):
            return line[:i].rstrip()
    return line


def statements(sql: str) -> list[str]:
    """Split a query file into statements (on ``;`` at a line end; our files keep ``;`` out of literals). Comments
    go first, so a comment that ends in ``;`` (a column's note inside a CREATE TABLE) does not cut its statement."""
    parts = re.split(r";\s*(?:\n|$)", "\n".join(_without_comment(line) for line in sql.splitlines()))
    return [body for body in ("\n".join(line for line in part.splitlines() if line.strip()).strip() for part in parts) if body]


def run_script(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run every statement of ``sql/queries/<name>.sql``, each with the parameters it names."""
    params = params or {}
    for statement in statements(query(name)):
        used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", statement)}
        con.execute(statement, used)


def working_path(path: str | os.PathLike) -> Path:
    """The file the pipeline writes for the published database ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.work{path.suffix or '.duckdb'}")


def database_files(path: str | os.PathLike) -> list[tuple[Path, str]]:
    """``(file, what it is)`` for every local file of the warehouse ``path``: the published DuckDB file, the
    working copy, their write-ahead logs and the publishing temporary; a DuckLake catalog file and its log. A
    command never writes a file for people over one of these (``narrative_tracker.outfiles``)."""
    if warehouse.is_lake_url(path):
        wh = warehouse.from_setting(path)
        if wh.kind != "ducklake-file":
            return []
        catalog = Path(wh.location)
        return [(catalog, "the DuckLake catalog"), (catalog.with_name(catalog.name + ".wal"), "the DuckLake catalog's write-ahead log")]
    path = Path(path)
    work = working_path(path)
    return [(path, "the database"), (path.with_name(path.name + ".wal"), "the database's write-ahead log"),
            (work, "the database's working copy"), (work.with_name(work.name + ".wal"), "the working copy's write-ahead log"),
            (path.with_name(f".{path.name}.publishing"), "the database being published")]


def publish(path: str | os.PathLike) -> Path | None:
    """Atomically replace the published file ``path`` with a checkpointed copy of its working file.

    A DuckLake has nothing to publish (readers see every committed snapshot): returns None."""
    if warehouse.is_lake_url(path):
        return None
    path = Path(path)
    work = working_path(path)
    if not work.exists():
        raise FileNotFoundError(f"nothing to publish: {work} does not exist")
    with open_duckdb(work) as con:
        con.execute("CHECKPOINT")
    tmp = path.with_name(f".{path.name}.publishing")
    shutil.copyfile(work, tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def _published_of(path: Path) -> Path:
    stem = path.stem
    return path.with_name(f"{stem[:-5]}{path.suffix}") if stem.endswith(".work") else path


def open_duckdb(path: str | os.PathLike, read_only: bool = False, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, with a lock held by another process turned into ``DatabaseLockedError``: which file,
    who holds it (as DuckDB says), and what to do. Nothing has been written when it is raised."""
    path = Path(path)
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config or {})
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        holder = re.search(r"held in (\S+) \(PID (\d+)\)", str(exc))
        published = _published_of(path)
        raise DatabaseLockedError(
            f"{path} is locked by another process{f' (PID {holder.group(2)}, {holder.group(1)})' if holder else ''}. "
            + (f"It is the working file of {published}: another pipeline run or command is writing it, or a session "
               "opened it. Wait for that run to finish (or stop it, or close that session) and run the command again. "
               if path != published else
               f"A process opened the published database for writing (an analyst's `duckdb {path}` without -readonly?). "
               "Close that session, or open it read-only (`duckdb -readonly`), and run the command again. ")
            + f"The published copy {published} is unchanged; analysts reading it never block a run."
        ) from exc


def connect(path: str | os.PathLike = DEFAULT_DB, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database: the published file read-only, or the working file for writing (tables created,
    an existing published file adopted the first time). A DuckLake setting attaches the lake instead."""
    if warehouse.is_lake_url(path):
        return _connect_lake(warehouse.from_setting(path), read_only)
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        work = working_path(path)
        if not work.exists() and path.exists():
            shutil.copyfile(path, work)
        path = work
    con = open_duckdb(path, read_only=read_only)
    if not read_only:
        from narrative_tracker.schema import apply_schema  # (schema imports this module)

        apply_schema(con)
    return con


# Analyst SQL (``narratives sql``) runs with these: no file outside the database can be read or written
# (COPY TO, read_text / read_csv, ATTACH, EXPORT, INSTALL / LOAD), and the statement cannot switch them back.
SANDBOX_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


def connect_sandboxed(path: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """The published database read-only, with external file access disabled (``SANDBOX_CONFIG``).

    On DuckLake the lake is attached read-only first; then only its data path stays readable
    (``allowed_directories``) and the same settings are locked."""
    if not warehouse.is_lake_url(path):
        return open_duckdb(path, read_only=True, config=SANDBOX_CONFIG)
    con = connect(path, read_only=True)
    try:
        data_path = con.execute("SELECT value FROM lake.options() WHERE option_name = 'data_path'").fetchone()
        con.execute("SET allowed_directories = $dirs", {"dirs": [data_path[0]] if data_path and data_path[0] else []})
        for name in ("autoinstall_known_extensions", "autoload_known_extensions", "enable_external_access"):
            con.execute(f"SET {name} = false")  # fixed names
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


@contextlib.contextmanager
def connection(path: str | os.PathLike = DEFAULT_DB, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def _connect_lake(wh: warehouse.Warehouse, read_only: bool) -> duckdb.DuckDBPyConnection:
    con = warehouse.open_lake(wh, read_only=read_only)
    if not table_exists(con, "pipeline_meta"):
        con.close()
        raise warehouse.WarehouseNotSetUp(
            f"{wh.describe()} has no narrative-tracker tables yet: run `narratives setup --db '{wh.url}'` "
            "(`narratives run` and the ingest asset do it first)"
        )
    return con


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the connection's default catalog is a DuckLake."""
    row = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return bool(row) and row[0] == "ducklake"


def overwrite(con: duckdb.DuckDBPyConnection, work, *, attempts: int = 10):
    """The one helper for writes: ``work()`` in one transaction; on a transaction conflict (a concurrent worker
    on a shared DuckLake) it is rolled back and run again after a backoff. ``work`` must be idempotent — the
    stages delete their range and insert it again — so a retry never duplicates rows."""

    def attempt():
        with transaction(con):
            return work()

    return warehouse.retrying(attempt, attempts=attempts)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str, replace: bool = True) -> None:
    """Write ``pipeline_meta[key]`` (``replace=False``: only when absent), on every backend."""
    run_script(con, "set_meta", {"key": key, "value": value, "replace": replace})


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main' "
            "AND table_name = $n",
            {"n": name},
        ).fetchone()[0]
    )


@contextlib.contextmanager
def staged(con: duckdb.DuckDBPyConnection, **frames) -> Iterator[None]:
    """Make DataFrames visible to SQL under the given names (``staged_*`` in the query files) for the block."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on any error: a stage's write lands whole or not at all."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
