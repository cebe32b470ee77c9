"""Discovery: cluster the paragraphs no codebook narrative claimed into new, unnamed narratives.

Swappable parts, BERTopic-style:

* ``Reducer``: ``fit_transform(X (n, d)) -> (n, r)`` — default ``UmapReducer`` (umap-learn, cosine metric,
  5 dimensions). Above ``max_fit`` points it fits on a seeded sample and ``transform``s the rest, so
  memory and time stay bounded on 100,000+ paragraphs.
* ``Clusterer``: ``fit_predict(Z (n, r)) -> labels (n,)`` ints, ``-1`` = noise — default
  ``HdbscanClusterer`` (scikit-learn's HDBSCAN; noise stays unassigned).
* ``label_terms``: c-TF-IDF (class-based TF-IDF as in BERTopic: a cluster's term frequencies times
  ``log(1 + mean words per cluster / term frequency over all clusters)``) over unigrams and bigrams.
  Written here in a few lines on top of scikit-learn's ``CountVectorizer`` rather than pulling in
  BERTopic and its plotting stack for one formula.

Everything is seeded: the same input gives the same clusters.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

SEED = 42


class Reducer(Protocol):
    def fit_transform(self, vectors: np.ndarray) -> np.ndarray: ...


class Clusterer(Protocol):
    def fit_predict(self, points: np.ndarray) -> np.ndarray: ...


def auto_min_cluster_size(n: int) -> int:
    """3 for tiny sets, growing with log n: 10 at 2,000 paragraphs, 17 at 50,000, 30 at 10 million (cap 100)."""
    return int(min(100, max(3, round(2.3 * np.log(max(n, 1)) - 7.5))))


@dataclass
class UmapReducer:
    n_components: int = 5
    n_neighbors: int = 15
    max_fit: int = 50_000
    random_state: int = SEED

    def fit_transform(self, vectors: np.ndarray) -> np.ndarray:
        n = vectors.shape[0]
        if n <= self.n_components + 2:
            return vectors
        os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "numba"))
        import umap  # imported here: numba compiles on first import (~10 s)

        reducer = umap.UMAP(
            n_components=min(self.n_components, n - 2),
            n_neighbors=max(2, min(self.n_neighbors, n - 1)),
            min_dist=0.0,
            metric="cosine",
            init="spectral" if n > 100 else "random",
            random_state=self.random_state,
            transform_seed=self.random_state,
        )
        if n <= self.max_fit:
            return reducer.fit_transform(vectors)
        rng = np.random.default_rng(self.random_state)
        sample = np.sort(rng.choice(n, self.max_fit, replace=False))
        reducer.fit(vectors[sample])
        out = np.empty((n, reducer.n_components), np.float32)
        out[sample] = reducer.embedding_
        rest = np.setdiff1d(np.arange(n), sample)
        for start in range(0, rest.size, 50_000):
            chunk = rest[start : start + 50_000]
            out[chunk] = reducer.transform(vectors[chunk])
        return out


@dataclass
class HdbscanClusterer:
    min_cluster_size: int | None = None  # None: auto_min_cluster_size(n)
    min_samples: int | None = None  # None: min(5, min_cluster_size)

    def fit_predict(self, points: np.ndarray) -> np.ndarray:
        from sklearn.cluster import HDBSCAN

        n = points.shape[0]
        mcs = self.min_cluster_size or auto_min_cluster_size(n)
        if n < max(2 * mcs, 6):
            return np.full(n, -1, np.int64)
        model = HDBSCAN(min_cluster_size=mcs, min_samples=self.min_samples or min(5, mcs), copy=True)
        return model.fit_predict(points).astype(np.int64)


def label_terms(texts: Sequence[str], labels: np.ndarray, top_n: int = 5) -> dict[int, list[str]]:
    """The ``top_n`` most distinctive terms of each cluster (c-TF-IDF); noise (-1) is ignored."""
    from sklearn.feature_extraction.text import CountVectorizer

    clusters = sorted(int(c) for c in set(labels.tolist()) if c >= 0)
    if not clusters:
        return {}
    docs = [" ".join(t for t, l in zip(texts, labels) if l == c) for c in clusters]
    vectorizer = CountVectorizer(stop_words="english", ngram_range=(1, 2), token_pattern=r"(?u)\b[^\W\d_][\w'’-]+\b", min_df=1)
    try:
        counts = vectorizer.fit_transform(docs).astype(np.float64)
    except ValueError:  # only stop words
        return {c: [] for c in clusters}
    tf = counts.multiply(1.0 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    avg_words = counts.sum() / len(clusters)
    idf = np.log1p(avg_words / np.asarray(counts.sum(axis=0)).ravel())
    weights = tf.multiply(idf).tocsr()
    vocab = np.array(vectorizer.get_feature_names_out())
    out: dict[int, list[str]] = {}
    for row, c in enumerate(clusters):
        w = weights.getrow(row).toarray().ravel()
        order = np.argsort(-w, kind="stable")
        terms: list[str] = []
        for idx in order:
            if w[idx] <= 0 or len(terms) >= top_n:
                break
            term = vocab[idx]
            if any(term in t or t in term for t in terms):  # skip "colour" after "colour revolution"
                continue
            terms.append(term)
        out[c] = terms
    return out


@dataclass
class Cluster:
    label: int  # the clusterer's label (0..)
    members: np.ndarray  # row indices into the input
    terms: list[str]
    centroid: np.ndarray  # (d,) unit vector
    representatives: list[int]  # row indices, closest to the centroid first

    @property
    def name(self) -> str:
        return " / ".join(self.terms[:4]) if self.terms else f"cluster {self.label}"


@dataclass
class Discovery:
    labels: np.ndarray  # (n,) cluster label per input row, -1 = noise
    clusters: list[Cluster] = field(default_factory=list)

    @property
    def noise_share(self) -> float:
        return float((self.labels < 0).mean()) if self.labels.size else 0.0


def discover(
    vectors: np.ndarray,
    texts: Sequence[str],
    reducer: Reducer | None = None,
    clusterer: Clusterer | None = None,
    n_representatives: int = 3,
) -> Discovery:
    """Cluster ``vectors`` (``(n, d)`` unit rows, one per paragraph ``texts[i]``) into discovered narratives."""
    n = vectors.shape[0]
    if n == 0:
        return Discovery(np.zeros(0, np.int64))
    clusterer = clusterer or HdbscanClusterer()
    mcs = getattr(clusterer, "min_cluster_size", None) or auto_min_cluster_size(n)
    if n < max(2 * mcs, 6):
        return Discovery(np.full(n, -1, np.int64))
    points = (reducer or UmapReducer()).fit_transform(vectors)
    labels = clusterer.fit_predict(points)
    terms = label_terms(texts, labels)
    clusters = []
    for c in sorted(terms):
        members = np.flatnonzero(labels == c)
        centroid = vectors[members].mean(axis=0)
        centroid = centroid / max(np.linalg.norm(centroid), 1e-12)
        closeness = vectors[members] @ centroid
        reps = members[np.argsort(-closeness, kind="stable")[:n_representatives]].tolist()
        clusters.append(Cluster(c, members, terms[c], centroid.astype(np.float32), reps))
    clusters.sort(key=lambda cl: (-cl.members.size, cl.label))
    return Discovery(labels, clusters)
