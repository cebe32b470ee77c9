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
