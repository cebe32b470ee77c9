"""SemEval-2025 Task 10 import, metric, cross-validation mechanics and document-level evaluation."""


import numpy as np
import pytest
import yaml
from conftest import SEMEVAL_EN, HashEmbedder, run_stages

from narrative_tracker.narratives.codebook import load_codebook
from narrative_tracker.evaluation.semeval import cross_validate, samples_f1
from narrative_tracker.material import OTHER, codebook_from_semeval, load_semeval

SEMEVAL = SEMEVAL_EN


def _gold_coarse() -> list[set[str]]:
    """The coarse labels read straight from labels.tsv, independently of ``load_semeval``."""
    rows = [line.split("\t") for line in (SEMEVAL / "labels.tsv").read_text(encoding="utf-8").splitlines() if line.strip()]
    return [set(r[1].split(";")) for r in rows]


@pytest.fixture(scope="module")
def data():
    return load_semeval(SEMEVAL)


def test_load_semeval(data):
    gold = _gold_coarse()
    assert len(data.documents) == len(gold) == len(list((SEMEVAL / "documents").glob("*.txt")))
    assert len(data.narratives) == 21 and OTHER not in data.narratives
    doc = next(d for d in data.documents if d.id == "EN_UA_021270.txt")
    assert "URW: Discrediting Ukraine" in doc.coarse and len(doc.paragraphs) > 3
    assert sum(OTHER in d.coarse for d in data.documents) == sum(OTHER in g for g in gold) > 0


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


def _synthetic(per_topic=6, others=6):
    """A SemEval-shaped set whose answer is known: each labelled document talks of one topic of
    ``TopicEmbedder`` (west / islamist / fuel); "Other" documents talk of football."""
    from narrative_tracker.material import Document, SemEvalData

    topics = {"west": "URW: Blaming the West", "islamist": "URW: Islamist threat", "fuel": "CC: Fuel prices"}
    docs, explanations = [], {}
    for word, name in topics.items():
        for k in range(per_topic):
            file = f"{word}_{k}.txt"
            docs.append(Document(file, f"Title {file}", (f"Paragraph {k} says the {word} matters here.", f"More on {word}, part {k}."),
                                 frozenset({name}), frozenset({f"{name}: Main claim"})))
            explanations.setdefault(name, []).append((file, f"Explanation of {file}: it blames the {word}."))
    for k in range(others):
        docs.append(Document(f"other_{k}.txt", "Sport", (f"Football match number {k} ended in a draw.",),
                             frozenset({OTHER}), frozenset({OTHER})))
    return SemEvalData(tuple(docs), tuple(topics.values()), tuple(f"{n}: Main claim" for n in topics.values()), explanations)


def test_explanations_of_held_out_documents_do_not_leak():
    data = _synthetic()
    train = {d.id for d in data.documents if d.id.endswith(("_0.txt", "_1.txt", "_2.txt"))}
    book = codebook_from_semeval(data, files=train)
    examples = {e for n in book["narratives"] for e in n["examples"]}
    explained = {text: file for notes in data.explanations.values() for file, text in notes}
    assert {f for t, f in explained.items() if t in examples} == {f for f in explained.values() if f in train}
    assert {f for t, f in explained.items() if t not in examples} == {f for f in explained.values() if f not in train}
    assert [n["examples"][0] for n in book["narratives"]] == ["Main claim"] * 3  # the taxonomy statement first


def test_cross_validation_recovers_separable_labels(topic_embedder):
    data = _synthetic()
    result = cross_validate(data, topic_embedder, folds=3, methods=("prototype", "logistic", "logistic_tuned"))
    for method in ("prototype", "logistic"):
        assert result[method] == {"coarse_samples_f1": 1.0, "fine_samples_f1": 1.0}, method
    tuned = result["logistic_tuned"]
    assert (tuned["coarse_samples_f1"], tuned["fine_samples_f1"]) == (1.0, 1.0)
    # one choice per outer fold; a quarter of the training documents are Other, so no fold forces a label
    assert len(tuned["choices"]) == 3 and not any(c["top1"] for c in tuned["choices"])
    assert {c["class_weight"] for c in tuned["choices"]} <= {"balanced", None}
    assert result["always_other"] == {"coarse_samples_f1": 0.25, "fine_samples_f1": 0.25}  # 6 of 24 documents are Other
    assert (result["documents"], result["folds"]) == (24, 3)


