"""Discovery: cluster paragraphs into specific narratives (claims), inside or outside the codebook's frames.

Swappable parts, BERTopic-style:

* ``Reducer``: ``fit_transform(X (n, d)) -> (n, r)`` — default ``UmapReducer`` (umap-learn, cosine metric,
  5 dimensions). Above ``max_fit`` points it fits on a seeded sample and ``transform``s the rest, so
  memory and time stay bounded on 100,000+ paragraphs.
* ``Clusterer``: ``fit_predict(Z (n, r)) -> labels (n,)`` ints, ``-1`` = noise — default
  ``HdbscanClusterer`` (scikit-learn's HDBSCAN; noise stays unassigned).
* labels (``narrative_tracker.narratives.claims``): each cluster's *claim label* is its most central member sentence;
  its terms are c-TF-IDF candidates (class-based TF-IDF as in BERTopic, without stop words or stop-phrases)
  re-ranked KeyBERT-style by maximal marginal relevance. Written on top of scikit-learn's ``CountVectorizer``
  rather than pulling in BERTopic and its plotting stack for one formula.

Scale: above ``max_cluster_points`` (50,000) paragraphs, ``discover`` clusters a seeded sample, assigns
every other paragraph to its nearest cluster centroid (cosine, in the full embedding space) when it is at
least as close as the cluster's own 5th-percentile member, and clusters only the residual again (up to
``rounds`` times). Reduction and HDBSCAN therefore never see more than 50,000 points; the rest is one
matrix product per chunk. ``make bench`` measures 10k / 100k / 1M paragraphs.

Everything is seeded: the same input gives the same clusters.

Length (~360 lines): the reducer, the clusterer and the sampled multi-round assignment are one algorithm whose
constants are tuned together (docs/discovery.md); naming and persistence live in ``claims.py`` and
``discovery_store.py``.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from narrative_tracker.narratives.claims import CLAIM_MEMBERS, Embed, claim_labels, distinctive_terms
from narrative_tracker.settings import numba_cache_default

SEED = 42
MAX_CLUSTER_POINTS = 50_000  # above this, cluster a sample and assign the rest to centroids
ASSIGN_QUANTILE = 0.05  # a paragraph joins a cluster when closer to its centroid than this quantile of its members
MERGE_COSINE = 0.9  # a residual cluster this close to an earlier round's centroid is that cluster's fringe
TERMS_SAMPLE = 2_000  # member texts per cluster read for its c-TF-IDF terms
# Settings when everything is clustered at once, chosen on EUvsDisinfo claims dated before 2019 for the desk's measure
# (benchmarks/discovery_tuning.py, docs/discovery.md): UMAP neighbours, the min_cluster_size divisor, reassignment.
CLAIM_NEIGHBORS = 30  # UMAP neighbours (the sampled path above MAX_CLUSTER_POINTS keeps UmapReducer's 15)
CLAIM_SIZE_DIVISOR = 4  # min_cluster_size = auto_min_cluster_size(n) / this (3 up to ~8,000 texts, 4 up to ~100,000)
SAME_CLAIM_COSINE = 0.9  # merge clusters whose centroids are this close (average linkage): re-joins leaf fragments of a claim
REASSIGN_FLOOR = 0.55  # an outlier joins its nearest cluster when its cosine to the centroid is at least this


class Reducer(Protocol):
    def fit_transform(self, vectors: np.ndarray) -> np.ndarray: ...


class Clusterer(Protocol):
    def fit_predict(self, points: np.ndarray) -> np.ndarray: ...


def auto_min_cluster_size(n: int) -> int:
    """3 for tiny sets, growing with log n: 10 at 2,000 paragraphs, 17 at 50,000, 30 at 10 million (cap 100)."""
    return int(min(100, max(3, round(2.3 * np.log(max(n, 1)) - 7.5))))


def claim_min_cluster_size(n: int) -> int:
    """The default: a quarter of ``auto_min_cluster_size`` (3 up to ~8,000 texts, 4 at 10,000 and 50,000). Chosen on
    EUvsDisinfo claims dated before 2019 (docs/discovery.md): smaller clusters with leaf selection agreed best with
    the fact-checkers' tags, and the outliers they leave are reassigned (``REASSIGN_FLOOR``)."""
    return max(3, round(auto_min_cluster_size(n) / CLAIM_SIZE_DIVISOR))



log = logging.getLogger(__name__)


