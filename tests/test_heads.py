"""Per-narrative heads learned from labels (narrative_tracker/narratives/heads.py): training material, artifact,
detection through the heads, the review round trip, and the fallback to the similarity detector."""

from __future__ import annotations

import csv
import datetime as dt
import json

import numpy as np
import pytest

from narrative_tracker.narratives import heads as H
from narrative_tracker.narratives.codebook import load_codebook
from narrative_tracker.narratives.detect import apply_heads, score_paragraphs

DAYS = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))
CODEBOOK = """
detection: {default_threshold: 0.6, top_k: 1, keyword_bonus: 0.0}
narratives:
  - id: foreign_hand
    label: The West organised the unrest
    examples: ["The West organised it.", "Western services staged the riots."]
  - id: csto_justification
    label: The CSTO deployment was justified
    examples: ["The CSTO deployment was right.", "CSTO troops were rightly called in."]
"""


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(CODEBOOK)
    return load_codebook(path)


def _labelled_csv(path, test_text="The West organised the fuel protests, says the test row."):
    """A tiny labelled set: odd held-out ids are the tune part, even ones the test part (never trained on)."""
    rows = []
    for i in range(1, 41):
        k = (i - 1) // 2
        if i % 2 == 0:
            rows.append((f"h{i:03d}", test_text + f" {i}", "foreign_hand"))
        elif k % 5 in (0, 1):  # 8 tune positives
            rows.append((f"h{i:03d}", f"The West staged unrest number {i} with its agents.", "foreign_hand"))
        elif k % 5 == 2:  # 4 + 8 tune negatives
            rows.append((f"h{i:03d}", f"Fuel prices rose again in region {i}.", ""))
        else:
            rows.append((f"h{i:03d}", f"The West and its fuel traders raised prices {i}.", ""))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "split", "source", "text", "narratives", "stance"])
        for rid, text, labels in rows:
            writer.writerow([rid, "heldout", "written", text, labels, "asserts" if labels else ""])
    return path


def test_material_keeps_tune_and_test_apart(tmp_path, book):
    csv_path = _labelled_csv(tmp_path / "a.csv")
    material = H.labelled_material(csv_path)
    assert len(material) == 20 and all(e.source == "labelled" for e in material)
    assert not any("test row" in e.texts[0] for e in material)  # even ids = test part: never read
    other = _labelled_csv(tmp_path / "b.csv", test_text="Something else entirely in the test part.")
    model = "m"
    assert H.material_sha(H.labelled_material(csv_path), model) == H.material_sha(H.labelled_material(other), model)
    assert H.material_sha(material, model) != H.material_sha(material, "another-model")
    cb = H.codebook_material(book)
    assert [e.label("foreign_hand") for e in cb] == [True, True, False, False]


def test_training_on_a_tiny_labelled_set_round_trips_and_changes_scores(tmp_path, book, topic_embedder):
    report = H.train(book, topic_embedder, labelled=_labelled_csv(tmp_path / "l.csv"), out_dir=tmp_path / "art",
                     version="t1", progress=None)
    heads = report.heads
    assert sorted(p.name for p in (tmp_path / "art").iterdir()) == ["heads-topic-test.json", "heads-topic-test.npz"]
    meta = json.loads((tmp_path / "art" / "heads-topic-test.json").read_text())
    assert meta["model"] == "topic-test" and meta["version"] == "t1" and len(meta["material_sha256"]) == 64
    assert meta["sources"] == {"codebook": 4, "labelled": 20}
    assert meta["per_narrative"]["csto_justification"]["head"] is False  # no labelled positives: similarity
    loaded = H.Heads.load(tmp_path / "art", "topic-test")
    assert loaded.narrative_ids == heads.narrative_ids == ["foreign_hand"] and loaded.key == heads.key
    probe = topic_embedder.encode(["The West staged the riots.", "The West raised fuel prices.", "CSTO troops came."])
    np.testing.assert_allclose(loaded.proba(probe), heads.proba(probe), atol=1e-6)
    # the head learned what the similarity detector cannot: West + fuel is not the narrative
    scores = score_paragraphs(book, {n.id: topic_embedder.encode(list(n.examples)) for n in book.narratives}, probe,
                              ["a", "b", "c"])
    before = scores.assigned(np.array([0.6, 0.6], np.float32))
    assert before[:, 0].tolist() == [True, True, False]
    after = apply_heads(scores, before, loaded, probe)
    assert after[:, 0].tolist() == [True, False, False]
    assert after[:, 1].tolist() == before[:, 1].tolist()  # no head: the similarity detector's decision
    assert scores.detectors == [loaded.key, H.SIMILARITY]
    assert 0.0 <= scores.confidence[1, 0] < loaded.thresholds[0] <= scores.confidence[0, 0] <= 1.0


