"""What a discovered narrative claims: a one-sentence claim label and distinctive terms.

* ``claim_label``: the most central *sentence* of the cluster — members are split into sentences
  (``split_sentences``) and the sentence whose embedding is closest to the cluster centroid wins, so the label
  is always a sentence some member actually contains (not a summary nobody wrote). Only the ``CLAIM_MEMBERS``
  members closest to the centroid are split, which keeps the extra embedding to a few sentences per cluster;
  a one-sentence member reuses its paragraph vector. Questions and fragments (fewer than ``MIN_WORDS`` words)
  are passed over while a statement is available.
* ``distinctive_terms``: KeyBERT-style terms over c-TF-IDF candidates. c-TF-IDF (BERTopic's class-based
  TF-IDF) ranks uni- and bigrams per cluster; n-grams never span or contain a stop word (``stop_words``) and
  never contain a stop-phrase (``STOP_PHRASES``), so "ablyazov / tokayev / court / did" cannot happen. The top
  ``CANDIDATES`` are then re-ranked by maximal marginal relevance (MMR) between their embedding's closeness to
  the cluster centroid and their redundancy with terms already picked (``DIVERSITY``).

Sentence splitting: ``sentencex`` (Wikimedia's rule-based segmenter, ~300 languages, no model files, pure
Python) rather than a regex: it knows abbreviations ("Dr.", "U.S.") per language. The stop-word source is one
small function, ``stop_words(language)``, so per-language lists can replace it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, d) unit vectors, same space as the members

CLAIM_MEMBERS = 5  # most central members split into sentences for the claim label
MIN_WORDS = 4  # shorter sentences are fragments ("Read more.") unless nothing else is left
MAX_CHARS = 300  # a longer "sentence" is a run-on paragraph: a fallback only
CANDIDATES = 20  # c-TF-IDF candidates per cluster re-ranked by MMR
SENTENCE_BUDGET = 4_000  # sentences embedded per discovery run for claim labels (one batch)
TERM_BUDGET = 4_000  # candidate terms embedded per discovery run for MMR (fewer candidates per cluster when many)
DIVERSITY = 0.2  # MMR trade-off (BERTopic's MaximalMarginalRelevance default is 0.1): 0 = closest to the centroid only, 1 = most different from terms picked
_BREAK = re.compile(r"[|.!?;:,()\[\]\"“”«»„—–]+")  # no n-gram spans punctuation or a removed stop-phrase
_TOKEN = re.compile(r"(?u)\b[^\W\d_][\w'’-]*[\w]|\b[^\W\d_]\b")

# Function words the stop list lacks but news text is full of: reporting verbs, auxiliaries, vague nouns.
_EXTRA_STOP_WORDS = frozenset(
    """
    said says say saying told tell tells according reportedly reported claimed claims allegedly did does doing
    didn't doesn't don't isn't aren't wasn't weren't won't can't couldn't wouldn't shouldn't it's that's there's
    he's she's they're we're i'm let's just like really going got get gets make makes made let lets want wants
    mr mrs ms dr year years week weeks day days month months time times today yesterday way thing things lot lots
    new old good bad big small great little number part people world country countries use used using
    """.split()
)

# Multi-word phrases that are boilerplate, not content: no term may contain one.
STOP_PHRASES = (
    "read more", "click here", "all rights reserved", "rights reserved", "sign up", "subscribe now", "cookie policy",
    "privacy policy", "follow us", "share this", "press conference", "news agency", "told reporters", "last year",
    "this year", "next year", "per cent", "percent", "years ago", "last week", "last month", "recent years",
)


@lru_cache(maxsize=64)
def stop_words(language: str = "en") -> frozenset[str]:
    """Words never used as (or inside) a term. English: scikit-learn's list plus news function words.

    The one place stop words come from. Another language (ISO 639-1, e.g. ``ru``): the ``stop-words`` package's
    list for it plus the English list (which still removes English boilerplate quoted in other languages);
    unknown ones get the English list. Several languages joined by ``+`` (``en+ru``, a corpus in both): the union.
    """
    words = set(_english_stop_words())
    codes = {code for code in (language or "en").split("+") if code and code != "en"}
    if codes:
        from stop_words import LANGUAGE_MAPPING, get_stop_words

        for code in codes:
            if code in LANGUAGE_MAPPING:
                words |= {w.lower() for w in get_stop_words(code)}
    return frozenset(words)


@lru_cache(maxsize=1)
def _english_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _EXTRA_STOP_WORDS


def split_sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of ``text`` (stripped, empty ones dropped), by ``sentencex`` (``language``: ISO 639-1)."""
    from sentencex import segment

    return [s.strip() for s in segment((language or "en").split("+")[0], text) if s.strip()]


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'").removesuffix("'s") for w in _TOKEN.findall(text)]


