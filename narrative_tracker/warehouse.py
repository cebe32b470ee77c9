"""Where the tables live: one warehouse setting, three forms.

=============================================  =======================================================
``data/narratives.duckdb`` (default)           one DuckDB file: one writing process, analysts read the
                                               published copy (``db.publish``). Unchanged behaviour.
``ducklake:data/lake.ducklake``                DuckLake with a DuckDB-file catalog: Parquet files next to
                                               it (``lake.ducklake.files/``); one process at a time.
``ducklake:postgres:dbname=lake host=... ``    DuckLake with its catalog in PostgreSQL and the Parquet
                                               files under the data path (``NARRATIVES_LAKE_DATA_PATH``:
                                               a shared folder or ``s3://...`` via httpfs): many writers
                                               (one per range of days), readers never wait.
=============================================  =======================================================

One function, :func:`open_lake`, connects: an in-memory DuckDB, the ``ducklake`` (and ``postgres_scanner``)
extension loaded **by file path from the installed wheels** (``duckdb-extension-ducklake``,
``duckdb-extension-postgres-scanner``; ``INSTALL`` from the network is never attempted), the lake ATTACHed
as ``lake`` and made the default (``USE lake``), so every query of ``sql/`` runs unchanged on every backend.

The one helper for writes that may race another worker is :func:`retrying` (used by ``db.overwrite``):
DuckLake resolves most concurrent commits itself, but two transactions that delete from the same table
conflict ("another transaction has deleted from it"); the whole transaction is then rolled back and run
again after an exponential backoff. The stages' writes are delete-the-range-then-insert, so a rerun is
idempotent.
"""

from __future__ import annotations

import importlib.util
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb

LAKE_ALIAS = "lake"
EXTENSION_WHEELS = {"ducklake": "duckdb_extension_ducklake", "postgres_scanner": "duckdb_extension_postgres_scanner"}
EXTENSION_PINS = {"ducklake": "duckdb-extension-ducklake", "postgres_scanner": "duckdb-extension-postgres-scanner"}

T = TypeVar("T")


class WarehouseError(RuntimeError):
    """The warehouse setting is malformed, its server cannot be reached, or an extension wheel is missing."""


class WarehouseNotSetUp(WarehouseError):
    """A DuckLake warehouse whose tables have not been created yet (run the setup step first)."""


@dataclass(frozen=True)
class Warehouse:
    """A parsed warehouse setting."""

    url: str  # as given
    kind: str  # 'duckdb' | 'ducklake-file' | 'ducklake-postgres'
    location: str  # DuckDB file path, DuckLake catalog file, or PostgreSQL connection string
    data_path: str | None = None  # DuckLake DATA_PATH (None: the catalog's own / DuckLake's default)

    @property
    def is_lake(self) -> bool:
        return self.kind != "duckdb"

    @property
    def parallel(self) -> bool:
        """Several processes may write at once (only with the PostgreSQL catalog)."""
        return self.kind == "ducklake-postgres"

    def attach_sql(self, read_only: bool = False, extension_dir: str | None = None) -> str:
        """The statements an analyst pastes into the DuckDB CLI (``duckdb -cmd "..."``) to read the lake."""
        loads = [f"LOAD {sql_string(p)}" for p in extension_paths(self).values()]
        return "; ".join([*loads, attach_statement(self, read_only), f"USE {LAKE_ALIAS}"])

    def describe(self) -> str:
        """The setting without a password, for logs and messages."""
        return re.sub(r"(password\s*=\s*)\S+", r"\1***", self.url, flags=re.IGNORECASE)


_PG_KEYS = {"dbname", "host", "port", "user", "password", "sslmode", "connect_timeout", "hostaddr", "application_name",
            "passfile", "options", "service", "sslrootcert", "sslcert", "sslkey", "target_session_attrs"}


