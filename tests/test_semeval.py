"""SemEval-2025 Task 10 import, metric, cross-validation mechanics and document-level evaluation."""


import pytest
import yaml
from conftest import SHARED, HashEmbedder, run_stages

from narrative_tracker.codebook import load_codebook
from narrative_tracker.semeval import (
    OTHER,
    codebook_from_semeval,
    cross_validate,
    load_semeval,
    samples_f1,
)

SEMEVAL = SHARED / "benchmarks" / "semeval2025-task10-en"


@pytest.fixture(scope="module")
def data():
    return load_semeval(SEMEVAL)


def test_load_semeval(data):
    assert len(data.documents) == 200
    assert len(data.narratives) == 21 and OTHER not in data.narratives
    doc = next(d for d in data.documents if d.id == "EN_UA_021270.txt")
    assert "URW: Discrediting Ukraine" in doc.coarse and len(doc.paragraphs) > 3
    assert sum(OTHER in d.coarse for d in data.documents) == 97


def test_samples_f1():
    gold = [frozenset({"a", "b"}), frozenset({"Other"})]
    assert samples_f1(gold, [frozenset({"a"}), frozenset({"Other"})]) == pytest.approx((2 / 3 + 1) / 2)


def test_import_as_codebook_loads(data, tmp_path):
    book = codebook_from_semeval(data)
    path = tmp_path / "semeval.yaml"
    path.write_text(yaml.safe_dump(book))
    loaded = load_codebook(path)
    assert len(loaded.narratives) == 21
    climate = loaded.narrative("cc_criticism_of_climate_policies")
    assert "Climate policies are ineffective" in climate.examples


def test_explanations_of_held_out_documents_do_not_leak(data):
    every = codebook_from_semeval(data)
    none = codebook_from_semeval(data, files=set())
    assert sum(len(n["examples"]) for n in none["narratives"]) < sum(len(n["examples"]) for n in every["narratives"])


def test_cross_validation_mechanics_with_a_fake_embedder(data):
    result = cross_validate(data, HashEmbedder(dim=32), folds=3, methods=("prototype", "logistic"))
    for method in ("prototype", "logistic", "always_other"):
        assert 0.0 <= result[method]["coarse_samples_f1"] <= 1.0
    assert result["always_other"]["coarse_samples_f1"] == pytest.approx(0.485)


def test_document_level_evaluation_aggregates_paragraph_assignments(con, tmp_path, topic_embedder, tiny_codebook):
    from narrative_tracker.evaluate import evaluate_documents

    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "d1.txt").write_text("Title one\n\nThe west organised everything, the expert said again.\n\nNothing else here today.\n")
    (docs / "d2.txt").write_text("Title two\n\nFootball scores from the weekend were announced.\n")
    (docs / "d3.txt").write_text("Title three\n\nThe CSTO deployment was right and lawful, officials insisted.\n")
    labels = tmp_path / "labels.tsv"
    labels.write_text("d1.txt\tForeign hand\nd2.txt\tOther\nd3.txt\tforeign_hand;csto_justification\n")
    run_stages(con, [docs], topic_embedder, tiny_codebook)
    result = evaluate_documents(con, labels)
    assert result["documents"] == 3 and result["documents_in_database"] == 3
    # d1 exact (by label), d2 exact (Other), d3 half right (csto found by id, foreign_hand missed)
    assert result["samples_f1"] == pytest.approx((1 + 1 + 2 / 3) / 3, abs=1e-3)