def term_analyzer(language: str = "en") -> Callable[[str], list[str]]:
    """A ``CountVectorizer`` analyzer: unigrams and bigrams of runs of non-stop words (an n-gram never spans a
    removed stop word), without stop-phrases; tokens of one character are dropped."""
    stops = stop_words(language)
    phrases = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in STOP_PHRASES) + r")\b")

    def analyze(doc: str) -> list[str]:
        out: list[str] = []
        for fragment in _BREAK.split(phrases.sub(" | ", doc.lower().replace("’", "'"))):
            run: list[str] = []
            for w in [*_words(fragment), ""]:
                if not w or w in stops or len(w) < 2 or w.strip("'-") in stops:
                    for i, a in enumerate(run):
                        out.append(a)
                        if i + 1 < len(run):
                            out.append(f"{a} {run[i + 1]}")
                    run = []
                else:
                    run.append(w)
        return out

    return analyze


def c_tf_idf(texts: Sequence[str], labels: np.ndarray, language: str = "en") -> tuple[list[int], np.ndarray, np.ndarray]:
    """``(clusters, vocabulary, weights (clusters, vocabulary))``: class-based TF-IDF as in BERTopic — a cluster's
    term frequencies times ``log(1 + mean words per cluster / frequency of the term over all clusters)``."""
    from sklearn.feature_extraction.text import CountVectorizer

    clusters = sorted(int(c) for c in set(np.asarray(labels).tolist()) if c >= 0)
    if not clusters:
        return [], np.array([], dtype=object), np.zeros((0, 0))
    docs = [" \n ".join(t for t, l in zip(texts, labels) if l == c) for c in clusters]
    vectorizer = CountVectorizer(analyzer=term_analyzer(language), min_df=1)
    try:
        counts = vectorizer.fit_transform(docs).astype(np.float64)
    except ValueError:  # nothing but stop words
        return clusters, np.array([], dtype=object), np.zeros((len(clusters), 0))
    tf = counts.multiply(1.0 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    avg_words = counts.sum() / len(clusters)
    idf = np.log1p(avg_words / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1e-12))
    return clusters, np.array(vectorizer.get_feature_names_out(), dtype=object), tf.multiply(idf).toarray()


def mmr(target: np.ndarray, candidates: np.ndarray, top_n: int, diversity: float = DIVERSITY) -> list[int]:
    """Maximal marginal relevance: indices of ``top_n`` rows of ``candidates`` (unit vectors) close to ``target``
    and different from each other."""
    if candidates.shape[0] == 0:
        return []
    relevance = candidates @ target
    pairwise = candidates @ candidates.T
    picked = [int(np.argmax(relevance))]
    while len(picked) < min(top_n, candidates.shape[0]):
        rest = [i for i in range(candidates.shape[0]) if i not in picked]
        redundancy = pairwise[np.ix_(rest, picked)].max(axis=1)
        scores = (1 - diversity) * relevance[rest] - diversity * redundancy
        picked.append(rest[int(np.argmax(scores))])
    return picked


