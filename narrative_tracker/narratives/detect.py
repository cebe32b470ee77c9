"""Codebook detection: score every paragraph against every codebook narrative.

For paragraph *p* and narrative *k* (arrays: ``P`` is ``(n, d)`` unit vectors, ``E_k`` is ``(m_k, d)``):

* ``similarity[p, k]`` = mean of the ``top_k`` largest cosines between *p* and the examples of *k*;
* ``keyword[p, k]`` = 1 when one of *k*'s keyword patterns matches the paragraph text;
* ``context[p, k]`` = the larger similarity of the previous and next paragraph of the same article;

``score = similarity + keyword_bonus * keyword + context_weight * context``, and *p* is assigned to *k*
when ``score >= threshold_k`` (multi-label). Scores of different narratives are not on one scale; a
narrative's ``calibration`` ``(a, b)`` (Platt scaling fitted on labelled data) turns its score into a
``confidence`` — a probability that *is* comparable across narratives. The evidence stored with each assignment is the closest
example statement and its cosine. Parameters live in the codebook (``detection:``), thresholds per
narrative; how they were chosen is in the README ("Detection").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from narrative_tracker.narratives.codebook import Codebook


@dataclass
class Scores:
    """Result of ``score_paragraphs`` for ``n`` paragraphs and ``K`` narratives."""

    narrative_ids: list[str]
    score: np.ndarray  # (n, K) float32 — the combined score that is compared with the threshold
    similarity: np.ndarray  # (n, K) float32 — top-k mean cosine to the examples
    keyword: np.ndarray  # (n, K) bool
    evidence: np.ndarray  # (n, K) int — index of the closest example of each narrative
    evidence_cosine: np.ndarray  # (n, K) float32
    confidence: np.ndarray  # (n, K) float32 — calibrated probability (NaN where the codebook has no calibration)
    # per narrative: what decides it — 'similarity' (this module) or a heads artifact's key (apply_heads)
    detectors: list[str] | None = None

    def assigned(self, thresholds: np.ndarray) -> np.ndarray:
        """``(n, K)`` bool: which narratives each paragraph carries."""
        return self.score >= thresholds[None, :]


def example_similarity(vectors: np.ndarray, examples: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(similarity (n,), best example index (n,), best cosine (n,))`` of paragraphs to one narrative's examples."""
    cos = vectors @ examples.T  # (n, m)
    best = cos.argmax(axis=1)
    best_cos = cos[np.arange(cos.shape[0]), best]
    k = max(1, min(top_k, cos.shape[1]))
    top = np.partition(cos, cos.shape[1] - k, axis=1)[:, -k:] if cos.shape[1] > k else cos
    return top.mean(axis=1).astype(np.float32), best, best_cos.astype(np.float32)


def neighbour_max(values: np.ndarray, groups: Sequence[str], positions: Sequence[int]) -> np.ndarray:
    """For each row, the max of ``values`` over the previous and next row of the same group (by position)."""
    n = values.shape[0]
    out = np.zeros_like(values)
    order = sorted(range(n), key=lambda i: (groups[i], positions[i]))
    for a, b in zip(order, order[1:]):
        if groups[a] == groups[b]:
            out[a] = np.maximum(out[a], values[b])
            out[b] = np.maximum(out[b], values[a])
    return out


def score_paragraphs(
    codebook: Codebook,
    example_vectors: dict[str, np.ndarray],
    vectors: np.ndarray,
    texts: Sequence[str],
    groups: Sequence[str] | None = None,
    positions: Sequence[int] | None = None,
) -> Scores:
    """Score ``n`` paragraphs (``vectors`` ``(n, d)``, unit rows) against every codebook narrative.

    ``groups`` (article ids) and ``positions`` give the neighbours for the context term; without them the
    context term is zero.
    """
    n, K = vectors.shape[0], len(codebook.narratives)
    params = codebook.params
    similarity = np.zeros((n, K), np.float32)
    keyword = np.zeros((n, K), bool)
    evidence = np.zeros((n, K), np.int64)
    evidence_cos = np.zeros((n, K), np.float32)
    for j, narrative in enumerate(codebook.narratives):
        if n:
            similarity[:, j], evidence[:, j], evidence_cos[:, j] = example_similarity(vectors, example_vectors[narrative.id], params.top_k)
        if narrative.keywords:  # each search under a time limit (codebook.CodebookNarrative.keyword_matches)
            keyword[:, j] = narrative.keyword_matches(list(texts))
    score = similarity + params.keyword_bonus * keyword
    if params.context_weight and groups is not None and positions is not None and n:
        score = score + params.context_weight * neighbour_max(similarity, groups, positions)
    confidence = np.full((n, K), np.nan, np.float32)
    for j, narrative in enumerate(codebook.narratives):
        if narrative.calibration is not None:
            a, b = narrative.calibration
            confidence[:, j] = 1.0 / (1.0 + np.exp(-(a * score[:, j] + b)))
    return Scores(codebook.ids, score.astype(np.float32), similarity, keyword, evidence, evidence_cos, confidence)