def test_heads_need_enough_labels_and_match_their_model(tmp_path, book, topic_embedder):
    with pytest.raises(ValueError, match="enough labels"):
        H.train(book, topic_embedder, labelled=False, write=False, progress=None)  # codebook examples alone: no head
    heads = H.train(book, topic_embedder, labelled=_labelled_csv(tmp_path / "l.csv"), out_dir=tmp_path, progress=None).heads
    with pytest.raises(ValueError, match="topic-test"):
        H.Heads.load(tmp_path / "heads-topic-test.json", "hash-test")
    with pytest.raises(FileNotFoundError, match="narratives train"):
        H.resolve_heads(tmp_path / "nothing-here.json", "topic-test")
    assert H.resolve_heads("none", "topic-test") is None
    assert H.resolve_heads("", "topic-test") is None  # nothing shipped for this model: similarity detector
    assert H.resolve_heads(tmp_path, "topic-test").key == heads.key


def _article(folder, name, paragraphs):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("Jan 10, 2022\n0 0\n\nNews of the day\n\n" + "\n\n".join(paragraphs) + "\n")


def test_review_csv_train_changes_assignments_and_runs_fall_back_without_heads(tmp_path, book, topic_embedder):
    """A run on a real DuckDB file (similarity detector) -> `narratives review` CSV -> the analyst says the
    fuel-price paragraphs are not the narrative -> heads trained on the CSV -> re-assignment drops them, and the
    rows say which model decided."""
    from conftest import run_stages

    from narrative_tracker import db
    from narrative_tracker.narratives.assign import assign_codebook
    from narrative_tracker.narratives.review import export_review

    inbox = tmp_path / "in"
    _article(inbox, "a.txt", [f"The West organised riot number {i} through its agents." for i in range(8)])
    _article(inbox, "b.txt", [f"Traders from the west pushed fuel prices up in town {i}." for i in range(8)])
    path = tmp_path / "h.duckdb"
    with db.connection(path) as con:
        run_stages(con, [inbox], topic_embedder, book)
        before = con.execute("SELECT p.text, pn.detection_model FROM paragraph_narratives pn JOIN paragraphs p "
                             "USING (paragraph_id) WHERE pn.narrative_id = 'foreign_hand'").fetchall()
        assert len(before) == 16 and {m for _, m in before} == {H.SIMILARITY}  # no heads: the similarity detector
        review = tmp_path / "review.csv"
        assert export_review(con, review, limit=50) == 16
    rows = list(csv.DictReader(review.open(encoding="utf-8")))
    for row in rows:
        row["correct_narrative"] = "no" if "fuel" in row["text"] else "yes"
    with review.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert sum(e.label("foreign_hand") is False for e in H.review_material(review)) == 8
    heads = H.train(book, topic_embedder, labelled=False, reviews=[review], out_dir=tmp_path / "art", progress=None).heads
    assert heads.narrative_ids == ["foreign_hand"]
    with db.connection(path) as con:
        report = assign_codebook(con, book, topic_embedder.name, *DAYS, heads=heads)
        after = con.execute("SELECT p.text, pn.detection_model, pn.confidence FROM paragraph_narratives pn JOIN paragraphs p "
                            "USING (paragraph_id) WHERE pn.narrative_id = 'foreign_hand'").fetchall()
        assert report.detectors == {"foreign_hand": heads.key, "csto_justification": H.SIMILARITY}
        assert len(after) == 8 and all("fuel" not in t and m == heads.key and c >= heads.thresholds[0] for t, m, c in after)
        assign_codebook(con, book, topic_embedder.name, *DAYS, heads=None)  # no artifact: back to similarity
        assert con.execute("SELECT count(*), any_value(detection_model) FROM paragraph_narratives "
                           "WHERE narrative_id = 'foreign_hand'").fetchone() == (16, H.SIMILARITY)
        with pytest.raises(ValueError, match="trained on"):
            assign_codebook(con, book, "another-model", *DAYS, heads=heads)


def test_analyst_decisions_in_the_database_are_training_material(tmp_path, book, topic_embedder):
    """A rejected discovered narrative's members are negatives for every codebook narrative; a promoted one's are
    positives for the codebook id it was promoted to (vectors read from the database, not re-embedded)."""
    from conftest import run_stages

    from narrative_tracker import db
    from narrative_tracker.narratives.decisions import record_decision
    from narrative_tracker.paragraphs.clean import text_hash

    inbox = tmp_path / "in"
    fuel = [f"Drivers in town {i} queued for hours after fuel prices went up again this week." for i in range(3)]
    west = [f"The West organised riot number {i}." for i in range(2)]
    _article(inbox, "a.txt", fuel + west)
    with db.connection(tmp_path / "d.duckdb") as con:
        run_stages(con, [inbox], topic_embedder, book)
        now = dt.datetime(2026, 12, 1)
        for nid, texts in (("d_fuel", fuel), ("d_west", west)):
            con.execute("INSERT INTO narratives (narrative_id, label, origin, paragraphs, status, created_at, updated_at) "
                        "VALUES ($n, $n, 'discovered', 0, 'active', $t, $t)", {"n": nid, "t": now})
            for text in texts:
                con.execute("INSERT INTO discovered_members VALUES ($n, $h, 0.9)", {"n": nid, "h": text_hash(text)})
        record_decision(con, "d_fuel", "reject")
        record_decision(con, "d_west", "promote", "foreign_hand")
        calls = len(topic_embedder.calls)
        material = H.decision_material(con, book, topic_embedder.name)
        assert len(topic_embedder.calls) == calls
    rejected = [e for e in material if e.texts[0] in fuel]
    promoted = [e for e in material if e.texts[0] in west]
    assert len(rejected) == 3 and all(e.label("foreign_hand") is False and e.label("csto_justification") is False for e in rejected)
    assert len(promoted) == 2 and all(e.label("foreign_hand") is True and e.label("csto_justification") is None for e in promoted)
    assert all(e.vector is not None and e.source == "decisions" for e in material)


