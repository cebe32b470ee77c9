import pytest

from narrative_tracker.evaluation.evaluate import discovery_agreement, prf_table, purity
from narrative_tracker.material import is_tune, load_labelled


def test_prf_table_counts():
    gold = [frozenset({"a"}), frozenset({"a", "b"}), frozenset(), frozenset({"b"})]
    pred = [frozenset({"a"}), frozenset({"a"}), frozenset({"b"}), frozenset({"b"})]
    table = prf_table(gold, pred, ["a", "b"])
    assert table["a"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2, "predicted": 2}
    assert table["b"]["precision"] == 0.5 and table["b"]["recall"] == 0.5
    assert table["micro"]["support"] == 4 and table["macro_f1"] == 0.75


def test_purity_and_nmi():
    assert purity([0, 0, 1, 1, -1], ["x", "x", "y", "z", "q"]) == 0.75
    agreement = discovery_agreement([0, 0, 1, 1], ["x", "x", "y", "y"])
    assert agreement["nmi_all"] == 1.0 and agreement["clusters"] == 2 and agreement["noise_share"] == 0.0


def test_labelled_set_is_split_into_tune_and_test():
    rows = load_labelled()
    assert len(rows) == 200
    assert {r.split for r in rows} == {"sample", "heldout"}
    tune = [r for r in rows if is_tune(r.id)]
    assert 60 <= len(tune) <= 100
    assert all(r.group.startswith("data/sample/") for r in rows if r.split == "sample")
    labels = set().union(*(r.narratives for r in rows))
    assert labels == {"foreign_hand", "isis_infiltration", "csto_justification"}


@pytest.mark.slow
def test_detection_quality_on_the_untouched_test_part():
    """The bundled codebook with the real model: held-out quality stays where the README says it is
    (2026-12-01, after removing examples/keywords written from test sentences: test 0.601, held-out 0.695)."""
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder
    from narrative_tracker.evaluation.evaluate import evaluate_paragraphs

    result = evaluate_paragraphs(load_codebook(), SentenceTransformerEmbedder())
    assert result["test"]["macro_f1"] >= 0.58
    assert result["test_heldout"]["macro_f1"] >= 0.67
    for narrative in ("foreign_hand", "isis_infiltration", "csto_justification"):
        assert result["all"][narrative]["recall"] >= 0.6
        assert result["all"][narrative]["precision"] >= 0.6


@pytest.mark.slow
def test_evaluate_command_prints_json_and_tables(capsys):
    import json

    from pipelines.cli import main

    assert main(["evaluate", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["parts"]) == {"tune", "test", "test_sample", "test_heldout", "all"}
    assert result["parts"]["all"]["paragraphs"] == 200
    from narrative_tracker.narratives.heads import resolve_heads

    shipped = resolve_heads("", result["model"])  # evaluate goes through the run's detection path: the shipped heads
    assert set(result["detector"].values()) == {shipped.key if shipped else "similarity"}
    assert main(["evaluate", "--heads", "none"]) == 0
    out = capsys.readouterr().out
    assert "test (118 paragraphs): mentions macro-F1" in out and "csto_justification" in out
    assert "detector foreign_hand: similarity, isis_infiltration: similarity" in out
