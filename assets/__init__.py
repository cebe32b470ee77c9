"""Dagster assets: thin wrappers that call the Dagster-free core in ``narrative_tracker``.

Stages, in order: ``ingest.py`` (articles, quarantine) -> ``paragraphs.py`` -> ``embeddings.py`` -> ``narratives.py``.
"""

from assets import embeddings, ingest, narratives, paragraphs
from assets.partitions import daily_partitions
from assets.resources import EmbeddingModel, NarrativeDB

__all__ = ["EmbeddingModel", "NarrativeDB", "daily_partitions", "embeddings", "ingest", "narratives", "paragraphs"]
