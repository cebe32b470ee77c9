import datetime as dt

import numpy as np
import pytest

from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder, embed_partitions
from narrative_tracker.ingest.files import ingest_paths
from narrative_tracker.paragraphs.split import build_paragraphs

ALL = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))


def test_embeddings_stored_once_per_text_and_model(con, tmp_path, hash_embedder):
    (tmp_path / "a.txt").write_text("Jan 8, 2022\n\nHeadline A\n\nThe same paragraph appears in two articles, word for word.\n\nOnly in A, this one says something else.\n")
    (tmp_path / "b.txt").write_text("Jan 9, 2022\n\nHeadline B\n\nThe same paragraph appears in two articles, word for word.\n")
    ingest_paths(con, [tmp_path])
    build_paragraphs(con, *ALL)
    assert con.execute("SELECT count(*), count(DISTINCT text_hash) FROM paragraphs").fetchone() == (3, 2)
    first = embed_partitions(con, hash_embedder, *ALL)
    assert (first.texts_needed, first.texts_embedded) == (2, 2)
    second = embed_partitions(con, hash_embedder, *ALL)
    assert second.texts_embedded == 0 and hash_embedder.calls == [2]
    norms = con.execute("SELECT list_dot_product(embedding::FLOAT[], embedding::FLOAT[]) FROM paragraph_embeddings").fetchall()
    assert all(abs(n[0] - 1) < 1e-5 for n in norms)


def test_other_dimension_is_refused(con, tmp_path, hash_embedder):
    from conftest import HashEmbedder

    (tmp_path / "a.txt").write_text("Jan 8, 2022\n\nHeadline\n\nA paragraph of text that is long enough to embed.\n")
    ingest_paths(con, [tmp_path])
    build_paragraphs(con, *ALL)
    embed_partitions(con, hash_embedder, *ALL)
    with pytest.raises(ValueError, match="16-dimensional"):
        embed_partitions(con, HashEmbedder(dim=8, name="other"), *ALL)


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        SentenceTransformerEmbedder(str(tmp_path / "no-model"))


@pytest.mark.slow
def test_real_model_is_offline_normalised_and_meaningful():
    embedder = SentenceTransformerEmbedder()
    assert embedder.name == "all-MiniLM-L6-v2" and embedder.dim == 384
    vectors = embedder.encode([
        "Western intelligence services orchestrated the riots in Kazakhstan.",
        "The unrest in Kazakhstan was organised by foreign spy agencies.",
        "The recipe needs two eggs and a cup of flour.",
    ])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.6 > 0.2 > vectors[0] @ vectors[2]


def test_precision_choices():
    from narrative_tracker.embeddings.embed import cpu_has_bf16, resolve_precision

    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("auto", "cuda:0") == "bf16"
    assert resolve_precision("auto", "cpu") == ("bf16" if cpu_has_bf16() else "fp32")
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("int4", "cpu")


def test_bf16_vectors_are_unit_float32_and_match_fp32():
    texts = [
        "Foreign powers organised the riots in Almaty to topple the government.",
        "The CSTO peacekeepers left Kazakhstan after the mission was completed.",
        "Fuel prices doubled overnight in the western regions.",
        "Short.",
    ]
    fast = SentenceTransformerEmbedder(precision="bf16").encode(texts)
    exact = SentenceTransformerEmbedder(precision="fp32").encode(texts)
    assert fast.dtype == np.float32 and fast.shape == exact.shape == (4, 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1, atol=1e-5)  # the every_paragraph_embedded check needs 1e-3
    assert (fast * exact).sum(axis=1).min() > 0.99