def test_semeval_documents_are_material_for_the_narratives_of_their_taxonomy(tmp_path, book):
    import yaml

    from conftest import SEMEVAL_EN

    from narrative_tracker.material import OTHER, codebook_from_semeval, load_semeval

    data = load_semeval(SEMEVAL_EN)
    path = tmp_path / "semeval.yaml"
    path.write_text(yaml.safe_dump(codebook_from_semeval(data)))
    imported = load_codebook(path)
    material = H.semeval_material(SEMEVAL_EN, imported)
    assert len(material) == len(data.documents) and all(e.source == "semeval" for e in material)
    for doc, e in zip(data.documents, material):
        assert {imported.narrative(i).label for i in e.positives} == set(doc.coarse) - {OTHER}
        assert e.positives | e.negatives == frozenset(imported.ids)
        assert e.texts[0] == doc.title and e.title_weight == 2.0  # the joint recipe's document vector (docs/models.md)
    assert H.semeval_material(SEMEVAL_EN, book) == []  # Kazakhstan narratives: these labels say nothing about them
    # the title counts twice in the document's vector
    example = H.Example(("title", "body one", "body two"), frozenset(), frozenset(), "semeval", title_weight=2.0)
    vectors = {"title": np.array([1.0, 0.0]), "body one": np.array([0.0, 1.0]), "body two": np.array([0.0, 1.0])}
    got = H.example_vectors([example], None, cache=vectors)[0]
    assert got == pytest.approx(np.array([1.0, 1.0]) / np.sqrt(2), abs=1e-6)
    assert H.material_sha([example], "m") != H.material_sha([H.Example(example.texts, frozenset(), frozenset(), "semeval")], "m")


def test_dagster_resource_resolves_the_configured_heads(tmp_path, book, topic_embedder):
    from assets.resources import CodebookFile, default_resources
    from narrative_tracker.settings import load_settings

    H.train(book, topic_embedder, labelled=_labelled_csv(tmp_path / "l.csv"), out_dir=tmp_path, progress=None)
    resources = default_resources(load_settings({"NARRATIVES_HEADS": str(tmp_path)}))
    assert resources["codebook_file"].load_heads("topic-test").narrative_ids == ["foreign_hand"]
    assert CodebookFile(heads="none").load_heads("topic-test") is None
    assert CodebookFile().load_heads("topic-test") is None


def test_shipped_heads_with_the_real_model(embedder, tmp_path, capsys):
    """`narratives train` on the real model reproduces the shipped artifact's material; the shipped heads beat the
    similarity detector on the labelled set's *test* part, which they never saw."""
    from narrative_tracker.evaluation.evaluate import evaluate_paragraphs

    from pipelines.cli import main

    book = load_codebook()
    assert main(["train", "--out", str(tmp_path), "--version", "cli-1"]) == 0  # the command, on the real model
    trained = H.resolve_heads(tmp_path, embedder.name)
    assert trained.key.startswith("heads:cli-1:") and len(trained.narrative_ids) == 3
    assert "[3/3] csto_justification" in capsys.readouterr().err  # progress on stderr
    shipped = H.resolve_heads("", embedder.name) or trained  # no artifact shipped: the one just trained
    assert shipped.model == embedder.name and shipped.meta["material_sha256"] == trained.meta["material_sha256"], \
        "the shipped heads were trained on other material: retrain them with `make heads-model`"
    material = H.codebook_material(book) + H.labelled_material()
    assert H.material_sha(material, embedder.name) == shipped.meta["material_sha256"]
    with_heads = evaluate_paragraphs(book, embedder, heads=shipped)
    without = evaluate_paragraphs(book, embedder, heads=None)
    assert with_heads["test"]["macro_f1"] > without["test"]["macro_f1"]
    assert with_heads["test"]["paragraphs"] == without["test"]["paragraphs"] == 118


@pytest.fixture(scope="module")
def embedder():
    from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()
