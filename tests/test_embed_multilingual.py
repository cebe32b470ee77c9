"""The second embedder (Google USE-multilingual v3) behind the ``Embedder`` interface, selected by name."""

import datetime as dt

import numpy as np
import pytest

from narrative_tracker.embeddings.embed import (
    MULTILINGUAL_MODEL_NAME,
    Embedder,
    SentenceTransformerEmbedder,
    embed_partitions,
    make_embedder,
)
from narrative_tracker.embeddings.multilingual import UseMultilingualEmbedder
from narrative_tracker.ingest.files import ingest_paths
from narrative_tracker.paragraphs.split import build_paragraphs

ALL = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))


def test_models_are_chosen_by_name():
    assert isinstance(make_embedder("use-multilingual-v3"), UseMultilingualEmbedder)
    assert isinstance(make_embedder(""), SentenceTransformerEmbedder)
    assert make_embedder("all-MiniLM-L6-v2").name == "all-MiniLM-L6-v2"
    assert isinstance(make_embedder(MULTILINGUAL_MODEL_NAME), Embedder)
    with pytest.raises(FileNotFoundError, match="use-multilingual-v3"):
        make_embedder("no-such-model")
    with pytest.raises(ValueError, match="threads"):
        UseMultilingualEmbedder(threads=0)


def test_resource_reads_the_model_name():
    from assets.resources import EmbeddingModel

    assert EmbeddingModel(model_path="use-multilingual-v3").get_embedder().name == "use-multilingual-v3"


def test_same_size_models_keep_their_own_vectors(con, tmp_path):
    """Vectors are cached per model; a stage reading one model's vectors never gets another's."""
    from conftest import HashEmbedder

    from narrative_tracker import db

    (tmp_path / "a.txt").write_text("Jan 8, 2022\n\nHeadline\n\nA paragraph of text that is long enough to embed.\n")
    ingest_paths(con, [tmp_path])
    build_paragraphs(con, *ALL)
    first, second = HashEmbedder(name="model-a"), HashEmbedder(name="model-b")
    second.encode = lambda texts: -first.encode(texts)  # same size, another vector space
    embed_partitions(con, first, *ALL)
    embed_partitions(con, second, *ALL)
    assert embed_partitions(con, first, *ALL).texts_embedded == 0  # cached
    rows = {m: con.execute(db.query("paragraph_vectors_in_partitions"), {"start": ALL[0], "end": ALL[1], "model": m}).fetchall()
            for m in ("model-a", "model-b")}
    assert len(rows["model-a"]) == len(rows["model-b"]) == 1
    a, b = np.array(rows["model-a"][0][-1]), np.array(rows["model-b"][0][-1])
    assert np.allclose(a, -b)


@pytest.mark.slow
def test_real_multilingual_model_is_cross_lingual():
    embedder = make_embedder("use-multilingual-v3")
    assert embedder.dim == 512
    vectors = embedder.encode([
        "Western intelligence services orchestrated the riots in Kazakhstan.",
        "Беспорядки в Казахстане организовали западные спецслужбы.",
        "Для пирога нужны два яйца и стакан муки.",
    ])
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.6 > 0.2 > vectors[0] @ vectors[2]
    # the C++ tokenizer gives the same vectors as the package's own pure-Python tokenizer
    python = UseMultilingualEmbedder(tokenizer="python").encode(["Беспорядки в Казахстане организовали западные спецслужбы."])
    assert float(python[0] @ vectors[1]) > 0.9999
    assert embedder.encode([]).shape == (0, 512)


@pytest.mark.slow
def test_a_database_never_mixes_vector_spaces(con, tmp_path):
    """A database embedded with one model refuses a model of another size, and writes nothing for it."""
    (tmp_path / "a.txt").write_text("Jan 8, 2022\n\nHeadline\n\nЗапад стоит за беспорядками, это спланированная операция.\n")
    ingest_paths(con, [tmp_path])
    build_paragraphs(con, *ALL)
    assert embed_partitions(con, make_embedder("use-multilingual-v3"), *ALL).texts_embedded == 1
    with pytest.raises(ValueError, match="512-dimensional"):
        embed_partitions(con, make_embedder("all-MiniLM-L6-v2"), *ALL)
    assert con.execute("SELECT DISTINCT model FROM paragraph_embeddings").fetchall() == [("use-multilingual-v3",)]
