"""Settings: the one module that reads environment variables.

Every setting is a field of the frozen dataclass ``Settings``; ``load_settings()`` fills it from the
environment (or from a mapping given to it, e.g. in tests). The Dagster resources and assets, the CLI, the
codebook loader and the embedder receive these values as arguments; no other module reads ``os.environ``.

To add a setting: add one field with ``setting(ENV_NAME, default, doc)``. ``load_settings`` parses the
variable by the field's type (``str``, ``int``, ``float``, ``bool``, ``Path``, ``tuple[str, ...]`` split on
``os.pathsep``, ``datetime.date`` as YYYY-MM-DD, or ``X | None`` of these where an empty variable means ``None``), and ``settings_table()``
renders the reference in docs/ from the same declarations (a test keeps the docs in step).

=======================  ==========================================================================
variable                 meaning
=======================  ==========================================================================
NARRATIVES_DB            published DuckDB file (the working copy ``*.work.duckdb`` sits beside it) or a DuckLake URL
NARRATIVES_MODEL         model name or local sentence-transformers folder; empty: the bundled all-MiniLM-L6-v2
NARRATIVES_DEVICE        torch device of the embedding model (cpu)
NARRATIVES_PRECISION     embedding precision: auto, bf16 or fp32
NARRATIVES_CODEBOOK      codebook YAML; empty: the bundled codebook
NARRATIVES_HEADS         trained narrative heads (file/folder); none: similarity only; empty: the shipped ones, if any
NARRATIVES_STANCE_MODEL  pair model deciding candidates and stance (folder); none: detector + frozen-feature stance; empty: shipped
NARRATIVES_INPUT         files/folders to ingest (``os.pathsep``-separated); empty: a scheduled run fails
NARRATIVES_INBOX         folder the ``inbox`` sensor watches; empty: the sensor skips
NARRATIVES_INBOX_SETTLE_SECONDS  seconds an inbox file must stay unchanged before it is ingested (60)
NARRATIVES_MAX_FILE_MB   input files larger than this are quarantined unread (50)
NARRATIVES_MAX_CONCURRENT  DuckLake on PostgreSQL: steps at once (2)
NARRATIVES_LAKE_DATA_PATH  DuckLake: where the Parquet files go
NARRATIVES_LAKE_RETENTION_DAYS  DuckLake: snapshot retention of the weekly maintenance (7)
NARRATIVES_PARTITIONS_START  first day of the daily partitions; unset: the earliest day the database holds
NARRATIVES_REPORT_DIR    folder of the report the Dagster asset ``daily_report`` writes; unset: beside the database
NARRATIVES_PROGRESS      1: progress bars on stderr (the CLI sets it on a terminal)
DAGSTER_HOME             Dagster instance folder; unset: the CLI records runs beside the database (``<db>.dagster/``)
=======================  ==========================================================================

The table above is a summary; the authoritative list is ``settings_table()`` (rendered into docs/).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def bundled(checkout_path: str, package_path: str) -> Path:
    """A file the project ships: at ``checkout_path`` in a checkout (editable install), else at ``package_path``
    inside the installed package (a wheel carries ``sql/``, the codebook and the labelled set as package data,
    see pyproject.toml)."""
    in_checkout = REPO_DIR / checkout_path
    return in_checkout if in_checkout.exists() else PACKAGE_DIR / package_path


DEFAULT_DB = "data/narratives.duckdb"
DEFAULT_CODEBOOK = bundled("codebook/narratives.yaml", "codebook/narratives.yaml")
DEFAULT_LABELLED = bundled("tests/labelled/paragraphs.csv", "labelled/paragraphs.csv")

# Hugging Face / transformers switches set (if unset) before a model is loaded: never reach the network.
LIBRARY_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def setting(env: str, default, doc: str):
    """Declare a settings field read from the environment variable ``env``."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple for sequence defaults (Settings is frozen)")
    return dataclasses.field(default=default, metadata={"env": env, "doc": doc})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every setting of the pipeline, with its default. Build with ``load_settings()``."""

    db: str = setting("NARRATIVES_DB", DEFAULT_DB,
                      "Published DuckDB file analysts open (the pipeline writes `<name>.work.duckdb` beside it and publishes it "
                      "at the end of a run), or a DuckLake: `ducklake:<catalog>.ducklake` / `ducklake:postgres:dbname=... host=...` (docs/deploy.md).")
    model: str = setting("NARRATIVES_MODEL", "",
                         "Embedding model: `all-MiniLM-L6-v2` (bundled, English), `use-multilingual-v3` (16 languages) or a local "
                         "sentence-transformers folder; empty: all-MiniLM-L6-v2.")
    device: str = setting("NARRATIVES_DEVICE", "cpu", "torch device of the embedding model: `cpu`, `cuda`, ...")
    precision: str = setting("NARRATIVES_PRECISION", "auto",
                             "Embedding precision: `auto` (bf16 where the CPU has AMX / AVX-512 BF16, else fp32), `bf16` or `fp32`.")
    codebook: Path = setting("NARRATIVES_CODEBOOK", DEFAULT_CODEBOOK,
                             "Codebook YAML of the narratives tracked by name; default: the bundled codebook.")
    heads: str = setting("NARRATIVES_HEADS", "",
                         "Trained narrative heads (`narratives train`): a `heads-<model>.json` file or a folder holding one for "
                         "the embedding model; `none`: the codebook similarity detector only; empty: the shipped heads for the "
                         "model when there are some (`narrative_tracker/narratives/heads_artifact/`), else the similarity detector.")
    stance_model: str = setting("NARRATIVES_STANCE_MODEL", "",
                                "Pair model that decides each candidate (paragraph, codebook narrative) pair and its stance "
                                "(`narratives train-stance`): a folder holding `pair_model.json`; empty: the shipped one "
                                "(`narrative_tracker/narratives/pair_artifact/`); `none`: no pair model — the detector's own "
                                "decision with the frozen-feature stance model (the behaviour before the pair model).")
    inputs: tuple[str, ...] = setting("NARRATIVES_INPUT", (),
                                      "Files and folders the `ingest` asset reads (separated by `os.pathsep`, `:` on Linux); unset: a scheduled run fails, saying so (the bundled sample is read only when named).")
    inbox: Path | None = setting("NARRATIVES_INBOX", None,
                                 "Folder the `inbox` sensor watches for new files; unset: the sensor skips.")
    inbox_settle_seconds: float = setting("NARRATIVES_INBOX_SETTLE_SECONDS", 60.0,
                                          "Seconds a file in the inbox must stay unchanged before the sensor ingests it.")
    max_file_mb: float = setting("NARRATIVES_MAX_FILE_MB", 50.0,
                                 "Input files larger than this (MB) are quarantined unread.")
    max_concurrent: int = setting("NARRATIVES_MAX_CONCURRENT", 2,
                                  "DuckLake with a PostgreSQL catalog: steps run at once by the multiprocess executor.")
    lake_data_path: str | None = setting("NARRATIVES_LAKE_DATA_PATH", None,
                                         "DuckLake: folder (or object-store prefix) of the Parquet data files; unset: beside the catalog.")
    lake_retention_days: int = setting("NARRATIVES_LAKE_RETENTION_DAYS", 7,
                                       "DuckLake: snapshots kept (time travel) this many days by the weekly maintenance.")
    partitions_start: dt.date | None = setting(
        "NARRATIVES_PARTITIONS_START", None,
        "First day (YYYY-MM-DD) of the daily partitions the Dagster UI offers. Unset: the earliest publication day the "
        "database holds, read when the code location loads (2000-01-01 while it holds none; reload the code location "
        "after the first ingest). Days before it are not processed (`narratives run` says how many articles that leaves out).")
    report_dir: Path | None = setting(
        "NARRATIVES_REPORT_DIR", None,
        "Folder the `daily_report` asset writes `report-<day>.html` into (after every publish in the UI). Unset: "
        "`<database>.reports/` beside the database file (or the DuckLake catalog file); on a DuckLake with a PostgreSQL "
        "catalog set it, or the asset writes nothing and says so.")
    progress: bool = setting("NARRATIVES_PROGRESS", False,
                             "`1`: progress bars on stderr for long stages (the CLI turns them on when stderr is a terminal).")
    run_history: str = setting("NARRATIVES_RUN_HISTORY", "beside",
                               "Where `narratives run` records its Dagster runs when DAGSTER_HOME is unset: `beside` (a "
                               "`<db>.dagster/` folder next to the database) or `none` (an in-memory instance, nothing "
                               "recorded; the test suite uses it).")
    dagster_home: Path | None = setting("DAGSTER_HOME", None,
                                        "Dagster instance folder (run history, partitions). Unset: `narratives run` records its runs in a "
                                        "folder beside the database (`data/x.duckdb` -> `data/x.dagster/`); `make dev` and `make demo` set it.")

    def replace(self, **changes) -> Settings:
        """A copy with some fields changed; ``None`` values are ignored (an option not given on the CLI).

        Strings are parsed like the environment variable of the field (``"x.duckdb"`` becomes a ``Path``)."""
        hints = typing.get_type_hints(Settings)
        return dataclasses.replace(self, **{k: _parse(v, hints[k], k) if isinstance(v, str) and v else v
                                            for k, v in changes.items() if v is not None})


class SettingsError(ValueError):
    """An environment variable holds a value its setting cannot take."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse(raw: str, kind, env: str):
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)][0]
        return _parse(raw, inner, env)
    if typing.get_origin(kind) is tuple:
        return tuple(p for p in raw.split(os.pathsep) if p)
    if kind is bool:
        low = raw.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise SettingsError(f"{env}={raw!r}: expected 1/0, true/false, yes/no or on/off")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise SettingsError(f"{env}={raw!r}: expected a number") from None
    if kind is Path:
        return Path(raw)
    if kind is dt.date:
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise SettingsError(f"{env}={raw!r}: expected a date as YYYY-MM-DD") from None
    return raw


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``environ`` (default: the process environment); unset or empty variables keep the default."""
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(Settings)
    values = {}
    for f in dataclasses.fields(Settings):
        raw = environ.get(f.metadata["env"])
        if raw:  # unset or empty: keep the default
            values[f.name] = _parse(raw, hints[f.name], f.metadata["env"])
    return Settings(**values)


def settings_table() -> str:
    """The Markdown reference of every setting: variable, default, meaning (docs/ embeds it)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(Settings):
        default = f.default
        if isinstance(default, tuple):
            default = os.pathsep.join(str(Path(d).relative_to(REPO_DIR)) if Path(d).is_relative_to(REPO_DIR) else d
                                      for d in default)
        if isinstance(default, Path) and default.is_absolute():
            try:
                default = default.relative_to(REPO_DIR)
            except ValueError:
                pass
        shown = ("(unset)" if default is None else "(empty)" if default == "" else
                 f"`{int(default)}`" if isinstance(default, bool) else f"`{default}`")
        rows.append(f"| `{f.metadata['env']}` | {shown} | {f.metadata['doc']} |")
    return "\n".join(rows)