@contextlib.contextmanager
def _warnings_to_log() -> Iterator[None]:
    """Library warnings raised while reducing (umap-learn, numba, sklearn) go to this module's log, not the user's
    terminal: they describe the libraries, not the user's data."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        log.info("%s: %s", w.category.__name__, w.message)

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
        numba_cache_default()
        with _warnings_to_log():
            return self._fit_transform(vectors, n)

    def _fit_transform(self, vectors: np.ndarray, n: int) -> np.ndarray:
        import umap  # imported here: numba compiles on first import (~10 s)

        reducer = umap.UMAP(
            n_components=min(self.n_components, n - 2),
            n_neighbors=max(2, min(self.n_neighbors, n - 1)),
            min_dist=0.0,
            metric="cosine",
            init="spectral" if n > 100 else "random",
            random_state=self.random_state,
            transform_seed=self.random_state,
            n_jobs=1,  # a seed makes UMAP single-threaded anyway; saying so avoids its warning
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
    min_cluster_size: int | None = None  # None: claim_min_cluster_size(n)
    min_samples: int | None = None  # None: 1 with leaf selection, else min(5, min_cluster_size)
    selection: str = "leaf"  # HDBSCAN cluster_selection_method: 'leaf' (fine-grained claims) or 'eom'

    def fit_predict(self, points: np.ndarray) -> np.ndarray:
        from sklearn.cluster import HDBSCAN

        n = points.shape[0]
        mcs = self.min_cluster_size or claim_min_cluster_size(n)
        if n < max(2 * mcs, 6):
            return np.full(n, -1, np.int64)
        samples = self.min_samples or (1 if self.selection == "leaf" else min(5, mcs))
        model = HDBSCAN(min_cluster_size=mcs, min_samples=samples, cluster_selection_method=self.selection, copy=True)
        return model.fit_predict(points).astype(np.int64)


def label_terms(texts: Sequence[str], labels: np.ndarray, top_n: int = 5) -> dict[int, list[str]]:
    """The ``top_n`` most distinctive terms of each cluster (c-TF-IDF, no stop words); noise (-1) is ignored."""
    return distinctive_terms(texts, labels, top_n=top_n)


@dataclass
class Cluster:
    label: int  # the clusterer's label (0..)
    members: np.ndarray  # row indices into the input
    terms: list[str]
    centroid: np.ndarray  # (d,) unit vector
    representatives: list[int]  # row indices, closest to the centroid first
    claim: str = ""  # the most central member sentence (narrative_tracker.narratives.claims.claim_label)

    @property
    def name(self) -> str:
        """What to show first: the claim label; the terms when there is none."""
        return self.claim or (" / ".join(self.terms[:4]) if self.terms else f"cluster {self.label}")


@dataclass
class Discovery:
    labels: np.ndarray  # (n,) cluster label per input row, -1 = noise
    clusters: list[Cluster] = field(default_factory=list)

    @property
    def noise_share(self) -> float:
        return float((self.labels < 0).mean()) if self.labels.size else 0.0


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def _admission_floors(points: np.ndarray, labels: np.ndarray, found: list[int], centroids: np.ndarray) -> np.ndarray:
    """Per cluster, the cosine a paragraph needs to join it: its ``ASSIGN_QUANTILE`` member's closeness, but never
    below what the sample's own noise reaches (the ``1 - ASSIGN_QUANTILE`` quantile of the noise paragraphs whose
    nearest centroid it is), so a cluster that HDBSCAN let some strays into does not absorb the background."""
    floors = np.array([np.quantile(points[labels == c] @ centroids[i], ASSIGN_QUANTILE) for i, c in enumerate(found)])
    noise = points[labels < 0]
    if noise.shape[0]:
        sims = noise @ centroids.T
        best = sims.argmax(axis=1)
        top = sims[np.arange(best.size), best]
        for i in range(len(found)):
            near = top[best == i]
            if near.size:
                floors[i] = max(floors[i], float(np.quantile(near, 1 - ASSIGN_QUANTILE)))
    return floors


def _sample_and_assign(vectors: np.ndarray, reducer: Reducer, clusterer: Clusterer, max_points: int, rounds: int) -> np.ndarray:
    """Labels for a large input: cluster a seeded sample, assign the rest by nearest centroid, repeat on the residual."""
    n = vectors.shape[0]
    labels = np.full(n, -1, np.int64)
    rng = np.random.default_rng(SEED)
    remaining = np.arange(n)
    next_label = 0
    known = np.zeros((0, vectors.shape[1]), np.float32)  # centroids of earlier rounds, row i = label i
    for _ in range(rounds):
        if remaining.size < 6:
            break
        sample = np.sort(rng.choice(remaining, min(max_points, remaining.size), replace=False))
        sample_labels = clusterer.fit_predict(reducer.fit_transform(vectors[sample]))
        found = sorted(int(c) for c in set(sample_labels.tolist()) if c >= 0)
        rest = np.setdiff1d(remaining, sample, assume_unique=True)
        if not found:
            break
        centroids = np.stack([_unit(vectors[sample[sample_labels == c]].mean(axis=0)) for c in found])
        floors = _admission_floors(vectors[sample], sample_labels, found, centroids)
        remap = np.full(max(found) + 1, -1, np.int64)
        closest = centroids @ known.T if known.shape[0] else np.zeros((len(found), 0), np.float32)
        fresh = np.ones(len(found), bool)
        for i, c in enumerate(found):
            if closest.shape[1] and closest[i].max() >= MERGE_COSINE:  # the fringe of a cluster found before
                remap[c] = int(closest[i].argmax())
                fresh[i] = False
            else:
                remap[c] = next_label + int(fresh[:i].sum())
        hit = sample_labels >= 0
        labels[sample[hit]] = remap[sample_labels[hit]]
        left = []
        for start in range(0, rest.size, 100_000):
            chunk = rest[start : start + 100_000]
            sims = vectors[chunk] @ centroids.T
            best = sims.argmax(axis=1)
            ok = sims[np.arange(chunk.size), best] >= floors[best]
            labels[chunk[ok]] = remap[np.asarray(found)[best[ok]]]
            left.append(chunk[~ok])
        known = np.concatenate([known, centroids[fresh]])  # row i is the centroid of label i
        next_label += int(fresh.sum())
        remaining = np.concatenate(left) if left else np.zeros(0, np.int64)
    return labels


def discover(
    vectors: np.ndarray,
    texts: Sequence[str],
    reducer: Reducer | None = None,
    clusterer: Clusterer | None = None,
    n_representatives: int = 3,
    max_cluster_points: int = MAX_CLUSTER_POINTS,
    rounds: int = 2,
    embed: Embed | None = None,
    reassign_floor: float | None = REASSIGN_FLOOR,
    merge_cosine: float | None = SAME_CLAIM_COSINE,
    languages: Sequence[str | None] | None = None,
) -> Discovery:
    """Cluster ``vectors`` (``(n, d)`` unit rows, one per paragraph ``texts[i]``) into discovered narratives.

    Up to ``max_cluster_points`` rows everything is reduced and clustered; above it, a sample is clustered and
    the rest assigned to the clusters' centroids, with ``rounds`` passes over the residual. ``embed`` (the
    embedder that made ``vectors``) ranks sentences for the claim labels and terms for MMR; without it claim
    labels come from one-sentence members first and terms in c-TF-IDF order. Outliers whose cosine to the
    nearest centroid is at least ``reassign_floor`` join that cluster (``None``: outliers stay unassigned);
    clusters whose centroids are within ``merge_cosine`` are merged first (``None``: no merging). ``languages``
    (ISO 639-1 per row, optional) picks the stop words (every language present) and the sentence rules of the
    claim labels (the most common language).
    """
    n = vectors.shape[0]
    if n == 0:
        return Discovery(np.zeros(0, np.int64))
    clusterer_given = clusterer is not None
    clusterer = clusterer or HdbscanClusterer()
    mcs = getattr(clusterer, "min_cluster_size", None) or claim_min_cluster_size(min(n, max_cluster_points))
    if n < max(2 * mcs, 6):
        return Discovery(np.full(n, -1, np.int64))
    whole = n <= max_cluster_points
    reducer = reducer or (UmapReducer(n_neighbors=CLAIM_NEIGHBORS) if whole else UmapReducer())
    if whole:
        labels = clusterer.fit_predict(reducer.fit_transform(vectors))
    else:
        # The sampled path keeps the coarser settings it was measured with (eom, log-n minimum size): fine leaf
        # clusters of a sample, spread to the rest by centroid, fell apart on the synthetic 1M benchmark
        # (docs/discovery.md, "Cost at scale").
        sampled = clusterer if clusterer_given else HdbscanClusterer(
            min_cluster_size=auto_min_cluster_size(max_cluster_points), min_samples=5, selection="eom")
        labels = _sample_and_assign(vectors, reducer, sampled, max_cluster_points, rounds)
    if whole:
        labels = settle(vectors, labels, merge_cosine, reassign_floor)
    groups = _groups(labels)
    found = sorted(groups)
    centroids = {c: _unit(vectors[groups[c]].mean(axis=0)) for c in found}
    langs = [code or "en" for code in languages] if languages is not None else ["en"] * n
    terms = distinctive_terms(*_terms_sample(texts, labels), centroids=centroids, embed=embed,
                              language="+".join(sorted(set(langs))) or "en")
    orders = {}
    for c in found:
        members = groups[c]
        orders[c] = members[np.argsort(-(vectors[members] @ centroids[c]), kind="stable")]
    # the claim labels of the largest clusters first get the sentence-embedding budget
    by_size = sorted(found, key=lambda c: (-orders[c].size, c))
    central = {c: orders[c][: max(n_representatives, CLAIM_MEMBERS)] for c in found}
    claims = dict(zip(by_size, claim_labels(
        [([texts[i] for i in central[c].tolist()], vectors[central[c]], centroids[c], terms.get(c, [])) for c in by_size], embed,
        language=Counter(langs).most_common(1)[0][0] if langs else "en")))
    clusters = [Cluster(c, np.sort(orders[c]), terms.get(c, []), centroids[c], orders[c][:n_representatives].tolist(), claims[c])
                for c in found]
    clusters.sort(key=lambda cl: (-cl.members.size, cl.label))
    return Discovery(labels, clusters)


def settle(vectors: np.ndarray, labels: np.ndarray, merge_cosine: float | None = SAME_CLAIM_COSINE,
           reassign_floor: float | None = REASSIGN_FLOOR) -> np.ndarray:
    """The steps after HDBSCAN when everything was clustered at once: clusters whose centroids are within
    ``merge_cosine`` are merged (``merge_same_claims``), then outliers within ``reassign_floor`` of the nearest
    centroid (of the merged clusters, not recomputed while reassigning) join it (``reassign_outliers``); ``None``
    skips a step. ``benchmarks/discovery_tuning.py`` scores settings through this same function."""
    if merge_cosine is not None:
        labels = merge_same_claims(vectors, labels, merge_cosine)
    if reassign_floor is not None:
        groups = _groups(labels)
        found = sorted(groups)
        if found:
            centroids = np.stack([_unit(vectors[groups[c]].mean(axis=0)) for c in found])
            labels = reassign_outliers(vectors, labels, found, centroids, reassign_floor)
    return labels


def _groups(labels: np.ndarray) -> dict[int, np.ndarray]:
    """Row indices (ascending) of every cluster label >= 0, from one stable sort (not one scan per cluster)."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    ends = np.r_[starts[1:], labels.size]
    return {int(sorted_labels[a]): order[a:b] for a, b in zip(starts.tolist(), ends.tolist()) if sorted_labels[a] >= 0}


