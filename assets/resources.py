"""Dagster resources: the DuckDB database, the embedding model, the codebook file and the default inputs.

Their values come from ``narrative_tracker.settings`` (``default_resources(settings)``); the CLI builds the
definitions with its own ``Settings`` so command-line options and environment variables meet in one place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from narrative_tracker import db, schema, warehouse
from narrative_tracker.embeddings.embed import Embedder, make_embedder
from narrative_tracker.narratives.codebook import Codebook, load_codebook
from narrative_tracker.narratives.heads import resolve_heads
from narrative_tracker.narratives.pair_model import resolve_pair_model
from narrative_tracker.settings import DEFAULT_CODEBOOK, DEFAULT_DB, Settings

# The run tag naming the database a run wrote: filter the UI's Runs page by it when several databases share one
# DAGSTER_HOME. Set at launch by `narratives run`, and by the `db` resource when a run starts (UI, schedules, sensors).
DATABASE_TAG = "narratives/database"


def database_tag(setting: str) -> str:
    """The value of ``DATABASE_TAG`` for a database setting (a path or a DuckLake URL, passwords left out)."""
    return warehouse.from_setting(setting).describe()[:250]


class NarrativeDB(dg.ConfigurableResource):
    """The warehouse the pipeline writes: a DuckDB file (one writer at a time) or a DuckLake
    (``ducklake:<catalog file>`` / ``ducklake:postgres:...``, see ``narrative_tracker.warehouse``). Opened per
    stage, closed right after; on a lake every connection attaches it and ``USE``s it, so the SQL is the same."""

    path: str = Field(default=DEFAULT_DB,
                      description="DuckDB file (created with its tables on first use), or a DuckLake setting: "
                                  "'ducklake:<catalog>.ducklake' or 'ducklake:postgres:dbname=... host=...'.")
    lake_retention_days: int = Field(default=Settings.lake_retention_days,
                                     description="DuckLake: the maintenance keeps snapshots (time travel) this many days "
                                                 "(NARRATIVES_LAKE_RETENTION_DAYS).")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Tag the run with the database it writes (``DATABASE_TAG``), whoever launched it."""
        run = context.dagster_run
        if run is not None and context.instance is not None and DATABASE_TAG not in run.tags:
            context.instance.add_run_tags(run.run_id, {DATABASE_TAG: database_tag(self.path)})

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with db.connection(self.path) as con:
            yield con

    def setup(self, embedding_model: EmbeddingModel | None = None) -> None:
        """DuckLake: create / migrate the tables (and the embedding tables for the model's size) once. A DuckDB
        file needs nothing: it applies its schema whenever it is opened for writing (one writer)."""
        if warehouse.is_lake_url(self.path):
            schema.setup(self.path, dim=embedding_model.get_embedder().dim if embedding_model else None)


class EmbeddingModel(dg.ConfigurableResource):
    """The embedding model: a name (``all-MiniLM-L6-v2``, ``use-multilingual-v3``) or a local sentence-transformers folder.

    Empty = the bundled all-MiniLM-L6-v2."""

    model_path: str = Field(default="", description="Model name (all-MiniLM-L6-v2, use-multilingual-v3) or a local sentence-transformers folder; empty for all-MiniLM-L6-v2.")
    device: str = Field(default="cpu", description="torch device: cpu, cuda, ...")
    batch_size: int = Field(default=32, description="Texts per forward pass.")
    precision: str = Field(default="auto", description="auto (bf16 where the CPU has AMX / AVX-512 BF16, else fp32), bf16 or fp32.")
    progress: bool = Field(default=False, description="Show a progress bar on stderr while embedding.")

    def get_embedder(self) -> Embedder:
        return make_embedder(self.model_path, device=self.device, batch_size=self.batch_size, precision=self.precision,
                             progress=self.progress)


class CodebookFile(dg.ConfigurableResource):
    """The codebook YAML the narratives stage detects (read and validated on every use)."""

    path: str = Field(default=str(DEFAULT_CODEBOOK), description="Codebook YAML of the narratives tracked by name.")
    heads: str = Field(default="", description="Trained narrative heads (`narratives train`): a heads-<model>.json file or a "
                                               "folder; 'none': similarity detector only; empty: the shipped heads for the model, if any.")

    stance_model: str = Field(default="", description="Pair model deciding candidate pairs and their stance (`narratives "
                                                      "train-stance`): a folder; 'none': the detector decides, frozen-feature stance; "
                                                      "empty: the shipped pair model.")

    def load(self, model: str | None = None) -> Codebook:
        """The codebook with ``model``'s operating points (its ``models:`` section) when it has them."""
        return load_codebook(self.path, model=model)

    def load_heads(self, model: str):
        """The trained heads detection uses with ``model`` (``heads.resolve_heads``), or None."""
        return resolve_heads(self.heads, model)

    def load_pair_model(self, embedding_model: EmbeddingModel | None = None):
        """The pair model (``pair_model.resolve_pair_model``) on the embedding model's device, or None; the embedder
        picks the sentences of a long paragraph closest to the claim."""
        device = embedding_model.device if embedding_model else "cpu"
        ranker = embedding_model.get_embedder() if embedding_model else None
        return resolve_pair_model(self.stance_model, device=device, sentence_ranker=ranker)


class IngestInputs(dg.ConfigurableResource):
    """What the ``ingest`` asset reads when its run config names no paths."""

    paths: list[str] = Field(default_factory=list, description="Files and folders to ingest; none: the ingest run fails, saying so.")
    max_file_mb: float = Field(default=50.0, description="Files larger than this are quarantined unread.")
    progress: bool = Field(default=False, description="Show files done of N on stderr.")


class ReportFolder(dg.ConfigurableResource):
    """Where the ``daily_report`` asset writes ``report-<day>.html``; empty: it writes nothing and says why."""

    path: str = Field(default="", description="Folder of the daily reports (NARRATIVES_REPORT_DIR; default "
                                               "`<database>.reports/` beside the database file).")


def report_folder(settings: Settings) -> str:
    """``NARRATIVES_REPORT_DIR``, else ``<name>.reports/`` beside the database file or DuckLake catalog file; empty for
    a DuckLake on PostgreSQL (nothing to sit beside)."""
    if settings.report_dir is not None:
        return str(settings.report_dir)
    wh = warehouse.from_setting(settings.db)
    if wh.kind == "ducklake-postgres":
        return ""
    location = Path(wh.location)
    return str(location.with_name(location.name.split(".")[0] + ".reports"))


def default_resources(settings: Settings) -> dict:
    """The resources as ``settings`` configures them."""
    return {
        "reports": ReportFolder(path=report_folder(settings)),
        "db": NarrativeDB(path=str(settings.db), lake_retention_days=settings.lake_retention_days),
        "embedding_model": EmbeddingModel(model_path=settings.model, precision=settings.precision, device=settings.device,
                                          progress=settings.progress),
        "codebook_file": CodebookFile(path=str(settings.codebook), heads=str(settings.heads), stance_model=str(settings.stance_model)),
        "inputs": IngestInputs(paths=list(settings.inputs), max_file_mb=settings.max_file_mb, progress=settings.progress),
    }
