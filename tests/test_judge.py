"""Retrieve, then decide (narratives/judge.py): candidates from stage 1, decisions by the pair model, the language
fallback, and the real shipped pair model on paragraphs written for this test."""

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from narrative_tracker.narratives import judge as J
from narrative_tracker.narratives.codebook import load_codebook
from narrative_tracker.narratives.detect import score_paragraphs
from narrative_tracker.narratives.pair_model import CLASSES, PairScores


class WordPairModel:
    """Fake pair model: 'unrelated' unless the text shares a content word with the claim; 'refutes' when the text
    says 'false', 'reports' when it says 'said', else 'asserts'. Records what it was asked."""

    key = "pair:fake"

    def __init__(self):
        self.asked: list[tuple[str, str]] = []

    def score(self, claims, texts, evidence=None):
        rows = []
        for claim, text in zip(claims, texts):
            self.asked.append((claim, text))
            words = {w for w in claim.lower().split() if len(w) > 4}
            related = any(w in text.lower() for w in words)
            label = "unrelated" if not related else "refutes" if "false" in text else "reports" if "said" in text else "asserts"
            p = np.full(4, 0.02, np.float32)
            p[CLASSES.index(label)] = 0.94
            rows.append(p)
        return PairScores(np.stack(rows) if rows else np.zeros((0, 4), np.float32), list(texts))


@pytest.fixture
def book():
    return load_codebook()


def _scores(book, topic_embedder, texts):
    examples = {n.id: topic_embedder.encode(list(n.examples)) for n in book.narratives}
    vectors = topic_embedder.encode(texts)
    return score_paragraphs(book, examples, vectors, texts), vectors, examples


def test_candidates_add_keyword_matches_and_near_misses(book, topic_embedder):
    texts = ["Completely unrelated sports news about football.", "A colour revolution is being staged here."]
    scores, _, _ = _scores(book, topic_embedder, texts)
    hits = np.zeros(scores.similarity.shape, bool)
    mask = J.candidate_mask(scores, book, hits)
    fh = book.ids.index("foreign_hand")
    assert mask[1, fh]  # keyword 'colou?r revolution' proposes it even though stage 1 did not assign it
    lowest = book.threshold("foreign_hand") - J.CANDIDATE_MARGIN
    scores.similarity[0, fh] = lowest
    assert J.candidate_mask(scores, book, hits)[0, fh]  # at the threshold less the margin
    scores.similarity[0, fh] = lowest - 0.01
    scores.keyword[0, fh] = False
    assert not J.candidate_mask(scores, book, hits)[0, fh]


def test_day_one_narratives_use_the_corpus_relative_candidate_rule(book, topic_embedder):
    day_one = replace(book.narratives[0], id="new_one", threshold=None, calibration=None, keywords=())
    fresh = replace(book, narratives=(*book.narratives, day_one))
    texts = [f"paragraph {k} about fuel prices" for k in range(20)] + ["the west planned it all"]
    scores, _, _ = _scores(fresh, topic_embedder, texts)
    mask = J.candidate_mask(scores, fresh, np.zeros(scores.similarity.shape, bool))
    j = fresh.ids.index("new_one")
    assert mask[-1, j] and mask[:, j].sum() < len(texts)  # the outlier above the corpus median, not everything


def test_the_pair_model_decides_and_gives_the_stance(book, topic_embedder):
    texts = ["Western intelligence services planned the unrest from abroad.",
             "The minister said Western intelligence services planned the unrest.",
             "It is false that Western intelligence services planned the unrest.",
             "Islamist militants attacked the airport."]
    scores, vectors, examples = _scores(book, topic_embedder, texts)
    stage1 = np.ones(scores.similarity.shape, bool)  # stage 1 proposes everything
    model = WordPairModel()
    out = J.decide(book, scores, stage1, texts, vectors, examples, pair_model=model)
    fh = book.ids.index("foreign_hand")
    assert [out.stance[(i, fh)][0] for i in range(3)] == ["asserts", "reports", "refutes"]
    assert all(out.stance[(i, fh)][3] == "pair:fake" for i in range(3))
    assert J.RELATED_THRESHOLD <= out.related[0, fh] <= 0.98
    assert out.candidates == stage1.sum() and out.pair_calls == out.candidates * (1 + J.CLAIM_EXAMPLES)
    # what the model read as the claim: the description and the examples closest to the paragraph
    claims = {c for c, t in model.asked if t == texts[0]}
    assert book.narrative("foreign_hand").description in claims