def distinctive_terms(
    texts: Sequence[str],
    labels: np.ndarray,
    centroids: dict[int, np.ndarray] | None = None,
    embed: Embed | None = None,
    top_n: int = 5,
    language: str = "en",
) -> dict[int, list[str]]:
    """Up to ``top_n`` terms per cluster (noise, ``-1``, ignored): c-TF-IDF candidates, re-ranked by MMR against
    the cluster's centroid when ``embed`` and ``centroids`` are given, else in c-TF-IDF order without a term that
    contains another one picked ("colour" after "colour revolution")."""
    clusters, vocab, weights = c_tf_idf(texts, labels, language)
    shortlists: dict[int, list[str]] = {}
    per_cluster = max(top_n, min(CANDIDATES, TERM_BUDGET // max(len(clusters), 1)))
    for row, c in enumerate(clusters):
        w = weights[row] if weights.shape[1] else np.zeros(0)
        order = [i for i in np.argsort(-w, kind="stable")[: per_cluster if embed is not None else CANDIDATES] if w[i] > 0]
        shortlists[c] = [str(vocab[i]) for i in order]
    if embed is not None and centroids is not None:
        unique = sorted({t for terms in shortlists.values() for t in terms})
        vectors = dict(zip(unique, embed(unique))) if unique else {}
        out = {}
        for c, terms in shortlists.items():
            if not terms:
                out[c] = []
                continue
            picked = mmr(centroids[c], np.stack([vectors[t] for t in terms]), len(terms))
            out[c] = _without_overlaps([terms[i] for i in picked], top_n)
        return out
    return {c: _without_overlaps(terms, top_n) for c, terms in shortlists.items()}


def _without_overlaps(terms: Sequence[str], top_n: int) -> list[str]:
    out: list[str] = []
    for term in terms:
        if len(out) >= top_n:
            break
        words = set(term.split())
        if any(words & set(t.split()) for t in out):
            continue
        out.append(term)
    return out


def claim_label(
    member_texts: Sequence[str],
    member_vectors: np.ndarray,
    centroid: np.ndarray,
    embed: Embed | None = None,
    terms: Sequence[str] = (),
    language: str = "en",
) -> str:
    """The most central sentence of a cluster's members (``member_texts`` ordered most central first, with their
    unit vectors). Without ``embed``, sentences of multi-sentence members are ranked by how many of ``terms``
    they contain (then by position), one-sentence members by their own vector."""
    return claim_labels([(member_texts, member_vectors, centroid, terms)], embed, language)[0]


def claim_labels(
    clusters: Sequence[tuple[Sequence[str], np.ndarray, np.ndarray, Sequence[str]]],
    embed: Embed | None = None,
    language: str = "en",
    budget: int = SENTENCE_BUDGET,
) -> list[str]:
    """``claim_label`` for many clusters ``(member texts, member vectors, centroid, terms)`` with one ``embed`` call
    for at most ``budget`` sentences (clusters past the budget rank their sentences lexically), so thousands of
    clusters cost one bounded batch."""
    pools = []
    for texts, vectors, centroid, terms in clusters:
        candidates: list[tuple[str, int, int]] = []  # (sentence, member, position)
        for m, text in enumerate(texts[:CLAIM_MEMBERS]):
            for p, sentence in enumerate(split_sentences(text, language) or [text.strip()]):
                candidates.append((sentence, m, p))
        pool = [c for c in candidates if _usable(c[0])] or [c for c in candidates if len(c[0]) <= MAX_CHARS] or candidates
        singles = {m for m in range(min(CLAIM_MEMBERS, len(texts))) if sum(c[1] == m for c in candidates) == 1}
        scores = np.full(len(pool), np.nan)
        for i, c in enumerate(pool):
            if c[1] in singles:
                scores[i] = float(vectors[c[1]] @ centroid)
        pools.append((pool, scores, centroid, terms))
    wanted: list[tuple[int, int]] = []  # (cluster, pool index) of sentences to embed
    if embed is not None:
        for k, (pool, scores, _, _) in enumerate(pools):
            need = [(k, i) for i in range(len(pool)) if np.isnan(scores[i])]
            if len(wanted) + len(need) <= budget:
                wanted += need
    if wanted:
        vectors = embed([pools[k][0][i][0] for k, i in wanted])
        for (k, i), v in zip(wanted, vectors):
            pools[k][1][i] = float(v @ pools[k][2])
    out = []
    for pool, scores, _, terms in pools:
        if not pool:
            out.append("")
            continue
        want = [set(t.split()) for t in terms]
        for i in np.flatnonzero(np.isnan(scores)):
            words = set(_words(pool[i][0]))
            # below any cosine: a lexical score only ranks the sentences nothing embedded
            scores[i] = -2.0 + sum(w <= words for w in want) / (1 + len(want)) - pool[i][2] * 1e-3
        best = max(range(len(pool)), key=lambda i: (scores[i], -pool[i][1], -pool[i][2]))
        out.append(pool[best][0])
    return out


def _usable(sentence: str) -> bool:
    return len(_words(sentence)) >= MIN_WORDS and len(sentence) <= MAX_CHARS and not sentence.rstrip().endswith("?")