def merge_same_claims(vectors: np.ndarray, labels: np.ndarray, cosine: float = SAME_CLAIM_COSINE) -> np.ndarray:
    """Merge clusters that say the same thing: average-linkage agglomeration of the cluster centroids (scikit-learn)
    cut at cosine distance ``1 - cosine``. A merged cluster keeps its smallest label."""
    found = sorted(int(c) for c in set(labels.tolist()) if c >= 0)
    if len(found) < 2:
        return labels
    from sklearn.cluster import AgglomerativeClustering

    members = _groups(labels)
    centroids = np.stack([_unit(vectors[members[c]].mean(axis=0)) for c in found])
    groups = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=1 - cosine).fit_predict(centroids)
    target = {}
    for c, g in zip(found, groups.tolist()):
        target.setdefault(g, c)  # found is sorted: the smallest label of each group
    remap = np.arange(max(found) + 1)
    for c, g in zip(found, groups.tolist()):
        remap[c] = target[g]
    out = labels.copy()
    hit = out >= 0
    out[hit] = remap[out[hit]]
    return out


def reassign_outliers(vectors: np.ndarray, labels: np.ndarray, found: list[int], centroids: np.ndarray, floor: float) -> np.ndarray:
    """Outliers (``-1``) whose cosine to the nearest centroid (rows of ``centroids``, labels ``found``) is at least
    ``floor`` join that cluster; centroids are not recomputed, so the order of outliers does not matter."""
    labels = labels.copy()
    noise = np.flatnonzero(labels < 0)
    ids = np.asarray(found)
    for start in range(0, noise.size, 100_000):
        chunk = noise[start : start + 100_000]
        sims = vectors[chunk] @ centroids.T
        best = sims.argmax(axis=1)
        ok = sims[np.arange(chunk.size), best] >= floor
        labels[chunk[ok]] = ids[best[ok]]
    return labels


def _terms_sample(texts: Sequence[str], labels: np.ndarray) -> tuple[list[str], np.ndarray]:
    """At most ``TERMS_SAMPLE`` seeded member texts per cluster (all of them for smaller clusters); noise dropped."""
    rng = np.random.default_rng(SEED)
    keep = []
    for c in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == c)
        keep.append(members if members.size <= TERMS_SAMPLE else np.sort(rng.choice(members, TERMS_SAMPLE, replace=False)))
    rows = np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64)
    return [texts[i] for i in rows.tolist()], labels[rows]