# key=value pairs of a libpq connection string: a value is 'quoted' (no quote or backslash inside) or bare (no quote,
# double quote, backslash or space). Anything else — a quote that would close the ATTACH literal, say — is refused.
_PG_PAIR = re.compile(r"(\w+)\s*=\s*('[^'\\]*'|[^\s'\"\\]+)")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal: quotes doubled; a NUL or control character is refused (it has no place in
    a path or a connection string, and a NUL would cut the statement short)."""
    if _CONTROL.search(value):
        raise WarehouseError("a path or connection string holds a control character: refused")
    return "'" + value.replace("'", "''") + "'"


def parse(url: str | Path, data_path: str | None = None) -> Warehouse:
    """Validate a warehouse setting; a clear :class:`WarehouseError` for anything malformed.

    Strict: every part of a DuckLake setting ends up in an ATTACH statement, which takes no bound parameters, so a
    quote outside a libpq-quoted value, a backslash or a control character anywhere is refused here (and every
    literal is escaped again by ``attach_statement``)."""
    text = str(url).strip()
    if not text:
        raise WarehouseError("the warehouse setting is empty: give a DuckDB file, 'ducklake:<catalog file>' or "
                             "'ducklake:postgres:dbname=... host=...'")
    data_path = (data_path or "").strip() or None
    if _CONTROL.search(text) or _CONTROL.search(data_path or ""):
        raise WarehouseError("the warehouse setting or the lake data path holds a control character: refused")
    if not text.lower().startswith("ducklake:"):
        if "://" in text or text.lower().startswith(("postgres:", "postgresql:", "duckdb:")):
            raise WarehouseError(
                f"unsupported warehouse setting {text!r}: use a DuckDB file path, 'ducklake:<catalog file>' or "
                "'ducklake:postgres:dbname=<db> host=<host> port=<port> user=<user>'"
            )
        return Warehouse(url=text, kind="duckdb", location=text)
    rest = text[len("ducklake:"):].strip()
    if not rest:
        raise WarehouseError("'ducklake:' needs a catalog: 'ducklake:<file>.ducklake' or 'ducklake:postgres:dbname=...'")
    if rest.lower().startswith(("postgres:", "postgresql:")):
        conninfo = rest.split(":", 1)[1].strip()
        pairs = _PG_PAIR.findall(conninfo)
        leftover = _PG_PAIR.sub("", conninfo).strip()
        if not pairs or leftover:
            shown = re.sub(r"(password\s*=\s*)\S+", r"\1***", conninfo, flags=re.IGNORECASE)
            raise WarehouseError(
                f"cannot read the PostgreSQL connection string {shown!r}: "
                "write key=value pairs separated by spaces (a value with spaces in single quotes; no other quote or "
                "backslash), e.g. 'ducklake:postgres:dbname=lake host=127.0.0.1 port=5432 user=narratives'"
            )
        keys = {k.lower() for k, _ in pairs}
        unknown = keys - _PG_KEYS
        if unknown:
            raise WarehouseError(f"unknown PostgreSQL connection keys {sorted(unknown)} in the warehouse setting")
        if "dbname" not in keys:
            raise WarehouseError("the PostgreSQL catalog needs dbname=<database> in the warehouse setting")
        for key, value in pairs:
            if key.lower() == "port" and not value.isdigit():
                raise WarehouseError(f"port must be a number in the warehouse setting, got {value!r}")
        if "'" in (data_path or "") or "\\" in (data_path or ""):
            raise WarehouseError("the lake data path must not contain a single quote or a backslash")
        return Warehouse(url=text, kind="ducklake-postgres", location=conninfo, data_path=data_path)
    if re.match(r"^[a-z]+:", rest, re.IGNORECASE) and not re.match(r"^[a-z]:[\\/]", rest, re.IGNORECASE):
        raise WarehouseError(
            f"unsupported DuckLake catalog {rest.split(':')[0]!r}: this project supports a DuckDB catalog file "
            "('ducklake:<file>.ducklake') and PostgreSQL ('ducklake:postgres:...')"
        )
    if "'" in rest or "'" in (data_path or ""):
        raise WarehouseError("the lake catalog path and data path must not contain a single quote")
    return Warehouse(url=text, kind="ducklake-file", location=rest, data_path=data_path)


def from_setting(url: str | Path) -> Warehouse:
    """Parse ``url`` with the configured lake data path (``Settings.lake_data_path``, NARRATIVES_LAKE_DATA_PATH)."""
    from narrative_tracker.settings import load_settings

    return parse(url, load_settings().lake_data_path)


def is_lake_url(url: str | Path) -> bool:
    return str(url).strip().lower().startswith("ducklake:")


def extension_paths(wh: Warehouse) -> dict[str, str]:
    """``{extension: file}`` of the extensions this warehouse needs, from the installed wheels."""
    names = ["ducklake"] + (["postgres_scanner"] if wh.kind == "ducklake-postgres" else [])
    return {name: str(extension_file(name)) for name in names}


def extension_file(name: str) -> Path:
    """The ``.duckdb_extension`` file shipped by the ``duckdb-extension-<name>`` wheel for this DuckDB version."""
    module = EXTENSION_WHEELS[name]
    spec = importlib.util.find_spec(module)
    hint = f"install it with `pip install {EXTENSION_PINS[name]}=={duckdb.__version__}` (it is in pyproject.toml)"
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError(f"the DuckDB extension {name!r} is not installed: {hint}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}"
    path = folder / f"{name}.duckdb_extension"
    if not path.is_file():
        raise WarehouseError(f"the {EXTENSION_PINS[name]} wheel has no build for DuckDB {duckdb.__version__} ({path}): {hint}")
    return path


def attach_statement(wh: Warehouse, read_only: bool = False) -> str:
    """The ATTACH statement of the lake. DuckDB's ATTACH takes no bound parameters, so the catalog and the data path
    — validated by ``parse`` — go in as escaped literals (``sql_string``), never pasted."""
    target = f"ducklake:postgres:{wh.location}" if wh.kind == "ducklake-postgres" else f"ducklake:{wh.location}"
    options = []
    if wh.data_path:
        options.append(f"DATA_PATH {sql_string(wh.data_path)}")
    if read_only:
        options.append("READ_ONLY")
    return f"ATTACH {sql_string(target)} AS {LAKE_ALIAS}" + (f" ({', '.join(options)})" if options else "")


def open_lake(wh: Warehouse, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as ``lake`` and in use; clear errors when that fails."""
    if not wh.is_lake:
        raise ValueError("open_lake() is for DuckLake settings")
    paths = extension_paths(wh)
    if wh.kind == "ducklake-file" and not read_only:
        Path(wh.location).parent.mkdir(parents=True, exist_ok=True)
    if wh.kind == "ducklake-file" and read_only and not Path(wh.location).exists():
        raise WarehouseNotSetUp(f"no DuckLake catalog at {wh.location}: run `narratives run --db {wh.url}` first")
    if wh.data_path and "://" not in wh.data_path and not read_only:
        Path(wh.data_path).mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    try:
        for name, path in paths.items():
            con.execute(f"LOAD {sql_string(path)}")  # path from the installed wheel (extension_file), not user input
        if any(p.startswith(("s3://", "gs://", "gcs://", "r2://", "az://", "abfss://", "http://", "https://"))
               for p in [wh.data_path or ""]):
            _load_httpfs(con)
        try:
            con.execute(attach_statement(wh, read_only))
        except duckdb.Error as exc:
            raise _attach_error(wh, exc) from exc
        con.execute(f"USE {LAKE_ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


def _load_httpfs(con: duckdb.DuckDBPyConnection) -> None:
    """httpfs (object storage) from the ``duckdb-extension-httpfs`` wheel when it is installed."""
    spec = importlib.util.find_spec("duckdb_extension_httpfs")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError("an object-storage data path needs DuckDB's httpfs extension: "
                             f"pip install duckdb-extension-httpfs=={duckdb.__version__}")
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    con.execute(f"LOAD {sql_string(str(path))}")


def _attach_error(wh: Warehouse, exc: duckdb.Error) -> WarehouseError:
    message = str(exc)
    low = message.lower()
    detail = message.split("Unable to connect to Postgres at", 1)[-1].strip().replace("\n", " ")
    if wh.kind == "ducklake-postgres" and re.search(r'database "[^"]*" does not exist', message):
        return WarehouseError(f"the PostgreSQL catalog database of {wh.describe()} does not exist: create it first "
                              f"(createdb) — {detail}")
    if wh.kind == "ducklake-postgres" and any(s in low for s in ("connection refused", "could not connect", "unable to connect",
                                                               "could not translate host", "timeout expired",
                                                               "connection to server", "no such file or directory")):
        return WarehouseError(f"cannot reach the PostgreSQL catalog of {wh.describe()}: {detail}")
    if "data_path" in low or "data path" in low:
        return WarehouseError(f"{wh.describe()}: a new DuckLake needs a data path (NARRATIVES_LAKE_DATA_PATH) — "
                              f"{message.splitlines()[0]}")
    if "lock" in low:
        return WarehouseError(f"{wh.describe()} is open in another process: a DuckDB-file DuckLake catalog allows one "
                              "process at a time; use the PostgreSQL catalog for concurrent writers and readers")
    return WarehouseError(f"cannot attach {wh.describe()}: {message.splitlines()[0]}")


# ------------------------------------------------------------------------------------------- conflicts
_lock = threading.Lock()
_retries = 0


def conflict_retries() -> int:
    """Transaction conflicts retried in this process so far (benchmarks and asset metadata report it)."""
    return _retries


def is_conflict(exc: BaseException) -> bool:
    """A write-write conflict another attempt can resolve (DuckLake's commit-time check, DuckDB's own)."""
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and any(
        s in text for s in ("conflict", "another transaction", "failed to commit", "could not commit", "concurrent")
    )


def retrying(work: Callable[[], T], *, attempts: int = 10, base_delay: float = 0.05, max_delay: float = 2.0,
             on_retry: Callable[[int, BaseException], None] | None = None) -> T:
    """Run ``work`` (one whole transaction, idempotent) again after a conflict: exponential backoff with jitter."""
    global _retries
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:  # noqa: BLE001 - only conflicts are retried, the rest re-raised
            if not is_conflict(exc) or attempt == attempts:
                raise
            with _lock:
                _retries += 1
            if on_retry:
                on_retry(attempt, exc)
            delay = min(max_delay, base_delay * 2 ** (attempt - 1))
            time.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not cryptography
    raise AssertionError("unreachable")
