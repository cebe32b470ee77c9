"""Retrieve, then decide: the pair model judges every candidate (paragraph, codebook narrative) pair.

Stage 1 — **candidates** (high recall, cheap): the bi-encoder detector (``detect.py``: similarity to the
narrative's examples, keyword patterns, trained heads) proposes a pair when

* stage 1 would assign it (its own threshold / heads / corpus-relative operating point), or
* a keyword pattern of the narrative matches, or
* its similarity is at least the narrative's threshold minus :data:`CANDIDATE_MARGIN` (a narrative with no
  threshold — a day-one narrative — : at least :data:`CANDIDATE_Z` robust standard deviations above its median
  similarity over a reference sample of the corpus).

Stage 2 — **decision** (precise): the pair model (``pair_model.py``) reads the narrative's claim together with
the paragraph, once per claim text in :func:`claim_texts` (the description and the narrative's example statements
closest to the paragraph), and the probabilities are averaged. The pair is assigned when
``related = 1 - P(unrelated)`` is at least :data:`RELATED_THRESHOLD`; its stance is the most probable of
asserts / reports / refutes, with ``stance_confidence`` = that probability renormalised over the three.

Paragraphs the pair model cannot read (its training material is English: a paragraph whose ``language`` is known
and not ``en``) keep stage 1's decision and the previous stance model; their rows record ``pair_model`` NULL and
the run reports how many there were.

The constants were chosen on the *choice half* of the labelled tune part, which the pair model never trains on
(``benchmarks/pair_choice.py``, ``benchmarks/results/pair_choice.json``; grid: claim texts desc / desc + 1, 2, 3, 5
examples / label + 2; threshold 0.3-0.7; margin 0-0.1). Caveat: the trained heads of stage 1 did see that half, so the
grid favours trusting stage 1's candidates (margin 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from narrative_tracker.narratives.codebook import Codebook
from narrative_tracker.narratives.detect import Scores, thresholds_of
from narrative_tracker.narratives.pair_model import CLASSES, STANCES3, PairModel

CANDIDATE_MARGIN = 0.0  # similarity below the narrative's threshold still proposed to the pair model
CANDIDATE_Z = 0.5  # day-one narratives (no threshold): robust z of similarity over the corpus sample
RELATED_THRESHOLD = 0.3  # P(related) from which the pair model assigns
CLAIM_EXAMPLES = 3  # example statements closest to the paragraph read as claims, besides the description
ENGLISH = ("en", None)  # paragraph languages the pair model reads (None: unknown, treated as English)


def allowed_pairs(codebook: Codebook, days: Sequence | None) -> np.ndarray | None:
    """``(n, K)`` bool: False where a paragraph was published before the day its event-bound narrative begins
    (the codebook's ``since:``; a claim from 2015 cannot push a narrative about a 2022 deployment). ``None`` when no
    narrative is event-bound or the days are unknown (labelled material, evaluation)."""
    if days is None or all(n.since is None for n in codebook.narratives):
        return None
    day = np.array([d if d is not None else np.datetime64("NaT") for d in days], dtype="datetime64[D]")
    out = np.ones((len(day), len(codebook.narratives)), bool)
    for j, narrative in enumerate(codebook.narratives):
        if narrative.since is not None:
            out[:, j] = ~(day < np.datetime64(narrative.since, "D"))  # an unknown day (NaT) is never excluded
    return out


def candidate_mask(scores: Scores, codebook: Codebook, hits: np.ndarray, reference_similarity: np.ndarray | None = None) -> np.ndarray:
    """``(n, K)`` bool: the pairs stage 2 judges."""
    mask = np.array(hits, dtype=bool, copy=True) | scores.keyword
    if not scores.similarity.shape[0]:
        return mask
    thresholds = thresholds_of(codebook)
    for j, narrative in enumerate(codebook.narratives):
        if narrative.threshold is not None or codebook.params.operating_point != "relative":
            mask[:, j] |= scores.similarity[:, j] >= thresholds[j] - CANDIDATE_MARGIN
        else:
            ref = scores.similarity if reference_similarity is None or not len(reference_similarity) else reference_similarity
            median = np.median(ref[:, j])
            spread = max(float(np.median(np.abs(ref[:, j] - median)) * 1.4826), 1e-6)
            mask[:, j] |= (scores.similarity[:, j] - median) / spread >= CANDIDATE_Z
    return mask


def claim_texts(narrative, example_cosines: np.ndarray | None, examples: int = CLAIM_EXAMPLES) -> list[str]:
    """What the pair model reads as the narrative's claim for one paragraph: its description (or label) and its
    ``examples`` example statements closest to the paragraph."""
    out = [narrative.description or narrative.label]
    if examples and narrative.examples and example_cosines is not None:
        for k in np.argsort(-example_cosines)[:examples]:
            out.append(narrative.examples[int(k)])
    return out


@dataclass
class Judgement:
    assigned: np.ndarray  # (n, K) bool
    related: np.ndarray  # (n, K) float, NaN where stage 2 did not judge
    stance: dict = field(default_factory=dict)  # (i, j) -> (stance, stance_confidence)
    judged: int = 0  # candidate pairs the pair model read
    fallback: int = 0  # candidate pairs left to stage 1 (language the pair model does not read)
    pair_calls: int = 0  # (claim, paragraph) forward passes


def judge(model: PairModel, codebook: Codebook, scores: Scores, hits: np.ndarray, texts: Sequence[str],
          vectors: np.ndarray, example_vectors: dict[str, np.ndarray], languages: Sequence[str | None] | None = None,
          reference_similarity: np.ndarray | None = None, threshold: float = RELATED_THRESHOLD,
          allowed: np.ndarray | None = None) -> Judgement:
    """Stage 2 over the candidates of stage 1 (see the module docstring); pairs outside ``allowed`` (an ``(n, K)``
    bool mask, see :func:`allowed_pairs`) are never judged."""
    n, K = scores.similarity.shape
    assigned = np.zeros((n, K), bool)
    related = np.full((n, K), np.nan, np.float32)
    out = Judgement(assigned, related)
    mask = candidate_mask(scores, codebook, hits, reference_similarity)
    if allowed is not None:
        mask &= allowed
    languages = list(languages) if languages is not None else [None] * n
    claims, paragraph_texts, owners = [], [], []
    for i, j in np.argwhere(mask):
        if languages[i] not in ENGLISH:
            assigned[i, j] = hits[i, j]
            out.fallback += 1
            continue
        narrative = codebook.narratives[j]
        cos = example_vectors[narrative.id] @ vectors[i] if len(vectors) else None
        for claim in claim_texts(narrative, cos):
            claims.append(claim)
            paragraph_texts.append(texts[i])
            owners.append((int(i), int(j)))
    out.pair_calls = len(claims)
    if not claims:
        return out
    proba = model.score(claims, paragraph_texts).proba
    sums: dict[tuple[int, int], np.ndarray] = {}
    counts: dict[tuple[int, int], int] = {}
    for owner, row in zip(owners, proba):
        sums[owner] = sums.get(owner, 0.0) + row
        counts[owner] = counts.get(owner, 0) + 1
    u = CLASSES.index("unrelated")
    stance_idx = [CLASSES.index(s) for s in STANCES3]
    for (i, j), total in sums.items():
        p = total / counts[(i, j)]
        related[i, j] = 1.0 - p[u]
        out.judged += 1
        if related[i, j] >= threshold:
            assigned[i, j] = True
            stances = p[stance_idx]
            k = int(np.argmax(stances))
            out.stance[(i, j)] = (STANCES3[k], float(stances[k] / max(stances.sum(), 1e-12)))
    return out


@dataclass
class Decisions:
    """What a run writes for one batch of paragraphs: ``assigned`` ``(n, K)``, ``related`` (NaN where stage 1
    decided), and per assigned pair ``(stance, cue, stance_confidence, stance_model_version)``."""

    assigned: np.ndarray
    related: np.ndarray
    stance: dict
    pair_key: str | None = None
    candidates: int = 0
    pair_calls: int = 0
    fallback: int = 0


def decide(codebook: Codebook, scores: Scores, stage1: np.ndarray, texts: Sequence[str], vectors: np.ndarray,
           example_vectors: dict[str, np.ndarray], languages: Sequence[str | None] | None = None,
           reference_similarity: np.ndarray | None = None, pair_model: PairModel | None = None, stance_model=None,
           vector_model: str | None = None, allowed: np.ndarray | None = None) -> Decisions:
    """The one decision path of runs and ``narratives evaluate``: stage 2 by ``pair_model`` when there is one (else
    stage 1's ``stage1`` stands); the stance of pairs the pair model did not decide comes from the frozen-feature
    ``stance_model`` (claim = the narrative's label). Pairs outside ``allowed`` (:func:`allowed_pairs`) are never
    assigned, whichever stage decides."""
    from narrative_tracker.narratives.stance_model import explain, stance_of_pairs

    if allowed is not None:
        stage1 = np.asarray(stage1, dtype=bool) & allowed

    related = np.full(stage1.shape, np.nan, np.float32)
    out = Decisions(np.array(stage1, dtype=bool, copy=True), related, {})
    if pair_model is not None:
        verdict = judge(pair_model, codebook, scores, stage1, texts, vectors, example_vectors, languages, reference_similarity,
                        allowed=allowed)
        out.assigned, out.related = verdict.assigned, verdict.related
        out.pair_key, out.candidates = pair_model.key, verdict.judged + verdict.fallback
        out.pair_calls, out.fallback = verdict.pair_calls, verdict.fallback
        for (i, j), (stance, conf) in verdict.stance.items():
            out.stance[(i, j)] = (stance, explain(stance, texts[i], texts[i]), round(conf, 4), pair_model.key)
    rest = [(int(i), int(j)) for i, j in np.argwhere(out.assigned) if (int(i), int(j)) not in out.stance]
    if rest:
        stances = stance_of_pairs([codebook.narratives[j].label for _, j in rest], [texts[i] for i, _ in rest],
                                  vectors[[i for i, _ in rest]], vector_model=vector_model, model=stance_model)
        out.stance.update(zip(rest, stances))
    return out
