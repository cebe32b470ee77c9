import numpy as np

from narrative_tracker.narratives.discover import (
    HdbscanClusterer,
    auto_min_cluster_size,
    discover,
    label_terms,
)
from narrative_tracker.evaluation.evaluate import discovery_agreement, purity


def _blobs(n_per, centers, spread=0.05, seed=0):
    rng = np.random.default_rng(seed)
    dim = 32
    axes = np.eye(dim, dtype=np.float32)
    rows, truth = [], []
    for k in range(centers):
        pts = axes[k] + spread * rng.standard_normal((n_per, dim)).astype(np.float32)
        rows.append(pts / np.linalg.norm(pts, axis=1, keepdims=True))
        truth += [k] * n_per
    return np.concatenate(rows), np.array(truth)


TOPICS = [
    "navalny poisoning novichok berlin clinic",
    "nato expansion encircling russia missile bases",
    "colour revolution belarus protests soros",
]


def test_fifty_paragraphs_three_topics_labelled_by_their_words():
    vectors, truth = _blobs(17, 3)
    texts = [f"{TOPICS[t]} report number {i}" for i, t in enumerate(truth)]
    result = discover(vectors, texts)
    assert len(result.clusters) == 3
    assert purity(result.labels.tolist(), truth.tolist()) == 1.0
    names = sorted(c.name for c in result.clusters)
    assert any("navalny" in n or "novichok" in n for n in names)
    assert any("nato" in n or "encircling" in n for n in names)
    for cluster in result.clusters:
        assert len(cluster.representatives) == 3 and abs(np.linalg.norm(cluster.centroid) - 1) < 1e-5


def test_same_input_same_clusters():
    vectors, truth = _blobs(30, 4, seed=3)
    texts = [f"{t} words {i % 7}" for i, t in enumerate(truth)]
    assert discover(vectors, texts).labels.tolist() == discover(vectors, texts).labels.tolist()


def test_too_few_paragraphs_stay_noise():
    vectors, _ = _blobs(2, 2)
    assert (discover(vectors, ["a"] * 4).labels == -1).all()


def test_large_input_uses_a_fitted_sample(monkeypatch):
    """100,000 paragraphs: UMAP is fitted on max_fit points and the rest transformed (small max_fit here)."""
    from narrative_tracker.narratives.discover import UmapReducer

    vectors, truth = _blobs(400, 5, spread=0.08, seed=1)
    texts = [f"topic{t} alpha{t} beta{t}" for t in truth]
    result = discover(vectors, texts, reducer=UmapReducer(max_fit=600), clusterer=HdbscanClusterer(min_cluster_size=50))
    assert len(result.clusters) == 5
    assert discovery_agreement(result.labels, truth.astype(str))["purity"] > 0.95


def test_c_tf_idf_prefers_distinctive_terms():
    texts = ["kazakhstan protests fuel prices"] * 3 + ["kazakhstan csto troops deployment"] * 3
    terms = label_terms(texts, np.array([0, 0, 0, 1, 1, 1]))
    assert "fuel" in " ".join(terms[0]) and "csto" in " ".join(terms[1])
    assert terms[0][0] != "kazakhstan"


def test_leaf_fragments_of_one_claim_are_merged_and_close_outliers_reassigned():
    from narrative_tracker.narratives.discover import merge_same_claims, reassign_outliers

    vectors, truth = _blobs(20, 2, spread=0.02, seed=4)
    labels = np.where(np.arange(40) % 10 == 0, -1, truth * 2 + np.arange(40) % 2)  # each blob split in two, 4 outliers
    merged = merge_same_claims(vectors, labels)
    assert sorted(set(merged[merged >= 0].tolist())) == [0, 2]
    centroids = np.stack([vectors[merged == c].mean(axis=0) for c in (0, 2)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    done = reassign_outliers(vectors, merged, [0, 2], centroids, 0.6)
    assert (done >= 0).all() and (done == truth * 2).all()
    far = reassign_outliers(-vectors, merged, [0, 2], centroids, 0.6)  # nothing near any centroid: stays an outlier
    assert (far[merged < 0] == -1).all()


def test_auto_min_cluster_size_grows_slowly():
    assert auto_min_cluster_size(50) == 3
    assert 8 <= auto_min_cluster_size(2_000) <= 12
    assert auto_min_cluster_size(50_000) == 17
    assert auto_min_cluster_size(10_000_000) == 30


class _Identity:
    """No reduction: enough for well-separated test blobs, and fast."""

    def fit_transform(self, vectors):
        return vectors


def test_above_max_cluster_points_a_sample_is_clustered_and_the_rest_assigned_to_centroids():
    vectors, truth = _blobs(400, 4, spread=0.04, seed=3)
    rng = np.random.default_rng(9)
    background = rng.standard_normal((200, vectors.shape[1])).astype(np.float32)
    vectors = np.concatenate([vectors, background / np.linalg.norm(background, axis=1, keepdims=True)])
    truth = np.concatenate([truth, np.full(200, -1)])
    texts = [f"{TOPICS[t % 3]} item {i}" if t >= 0 else f"unrelated chatter {i}" for i, t in enumerate(truth)]
    clusterer = HdbscanClusterer(min_cluster_size=10, min_samples=5, selection="eom")  # the sampling path, not leaf selection
    sampled = discover(vectors, texts, reducer=_Identity(), clusterer=clusterer, max_cluster_points=300)
    full = discover(vectors, texts, reducer=_Identity(), clusterer=clusterer)
    # the four largest clusters are the four blobs, each almost whole; what is left over is small
    for cluster in sampled.clusters[:4]:
        blob = np.bincount(truth[cluster.members] + 1).argmax() - 1
        assert blob >= 0 and (truth[cluster.members] == blob).sum() >= 0.95 * 400
    assert sorted(np.bincount(truth[c.members] + 1).argmax() for c in sampled.clusters[:4]) == [1, 2, 3, 4]
    assert sum(c.members.size for c in sampled.clusters[4:]) < 50
    assert discovery_agreement(sampled.labels.tolist(), full.labels.tolist())["nmi_clustered"] > 0.9
    # seeded: the same input gives the same labels
    again = discover(vectors, texts, reducer=_Identity(), clusterer=clusterer, max_cluster_points=300)
    assert np.array_equal(again.labels, sampled.labels)


def test_labels_stay_consecutive_over_several_residual_rounds():
    vectors, truth = _blobs(300, 6, spread=0.04, seed=5)
    texts = [f"{TOPICS[t % 3]} item {i}" for i, t in enumerate(truth)]
    result = discover(vectors, texts, reducer=_Identity(), clusterer=HdbscanClusterer(min_cluster_size=10),
                      max_cluster_points=200, rounds=4)
    used = sorted(set(result.labels[result.labels >= 0].tolist()))
    assert used == list(range(len(used)))  # no gaps: label i is the i-th centroid kept
    for cluster in result.clusters[:6]:
        assert np.bincount(truth[cluster.members]).max() == cluster.members.size  # each cluster is one blob
