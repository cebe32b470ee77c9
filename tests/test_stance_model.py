"""The trained per-pair stance model: interface, training on a tiny set, FNC-format scoring, questions."""

import datetime as dt
import json

import numpy as np
import pytest

from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder
from narrative_tracker.evaluation.stance_eval import (
    claim_groups,
    evaluate_stance_pairs,
    fnc_weighted_score,
    load_fnc_pairs,
    stance_scores,
    train_stance_model,
)
from narrative_tracker.narratives.stance_model import ARTIFACT_DIR, CLASSES, StanceModel, is_question, stance_of_pairs
from tests.conftest import FIXTURES

PAIRS = FIXTURES / "stance_pairs"


@pytest.fixture(scope="module")
def embedder():
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="module")
def shipped(embedder):
    return StanceModel.load(embedder=embedder)


def test_shipped_artifact_is_small_safe_and_versioned():
    npz, meta = ARTIFACT_DIR / "stance_model.npz", ARTIFACT_DIR / "stance_model.json"
    assert npz.stat().st_size + meta.stat().st_size < 5 * 1024 * 1024
    with np.load(npz, allow_pickle=False) as data:  # plain arrays, no pickle
        assert {"mean", "scale", "w0", "b0"} <= set(data.files)
    info = json.loads(meta.read_text())
    assert info["version"] and info["classes"] == list(CLASSES)
    assert {s["kind"] for s in info["trained_on"]} >= {"fnc"}


def test_pairs_in_labels_and_confidences_out(shipped):
    claim = "NATO organised the riots"
    texts = [
        "NATO organised the riots to topple the government, and everyone knows it.",
        "State TV claimed that NATO had organised the riots.",
        "There is no evidence that NATO organised the riots; the claim is a recurring propaganda line.",
        "The central bank kept interest rates unchanged on Thursday.",
    ]
    labels, confidences, why = shipped.predict([claim] * 4, texts)
    assert len(labels) == len(confidences) == len(why) == 4
    assert all(label in CLASSES for label in labels)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert labels[1] == "reports" and "claimed" in why[1]
    assert labels[2] == "refutes" and "no evidence" in why[2]
    assert labels[3] == "unrelated"
    related, _, _ = shipped.predict([claim] * 4, texts, related_only=True)
    assert "unrelated" not in related
    with pytest.raises(ValueError):
        shipped.predict([claim], texts)


def test_a_question_is_not_an_assertion(shipped):
    question = "That is, radical Islamists were not the organizers of the riots? Then who was behind them?"
    assert is_question(question)
    assert not is_question("The riots were organised from abroad. Who else could have done it, after all, but the West.")
    labels, _, why = shipped.predict(["Foreign hand behind the unrest"], [question], related_only=True)
    assert labels == ["reports"] and why == ["question"]
    # the pipeline entry point too, with or without a trained artifact
    assert stance_of_pairs(["Foreign hand behind the unrest"], [question], model=shipped)[0][0] == "reports"


def test_train_on_a_tiny_labelled_set(tmp_path, embedder):
    extra = (["Old bridge to close for repairs"] * 2,
             ["Is the old bridge going to close? Nobody knows.", "The old bridge closes next month, the city confirmed."],
             ["reports", "asserts"])
    model = train_stance_model(PAIRS, labelled=False, embedder=embedder, out_dir=tmp_path, extra=extra,
                               version="tiny-1", quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stance_model.json", "stance_model.npz"]
    loaded = StanceModel.load(tmp_path, embedder=embedder)
    assert loaded.version == "tiny-1"
    assert loaded.meta["class_counts"]["refutes"] == 4
    labels, confidences, _ = loaded.predict(["Striker signs for the club"],
                                            ["The club announced the striker signed a three-year contract."])
    assert labels[0] in CLASSES and 0 < confidences[0] <= 1


def test_fnc_metrics_and_claim_groups():
    claims, texts, labels, bodies = load_fnc_pairs(PAIRS)
    assert len(claims) == 17 and set(labels) == set(CLASSES)
    groups = claim_groups(claims, bodies, labels)
    # the two frog headlines share related bodies: one claim, never split across train and test
    frog = {g for c, g in zip(claims, groups) if "rog" in c}
    assert len(frog) == 1 and len(set(groups.tolist())) == 3
    assert fnc_weighted_score(["agree", "unrelated"], ["agree", "unrelated"]) == 1.0
    assert fnc_weighted_score(["asserts", "unrelated"], ["reports", "asserts"]) == pytest.approx(0.25 / 1.25)
    scores = stance_scores(["asserts", "refutes", "unrelated"], ["asserts", "asserts", "unrelated"])
    assert scores["per_class"]["refutes"]["f1"] == 0.0 and scores["per_class"]["asserts"]["precision"] == 0.5


def test_evaluate_stance_pairs_cli(capsys):
    from pipelines.cli import main

    assert main(["evaluate", "--stance-pairs", str(PAIRS), "--json"]) == 0  # the shipped pair model
    out = json.loads(capsys.readouterr().out)
    assert out["mode"].startswith("pair model") and out["pairs"] == 17
    assert 0.0 <= out["macro_f1"] <= 1.0 and set(out["per_class"]) == set(CLASSES)
    assert "f1" in out["per_class"]["refutes"] and 0.0 <= out["fnc_score"] <= 1.0
    assert main(["evaluate", "--stance-pairs", str(PAIRS), "--stance-model", "none", "--json"]) == 0  # the older model
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "shipped model" and out["pairs"] == 17


def test_bad_pairs_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="bodies.csv"):
        evaluate_stance_pairs(tmp_path)