def test_cross_validation_with_meaningless_vectors_is_not_perfect(data):
    result = cross_validate(data, HashEmbedder(dim=32), folds=3, methods=("prototype", "logistic", "logistic_tuned"))
    gold = _gold_coarse()  # always answering "Other" scores the share of documents labelled only "Other"
    assert result["always_other"]["coarse_samples_f1"] == pytest.approx(sum(g == {OTHER} for g in gold) / len(gold))
    for method in ("prototype", "logistic", "logistic_tuned"):  # hash vectors carry no meaning: well below the separable case
        assert result[method]["coarse_samples_f1"] < 0.8, method


def test_document_level_evaluation_aggregates_paragraph_assignments(con, tmp_path, topic_embedder, tiny_codebook):
    from narrative_tracker.evaluation.evaluate import evaluate_documents

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


def test_transfer_trains_on_one_split_and_scores_another(topic_embedder):
    from narrative_tracker.evaluation.semeval import transfer

    data = _synthetic()
    result = transfer(data, data, topic_embedder)
    for method in ("prototype", "logistic", "logistic_tuned"):
        assert result[method]["coarse_samples_f1"] == 1.0, method
    # forcing a label on every document costs exactly the 6 Other documents of 24; gating keeps the rest right
    for method in ("tuned+top1", "tuned+top1+domain_gate"):
        assert result[method]["coarse_samples_f1"] == pytest.approx(18 / 24), method
    assert (result["train_documents"], result["test_documents"]) == (24, 24)


def test_title_weighted_counts_the_title_more():
    from narrative_tracker.evaluation.semeval import title_weighted

    doc = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # title, then two body paragraphs
    plain, titled = title_weighted([doc], 1.0)[0], title_weighted([doc], 2.0)[0]
    assert plain == pytest.approx(np.array([1, 2]) / np.sqrt(5), abs=1e-6)
    assert titled == pytest.approx(np.array([1, 1]) / np.sqrt(2), abs=1e-6)


def test_prior_shift_em_recovers_the_target_prior():
    """Posteriors calibrated under a training prior of 0.5 (two unit Gaussians at -1 / +1: p = sigmoid(2x));
    the unlabelled target set has 20% positives. EM must find about 0.2 and lower the posteriors to match."""
    from narrative_tracker.evaluation.semeval import prior_shift_em

    rng = np.random.default_rng(0)
    y = rng.random(4000) < 0.2
    x = np.where(y, 1.0, -1.0) + rng.normal(size=y.size)
    p = 1 / (1 + np.exp(-2 * x))
    q, adjusted = prior_shift_em(p[:, None], np.array([0.5]))
    assert abs(q[0] - 0.2) < 0.03 and p.mean() > 0.3  # unadjusted, the mean posterior is far off
    assert adjusted[:, 0].mean() == pytest.approx(q[0], abs=1e-3)
    assert (adjusted[:, 0] < p).all()


def test_decision_rule_uses_the_top1_fallback_only_when_training_documents_are_never_other():
    from narrative_tracker.evaluation.semeval import _best_rule

    labels = ["a", "b"]
    # no threshold alone separates row 0 (a only, b at 0.2) from row 3 (a at 0.15): the fallback does
    probs = np.array([[0.3, 0.2], [0.1, 0.3], [0.9, 0.1], [0.15, 0.1]])
    t, top1, score = _best_rule(probs, [frozenset("a"), frozenset("b"), frozenset("a"), frozenset("a")], labels)
    assert top1 and 0.2 < t <= 0.3 and score == 1.0
    # row 3 is Other: a plain threshold is right, the fallback would be wrong
    t, top1, score = _best_rule(probs, [frozenset("a"), frozenset("b"), frozenset("a"), frozenset({OTHER})], labels)
    assert not top1 and 0.2 < t <= 0.3 and score == 1.0


