"""Shared frame schemas and helpers of the narratives stage (staged polars frames -> DuckDB tables)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

ASSIGNMENT_SCHEMA = {
    "paragraph_id": pl.String,
    "narrative_id": pl.String,
    "partition_date": pl.Date,
    "score": pl.Float64,
    "confidence": pl.Float64,
    "similarity": pl.Float64,
    "keyword_match": pl.Boolean,
    "method": pl.String,
    "evidence": pl.String,
    "evidence_score": pl.Float64,
    "stance": pl.String,
    "stance_cue": pl.String,
    "stance_confidence": pl.Float64,
    "stance_model": pl.String,
    "model": pl.String,
    "detection_model": pl.String,
    "assigned_at": pl.Datetime("us"),
    "related": pl.Float64,
    "pair_model": pl.String,
}
NARRATIVE_SCHEMA = {
    "narrative_id": pl.String,
    "label": pl.String,
    "description": pl.String,
    "origin": pl.String,
    "keywords": pl.List(pl.String),
    "threshold": pl.Float64,
    "terms": pl.List(pl.String),
    "paragraphs": pl.Int32,
    "representative_paragraph_ids": pl.List(pl.String),
    "status": pl.String,
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
    "claim_label": pl.String,
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def load_vectors(frame: pl.DataFrame, column: str = "embedding") -> np.ndarray:
    """An ``Array(Float32, d)`` polars column (a ``List`` on DuckLake, which stores ``FLOAT[]``) as a ``(n, d)``
    float32 array."""
    if frame.height == 0:
        return np.zeros((0, 0), np.float32)
    series = frame[column]
    if isinstance(series.dtype, pl.List):
        series = series.list.to_array(series.list.len().max())
    return np.ascontiguousarray(series.to_numpy(), dtype=np.float32)