def test_pipeline_question_is_not_counted_as_an_assertion(tmp_path, topic_embedder):
    """End to end on a real DuckDB file: an interviewer's question about the West's role is stored per pair as
    ``reports`` (cue ``question``); narrative_daily counts only the asserting paragraph and the report's
    evidence never quotes the question."""
    import datetime as dt

    from conftest import run_stages

    from narrative_tracker import db
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.surfaces.report import write_report

    book = tmp_path / "codebook.yaml"
    book.write_text("detection: {default_threshold: 0.6, top_k: 1, keyword_bonus: 0.0}\nnarratives:\n"
                    "  - id: foreign_hand\n    label: The West organised the unrest\n    examples: [\"The West organised it.\"]\n")
    article = tmp_path / "in" / "interview.txt"
    article.parent.mkdir()
    article.write_text(
        "Jan 10, 2022\n0 0\n\nInterview on the unrest\n\n"
        "That is, the protesters were not the organisers? Did the West organise it, then?\n\n"
        "The West organised the riots to topple the government; the script was written in Washington.\n\n"
        "Fuel prices doubled at the start of the year.\n"
    )
    path = tmp_path / "q.duckdb"
    with db.connection(path) as con:
        run_stages(con, [article.parent], topic_embedder, load_codebook(book))
        rows = con.execute("SELECT p.text, pn.stance, pn.stance_cue, pn.stance_confidence, pn.stance_model FROM paragraph_narratives pn "
                           "JOIN paragraphs p USING (paragraph_id) WHERE pn.narrative_id = 'foreign_hand' ORDER BY p.position").fetchall()
        assert len(rows) == 2
        question, claim = rows
        assert question[1] == "reports" and question[2] == "question"
        assert claim[1] == "asserts" and claim[3] is not None and claim[4]
        daily = con.execute("SELECT sum(paragraphs), sum(asserted) FROM narrative_daily WHERE narrative_id = 'foreign_hand'").fetchone()
        assert daily == (2, 1)
        amp = con.execute("SELECT paragraphs, asserted_paragraphs FROM narrative_amplification WHERE narrative_id = 'foreign_hand'").fetchone()
        assert amp == (2, 1)
    db.publish(path)
    html = write_report(path, tmp_path / "r.html", dt.date(2022, 1, 10)).read_text()
    assert "script was written in Washington" in html and "Did the West organise it" not in html


def test_review_round_trip_changes_assignments(tmp_path, topic_embedder, embedder):
    """export -> an analyst labels -> train -> re-assign: the reviewed pairs' stances follow the labels."""
    import csv

    from conftest import SAMPLE, run_stages

    from narrative_tracker import db
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.narratives.assign import assign_codebook
    from narrative_tracker.narratives.review import export_review, load_review
    from pipelines.cli import main

    book = tmp_path / "codebook.yaml"
    book.write_text("detection: {default_threshold: 0.6, top_k: 1, keyword_bonus: 0.0}\nnarratives:\n"
                    "  - id: csto_justification\n    label: The CSTO deployment was justified\n"
                    "    examples: [\"The CSTO deployment was right.\"]\n")
    codebook = load_codebook(book)
    path = tmp_path / "r.duckdb"
    days = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))
    with db.connection(path) as con:
        run_stages(con, [SAMPLE], topic_embedder, codebook)
        before = dict(con.execute("SELECT paragraph_id, stance FROM paragraph_narratives").fetchall())
    assert before
    db.publish(path)
    review = tmp_path / "review.csv"
    assert main(["review", "--db", str(path), "--out", str(review), "--limit", "4"]) == 0
    rows = list(csv.DictReader(review.open()))
    assert 0 < len(rows) <= 4 and rows[0]["correct_stance"] == ""
    for row in rows:  # the analyst: every one of these asserts the claim
        row["correct_narrative"], row["correct_stance"] = "yes", "asserts"
    with review.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert load_review(review)[2] == ["asserts"] * len(rows)
    out = tmp_path / "model"
    assert main(["train-stance", "--features", "--pairs", str(PAIRS), "--no-labelled", "--review", str(review),
                 "--out", str(out), "--version", "reviewed-1"]) == 0  # the frozen-feature model's review loop
    model = StanceModel.load(out, embedder=embedder)
    with db.connection(path) as con:
        assign_codebook(con, codebook, topic_embedder.name, *days, stance_model=model)
        after = dict(con.execute("SELECT paragraph_id, stance FROM paragraph_narratives WHERE stance_model = 'reviewed-1'").fetchall())
    reviewed = [r["paragraph_id"] for r in rows]
    agreeing_before = sum(before[p] == "asserts" for p in reviewed)
    agreeing_after = sum(after[p] == "asserts" for p in reviewed)
    assert agreeing_after > agreeing_before  # the analyst's labels changed assignments


def test_bad_review_csv_is_a_clear_error(tmp_path):
    from narrative_tracker.narratives.review import load_review

    bad = tmp_path / "r.csv"
    bad.write_text("claim,text,stance,correct_narrative,correct_stance\nc,t,asserts,maybe,\n")
    with pytest.raises(ValueError, match="r.csv:2: correct_narrative"):
        load_review(bad)