def test_domain_gate_keeps_the_labels_of_the_predicted_taxonomy_domain():
    from narrative_tracker.evaluation.semeval import domain_gate

    rng = np.random.default_rng(1)
    war, climate = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    X_train = np.stack([war + rng.normal(scale=0.1, size=3) for _ in range(8)] + [climate + rng.normal(scale=0.1, size=3) for _ in range(8)])
    gold = [frozenset({"URW: Blaming the West"})] * 8 + [frozenset({"CC: Fuel prices"})] * 7 + [frozenset({OTHER})]
    labels = ["URW: Blaming the West", "CC: Fuel prices", "URW: Praise of Russia"]
    mask = domain_gate(X_train, gold, np.stack([war, climate]), labels)
    assert mask.tolist() == [[1, 0, 1], [0, 1, 0]]


def _second_language(data):
    """The synthetic set 'in another language': the same topics in other words around them, and no Other documents
    (like the Russian split)."""
    from narrative_tracker.material import Document, SemEvalData

    docs = tuple(Document("ru_" + d.id, "Заголовок " + d.title, tuple("Статья: " + p for p in d.paragraphs), d.coarse, d.fine)
                 for d in data.documents if OTHER not in d.coarse)
    return SemEvalData(docs, data.narratives, data.subnarratives, {})


def test_joint_cross_validation_trains_on_every_split_and_scores_each(topic_embedder):
    from narrative_tracker.evaluation.semeval_joint import OTHER_WEIGHTS, joint_cross_validate

    en = _synthetic()
    ru = _second_language(en)
    result = joint_cross_validate([en, ru], ["en", "ru"], topic_embedder, folds=3)
    assert result["splits"] == ["en", "ru"] and (result["en"]["documents"], result["ru"]["documents"]) == (24, 18)
    for name in ("en", "ru"):
        joint = result[name]["joint"]
        assert (joint["coarse_samples_f1"], joint["fine_samples_f1"]) == (1.0, 1.0), name
        assert len(joint["choices"]) == 3
        assert all(c["other_weight"] in OTHER_WEIGHTS and c["class_weight"] in ("balanced", None) for c in joint["choices"])
    assert result["ru"]["always_other"]["coarse_samples_f1"] == 0.0  # no Russian document is Other
    assert result["ru"]["best_constant"]["coarse_samples_f1"] == 0.5  # all three topics for every document: F1 2/4 each
    with pytest.raises(ValueError, match="taxonomy"):
        from narrative_tracker.material import SemEvalData

        joint_cross_validate([en, SemEvalData(ru.documents, ("Something else",), (), {})], ["en", "x"], topic_embedder, folds=3)


def test_joint_folds_keep_copies_of_a_document_together():
    """The SemEval train splits file a few documents twice under two ids: a copy never sits in the training part
    of the round that tests the other."""
    from narrative_tracker.evaluation.semeval_joint import _fold_ids

    keys = [("title", (f"body {i}",)) for i in range(20)] + [("title", ("body 3",)), ("title", ("body 11",))]
    folds = _fold_ids(keys, 5, 42)
    assert folds[20] == folds[3] and folds[21] == folds[11]
    assert sorted(np.bincount(folds[:20]).tolist()) == [4, 4, 4, 4, 4]  # the distinct documents, evenly cut


def test_joint_cross_validation_with_meaningless_vectors_is_not_perfect():
    from narrative_tracker.evaluation.semeval_joint import joint_cross_validate

    en = _synthetic()
    result = joint_cross_validate([en, _second_language(en)], ["en", "ru"], HashEmbedder(dim=32), folds=3)
    assert result["en"]["joint"]["coarse_samples_f1"] < 0.8 and result["ru"]["joint"]["coarse_samples_f1"] < 0.8


def test_semeval_train_needs_exactly_one_semeval_folder(capsys):
    from pipelines.cli import main

    assert main(["evaluate", "--semeval", "a", "--semeval", "b", "--semeval-train", "c"]) == 2
    assert "--semeval-train" in capsys.readouterr().err