def thresholds_of(codebook: Codebook) -> np.ndarray:
    return np.array([codebook.threshold(i) for i in codebook.ids], np.float32)


# Corpus-relative operating point for a narrative with no ``threshold`` of its own (a new narrative, no labels):
# assigned when its similarity is RELATIVE_Z robust standard deviations (median / 1.4826·MAD) above its median
# over a reference sample of the corpus's paragraphs (mostly same-topic background) AND it is the paragraph's
# closest narrative (margin >= 0 over every other narrative). Chosen on the tune part of the labelled set
# (grid z in 0.5..3, margin in -0.1..0.1; the five first examples of each narrative, no keywords, no threshold).
RELATIVE_Z = 0.5
RELATIVE_MARGIN = 0.0


def relative_assigned(scores: Scores, codebook: Codebook, reference_similarity: np.ndarray | None = None) -> np.ndarray:
    """``(n, K)`` bool like :meth:`Scores.assigned`, where narratives without a threshold use the corpus-relative
    operating point; ``reference_similarity`` ``(m, K)``: similarities of a corpus sample (default: these paragraphs)."""
    hits = scores.assigned(thresholds_of(codebook))
    if codebook.params.operating_point != "relative":
        return hits
    relative = [j for j, n in enumerate(codebook.narratives) if n.threshold is None]
    if not relative or not scores.similarity.shape[0]:
        return hits
    ref = scores.similarity if reference_similarity is None or not len(reference_similarity) else reference_similarity
    median = np.median(ref, axis=0)
    spread = np.maximum(np.median(np.abs(ref - median), axis=0) * 1.4826, 1e-6)
    z = (scores.similarity - median) / spread
    for j in relative:
        others = np.delete(scores.similarity, j, axis=1)
        margin = scores.similarity[:, j] - (others.max(axis=1) if others.shape[1] else -np.inf)
        hits[:, j] = (z[:, j] >= RELATIVE_Z) & (margin >= RELATIVE_MARGIN)
    return hits


def apply_heads(scores: Scores, hits: np.ndarray, heads, vectors: np.ndarray) -> np.ndarray:
    """Let trained heads (``narrative_tracker.narratives.heads.Heads``) decide the narratives they have a head for.

    For those narratives ``score`` and ``confidence`` become the head's probability and a paragraph is assigned
    when it clears the head's threshold; ``similarity``, ``keyword`` and the evidence stay the similarity
    detector's (the closest example is still shown as evidence). Every other narrative keeps ``hits`` as given.
    Sets ``scores.detectors``; returns the new ``(n, K)`` bool assignment matrix."""
    from narrative_tracker.narratives.heads import SIMILARITY

    hits = np.array(hits, dtype=bool, copy=True)
    scores.detectors = [SIMILARITY] * len(scores.narrative_ids)
    if heads is None or not len(scores.narrative_ids):
        return hits
    columns = [(j, heads.index(nid)) for j, nid in enumerate(scores.narrative_ids) if heads.index(nid) is not None]
    if not columns:
        return hits
    proba = heads.proba(vectors) if len(vectors) else np.zeros((0, len(heads.narrative_ids)), np.float32)
    for j, h in columns:
        scores.score[:, j] = proba[:, h]
        scores.confidence[:, j] = proba[:, h]
        hits[:, j] = proba[:, h] >= heads.thresholds[h]
        scores.detectors[j] = heads.key
    return hits
