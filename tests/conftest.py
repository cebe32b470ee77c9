"""Shared fixtures. The real model is used by the integration tests; ``HashEmbedder`` keeps unit tests fast."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.pop("DAGSTER_HOME", None)  # tests use ephemeral Dagster instances:
os.environ["NARRATIVES_RUN_HISTORY"] = "none"  # a persistent one per test database costs minutes (2,000+ partitions)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Full public datasets are used when a path is given (CI gives them from ../shared), otherwise the small
# attributed fixtures cut from them: a user's clone has no ../shared, and no test is skipped for that.
EUVSDISINFO = Path(os.environ.get("NARRATIVES_TEST_EUVSDISINFO") or FIXTURES / "euvsdisinfo" / "posts.csv")
SEMEVAL_EN = Path(os.environ.get("NARRATIVES_TEST_SEMEVAL") or FIXTURES / "semeval2025-task10-en")


class HashEmbedder:
    """Deterministic fake: a unit vector seeded by the text's hash. Same text, same vector; no meaning."""

    def __init__(self, dim: int = 16, name: str = "hash-test") -> None:
        self.dim = dim
        self.name = name
        self.calls: list[int] = []

    def encode(self, texts):
        self.calls.append(len(texts))
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, self.dim), np.float32)


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def con(tmp_path):
    from narrative_tracker import db

    connection = db.connect(tmp_path / "test.duckdb")
    yield connection
    connection.close()


class TopicEmbedder(HashEmbedder):
    """Fake with meaning: each topic word found in a text adds a fixed axis, plus a little hash noise."""

    TOPICS = ("west", "islamist", "csto", "fuel", "football")

    def __init__(self) -> None:
        super().__init__(dim=16, name="topic-test")

    def encode(self, texts):
        noise = super().encode(texts) * 0.05
        rows = []
        for text, n in zip(texts, noise):
            v = n.copy()
            for i, word in enumerate(self.TOPICS):
                if word in text.lower():
                    v[i] += 1.0
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, self.dim), np.float32)


@pytest.fixture
def topic_embedder() -> TopicEmbedder:
    return TopicEmbedder()


TINY_CODEBOOK = """
detection: {default_threshold: 0.6, top_k: 1, keyword_bonus: 0.0}
narratives:
  - id: foreign_hand
    label: Foreign hand
    examples: ["The West organised it."]
  - id: csto_justification
    label: CSTO justified
    examples: ["The CSTO deployment was right."]
"""


@pytest.fixture
def tiny_codebook(tmp_path):
    from narrative_tracker.narratives.codebook import load_codebook

    path = tmp_path / "codebook.yaml"
    path.write_text(TINY_CODEBOOK)
    return load_codebook(path)


def run_stages(con, paths, embedder, codebook=None):
    """Ingest -> paragraphs -> embeddings (-> codebook detection) over every day, as one nightly run does."""
    import datetime as dt

    from narrative_tracker.embeddings.embed import embed_partitions
    from narrative_tracker.ingest.files import ingest_paths
    from narrative_tracker.narratives.assign import apply_codebook, assign_codebook
    from narrative_tracker.paragraphs.split import build_paragraphs

    days = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))
    report = ingest_paths(con, paths)
    build_paragraphs(con, *days)
    embed_partitions(con, embedder, *days)
    if codebook is not None:
        apply_codebook(con, codebook, embedder)
        assign_codebook(con, codebook, embedder.name, *days)
    return report


def load_cascades(con, sim, narratives=None, prefix: str = "n") -> None:
    """Write generated cascades (``narrative_tracker.network.simulate``) as real rows: one article (outlet
    ``o<node>``, dated 2020-01-01 + day), paragraph and codebook assignment (narrative ``<prefix><cascade>``) each."""
    import datetime as dt

    import polars as pl

    from narrative_tracker import schema

    epoch = dt.date(2020, 1, 1)
    keep = np.ones(len(sim.node), bool) if narratives is None else np.isin(sim.cascade, list(narratives))
    ids = [f"{prefix}{c}-o{o}" for c, o in zip(sim.cascade[keep], sim.node[keep])]
    frame = pl.DataFrame({
        "article_id": ids,
        "outlet": [f"o{o}" for o in sim.node[keep]],
        "narrative_id": [f"{prefix}{c}" for c in sim.cascade[keep]],
        "day": [epoch + dt.timedelta(days=int(d)) for d in sim.day[keep]],
        "paragraph_id": [f"{i}-0000" for i in ids],
    })
    con.register("staged_sim", frame)
    con.execute("""
        INSERT INTO articles (article_id, outlet, outlets, date_source, partition_date, published_date, body, source_path,
                              source_sha256, source_format, ingested_at)
        SELECT article_id, outlet, [outlet], 'metadata', day, day, 'x', 'sim', 'sim', 'csv', now() FROM staged_sim;
        INSERT INTO paragraphs (paragraph_id, article_id, partition_date, position, block_index, kind, text, text_hash, word_count)
        SELECT paragraph_id, article_id, day, 0, 0, 'body', 'claim ' || article_id, md5(article_id), 2 FROM staged_sim;
        INSERT INTO narratives (narrative_id, label, origin, paragraphs, created_at, updated_at)
        SELECT DISTINCT narrative_id, narrative_id, 'codebook', 0, now(), now() FROM staged_sim
        WHERE narrative_id NOT IN (SELECT narrative_id FROM narratives);
        INSERT INTO paragraph_narratives (paragraph_id, narrative_id, partition_date, score, method, stance, model, assigned_at)
        SELECT paragraph_id, narrative_id, day, 1.0, 'codebook', 'asserts', 'm', now() FROM staged_sim;
    """)
    con.unregister("staged_sim")
    schema.refresh_daily_counts(con)  # the derived counts follow every write to paragraph_narratives


@pytest.fixture(scope="session")
def pg():
    """A throwaway PostgreSQL cluster (Debian's postgresql; `make test` installs it), started once per session.

    Its folder is its own temporary directory, not pytest's tmp_path: pytest deletes old basetemp folders
    when other pytest sessions start, which would pull the data directory from under a running server."""
    import shutil
    import tempfile

    from narrative_tracker import pg_cluster

    folder = Path(tempfile.mkdtemp(prefix="narratives-pg-"))
    cluster = pg_cluster.start(folder)
    yield cluster
    cluster.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def lake_url(pg, monkeypatch):
    """A new, empty DuckLake on the PostgreSQL cluster (its own catalog database, Parquet files in the cluster's
    folder); ``NARRATIVES_LAKE_DATA_PATH`` points there for the test."""
    import uuid

    name = "lake_" + uuid.uuid4().hex[:10]
    pg.createdb(name)
    monkeypatch.setenv("NARRATIVES_LAKE_DATA_PATH", str(pg.folder / "files" / name) + "/")
    return f"ducklake:postgres:{pg.conninfo(name)}"


@pytest.fixture(autouse=True, scope="session")
def _bundled_files_stay_untouched():
    """No test may write into the repository's codebook or sample corpus (a promote without a configured
    codebook once appended a test narrative to the bundled codebook)."""
    watched = [REPO / "codebook" / "narratives.yaml", *sorted(SAMPLE.iterdir())]
    before = {p: p.read_bytes() for p in watched}
    yield
    changed = [str(p.relative_to(REPO)) for p in watched if not p.exists() or p.read_bytes() != before[p]]
    assert not changed, f"a test changed bundled files: {changed}"
