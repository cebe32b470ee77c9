"""Dagster resources: the DuckDB database and the embedding model."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import dagster as dg
import duckdb
from pydantic import Field

from narrative_tracker import db, warehouse
from narrative_tracker.embed import Embedder, make_embedder


class NarrativeDB(dg.ConfigurableResource):
    """The warehouse the pipeline writes: a DuckDB file (one writer at a time) or a DuckLake
    (``ducklake:<catalog file>`` / ``ducklake:postgres:...``, see ``narrative_tracker.warehouse``). Opened per
    stage, closed right after; on a lake every connection attaches it and ``USE``s it, so the SQL is the same."""

    path: str = Field(default="data/narratives.duckdb",
                      description="DuckDB file (created with its tables on first use), or a DuckLake setting: "
                                  "'ducklake:<catalog>.ducklake' or 'ducklake:postgres:dbname=... host=...'.")

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with db.connection(self.path) as con:
            yield con

    def setup(self, embedding_model: EmbeddingModel | None = None) -> None:
        """DuckLake: create / migrate the tables (and the embedding tables for the model's size) once. A DuckDB
        file needs nothing: it applies its schema whenever it is opened for writing (one writer)."""
        if warehouse.is_lake_url(self.path):
            db.setup(self.path, dim=embedding_model.get_embedder().dim if embedding_model else None)


class EmbeddingModel(dg.ConfigurableResource):
    """The embedding model: a name (``all-MiniLM-L6-v2``, ``use-multilingual-v3``) or a local sentence-transformers folder.

    Empty = the bundled all-MiniLM-L6-v2."""

    model_path: str = Field(default="", description="Model name (all-MiniLM-L6-v2, use-multilingual-v3) or a local sentence-transformers folder; empty for all-MiniLM-L6-v2.")
    device: str = Field(default="cpu", description="torch device: cpu, cuda, ...")
    batch_size: int = Field(default=32, description="Texts per forward pass.")
    precision: str = Field(default="auto", description="auto (bf16 where the CPU has AMX / AVX-512 BF16, else fp32), bf16 or fp32.")

    def get_embedder(self) -> Embedder:
        return make_embedder(self.model_path, device=self.device, batch_size=self.batch_size, precision=self.precision)


def default_resources() -> dict:
    """Resources as configured by the environment (``NARRATIVES_DB``, ``NARRATIVES_MODEL``)."""
    return {
        "db": NarrativeDB(path=os.environ.get("NARRATIVES_DB", "data/narratives.duckdb")),
        "embedding_model": EmbeddingModel(model_path=os.environ.get("NARRATIVES_MODEL", ""),
                                          precision=os.environ.get("NARRATIVES_PRECISION", "auto"),
                                          device=os.environ.get("NARRATIVES_DEVICE", "cpu")),
    }
