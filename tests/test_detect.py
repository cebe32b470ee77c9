import dataclasses

import numpy as np

from narrative_tracker.narratives.codebook import Codebook, CodebookNarrative, DetectionParams
from narrative_tracker.narratives.detect import neighbour_max, score_paragraphs, thresholds_of


def _unit(*xs):
    v = np.array(xs, np.float32)
    return v / np.linalg.norm(v)


def _book(**params):
    return Codebook(
        (
            CodebookNarrative("a", "A", "", ("a1", "a2"), keywords=(r"\bcoup\b",), threshold=0.8),
            CodebookNarrative("b", "B", "", ("b1",)),
        ),
        DetectionParams(default_threshold=0.5, **params),
    )


EXAMPLES = {"a": np.stack([_unit(1, 0, 0), _unit(1, 1, 0)]), "b": np.stack([_unit(0, 0, 1)])}


def test_scores_multilabel_evidence_and_thresholds():
    book = _book(top_k=1, keyword_bonus=0.0)
    vectors = np.stack([_unit(1, 0, 0), _unit(0, 0, 1), _unit(1, 0, 1), _unit(0, 1, 0)])
    scores = score_paragraphs(book, EXAMPLES, vectors, ["", "", "", ""])
    assert scores.score.shape == (4, 2)
    assigned = scores.assigned(thresholds_of(book))
    assert assigned.tolist() == [[True, False], [False, True], [False, True], [False, False]]
    assert scores.evidence[3, 0] == 1  # (0,1,0) is closest to the second example of "a"
    assert abs(scores.evidence_cosine[0, 0] - 1.0) < 1e-6


def test_top_k_mean_and_keyword_bonus():
    vectors = np.stack([_unit(1, 0, 0)])
    top1 = score_paragraphs(_book(top_k=1), EXAMPLES, vectors, ["a coup attempt"])
    top2 = score_paragraphs(_book(top_k=2), EXAMPLES, vectors, ["a coup attempt"])
    assert top2.similarity[0, 0] < top1.similarity[0, 0]
    bonus = score_paragraphs(_book(top_k=1, keyword_bonus=0.1), EXAMPLES, vectors, ["a coup attempt"])
    assert bonus.keyword[0].tolist() == [True, False]
    assert abs(bonus.score[0, 0] - (top1.similarity[0, 0] + 0.1)) < 1e-6


def test_context_uses_neighbours_of_the_same_article_only():
    values = np.array([[0.1], [0.9], [0.2], [0.8]], np.float32)
    out = neighbour_max(values, ["x", "x", "x", "y"], [0, 1, 2, 0])
    assert out[:, 0].tolist() == [np.float32(0.9), np.float32(0.2), np.float32(0.9), 0.0]
    book = dataclasses.replace(_book(top_k=1, keyword_bonus=0.0, context_weight=0.5))
    vectors = np.stack([_unit(1, 0, 0), _unit(0, 1, 0)])
    with_ctx = score_paragraphs(book, EXAMPLES, vectors, ["", ""], ["art", "art"], [0, 1])
    alone = score_paragraphs(book, EXAMPLES, vectors, ["", ""], ["p", "q"], [0, 0])
    assert with_ctx.score[1, 0] > alone.score[1, 0]


def test_no_paragraphs():
    scores = score_paragraphs(_book(), EXAMPLES, np.zeros((0, 3), np.float32), [])
    assert scores.score.shape == (0, 2)


def test_new_narrative_gets_a_corpus_relative_operating_point():
    """A narrative without a threshold, under ``operating_point: relative``: assigned only where it stands out
    from the corpus background AND is the paragraph's closest narrative; ``default`` keeps the global threshold."""
    from dataclasses import replace

    from narrative_tracker.narratives.codebook import Codebook, CodebookNarrative, DetectionParams
    from narrative_tracker.narratives.detect import Scores, relative_assigned

    # 8 background paragraphs (same topic: similarity ~0.45 to the new narrative), 2 that carry it (0.7)
    sim = np.array([[0.45, 0.3]] * 8 + [[0.70, 0.3], [0.72, 0.9]], np.float32)
    sim[:8, 0] += np.array([-0.08, -0.06, -0.04, -0.02, 0.0, 0.01, 0.02, 0.03], np.float32)
    n = sim.shape[0]
    scores = Scores(["new", "old"], sim.copy(), sim, np.zeros((n, 2), bool), np.zeros((n, 2), int), sim, np.full((n, 2), np.nan))
    book = Codebook((CodebookNarrative("new", "New", "", ("a",)), CodebookNarrative("old", "Old", "", ("b",), threshold=0.8)),
                    DetectionParams(default_threshold=0.4, operating_point="relative"))
    hits = relative_assigned(scores, book)
    assert hits[:, 0].tolist() == [False] * 8 + [True, False]  # the last one is closer to 'old'
    assert hits[:, 1].tolist() == [False] * 9 + [True]  # a narrative with its own threshold keeps it
    default = relative_assigned(scores, replace(book, params=replace(book.params, operating_point="default")))
    assert default[:8, 0].sum() == 6  # the global threshold (0.4) fires on 6 of the 8 same-topic background paragraphs