def apply_library_defaults(environ: typing.MutableMapping[str, str] | None = None) -> None:
    """Set the offline switches of the Hugging Face libraries (``LIBRARY_DEFAULTS``) unless already set."""
    environ = os.environ if environ is None else environ
    for key, value in LIBRARY_DEFAULTS.items():
        environ.setdefault(key, value)


# Dagster switches `narratives run` and `make dev` set (if unset). DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS:
# a run over a range of days records one "planned" event per asset instead of one per asset and day, halving what
# a range records (docs/dagster.md: the cost is that a failed range run leaves its days "missing", not "failed").
DAGSTER_DEFAULTS = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1"}


def apply_dagster_defaults(environ: typing.MutableMapping[str, str] | None = None) -> None:
    """Set ``DAGSTER_DEFAULTS`` in this process unless already set (read by Dagster where runs are created)."""
    environ = os.environ if environ is None else environ
    for key, value in DAGSTER_DEFAULTS.items():
        environ.setdefault(key, value)


def child_environment(changes: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with ``changes`` applied, for a child process (``dagster dev`` driven by
    ``pipelines/dagster_ui.py``)."""
    return {**os.environ, **changes}


def numba_cache_default(environ: typing.MutableMapping[str, str] | None = None) -> None:
    """Give numba (used by UMAP) a writable cache folder unless one is configured."""
    environ = os.environ if environ is None else environ
    environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "numba"))


def enable_progress(environ: typing.MutableMapping[str, str] | None = None) -> None:
    """Turn progress bars on for this process unless ``NARRATIVES_PROGRESS`` says otherwise (CLI on a terminal)."""
    environ = os.environ if environ is None else environ
    environ.setdefault("NARRATIVES_PROGRESS", "1")