def test_unrelated_pairs_are_not_assigned_even_when_stage1_assigned_them(book, topic_embedder):
    texts = ["Bread prices rose in the capital."]
    scores, vectors, examples = _scores(book, topic_embedder, texts)
    stage1 = np.ones(scores.similarity.shape, bool)
    out = J.decide(book, scores, stage1, texts, vectors, examples, pair_model=WordPairModel())
    assert not out.assigned.any()
    assert np.all(out.related[0] < J.RELATED_THRESHOLD)


def test_paragraphs_in_other_languages_keep_stage1_and_say_so(book, topic_embedder):
    texts = ["Западные спецслужбы организовали беспорядки.", "Western intelligence services planned the unrest."]
    scores, vectors, examples = _scores(book, topic_embedder, texts)
    stage1 = np.zeros(scores.similarity.shape, bool)
    fh = book.ids.index("foreign_hand")
    stage1[:, fh] = True
    model = WordPairModel()
    out = J.decide(book, scores, stage1, texts, vectors, examples, languages=["ru", "en"], pair_model=model)
    assert out.assigned[0, fh] and np.isnan(out.related[0, fh])  # stage 1's decision, no pair-model score
    assert out.stance[(0, fh)][3] != "pair:fake"  # its stance came from the fallback, not the pair model
    assert out.fallback >= 1 and all(t != texts[0] for _, t in model.asked)


def test_without_a_pair_model_stage1_decides(book, topic_embedder):
    texts = ["Western intelligence services planned the unrest from abroad."]
    scores, vectors, examples = _scores(book, topic_embedder, texts)
    stage1 = np.zeros(scores.similarity.shape, bool)
    stage1[0, 0] = True
    out = J.decide(book, scores, stage1, texts, vectors, examples, pair_model=None, vector_model="topic-test")
    assert out.assigned.sum() == 1 and out.pair_key is None and np.isnan(out.related).all()
    assert out.stance[(0, 0)][0] in ("asserts", "reports", "refutes")


def test_event_bound_narratives_never_reach_texts_published_before_their_event(book, topic_embedder):
    texts = ["Islamist militants trained abroad infiltrated the protests.",
             "Islamist militants trained abroad infiltrated the protests."]
    scores, vectors, examples = _scores(book, topic_embedder, texts)
    stage1 = np.ones(scores.similarity.shape, bool)
    isis, fh = book.ids.index("isis_infiltration"), book.ids.index("foreign_hand")
    since = book.narrative("isis_infiltration").since
    assert since is not None and book.narrative("foreign_hand").since is None  # a recurring frame stays open
    days = [since - dt.timedelta(days=1), since]
    allowed = J.allowed_pairs(book, days)
    assert not allowed[0, isis] and allowed[1, isis] and allowed[:, fh].all()
    model = WordPairModel()
    out = J.decide(book, scores, stage1, texts, vectors, examples, pair_model=model, allowed=allowed)
    assert not out.assigned[0, isis] and np.isnan(out.related[0, isis])  # never even judged
    assert out.assigned[1, isis] and out.assigned[0, fh]
    assert J.allowed_pairs(book, None) is None and J.allowed_pairs(book, [None, since])[0].all()  # unknown day: open
    no_pair = J.decide(book, scores, stage1, texts, vectors, examples, pair_model=None, vector_model="topic-test",
                       allowed=allowed)
    assert not no_pair.assigned[0, isis] and no_pair.assigned[1, isis]  # stage 1 alone respects it too
