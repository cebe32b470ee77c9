"""Claim labels and distinctive terms of discovered narratives (narrative_tracker/claims.py)."""

import numpy as np

from narrative_tracker.narratives.claims import (
    claim_label,
    distinctive_terms,
    mmr,
    split_sentences,
    stop_words,
    term_analyzer,
)
from narrative_tracker.narratives.discover import discover

FUEL = [
    "Fuel prices in Almaty doubled overnight. Drivers blocked the main road on Sunday.",
    "Drivers say fuel prices doubled after the price cap was lifted. Did anyone expect that?",
    "The fuel price cap was lifted and fuel prices doubled. Read more.",
    "Fuel prices doubled in the west of the country. It was cold.",
]


def _unit(rows):
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _bag_embed(texts):
    """Fake with meaning: a bag of content words hashed into 64 dimensions."""
    out = np.zeros((len(texts), 64), np.float32)
    analyze = term_analyzer()
    for i, text in enumerate(texts):
        for term in analyze(text):
            if " " not in term:
                out[i, sum(map(ord, term)) % 64] += 1
        out[i, 63] += 1e-3
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_sentences_are_split_by_a_library_that_knows_abbreviations():
    assert split_sentences("Dr. Smith said the U.S. helped. He left! Why?") == ["Dr. Smith said the U.S. helped.", "He left!", "Why?"]


def test_claim_label_is_a_sentence_of_a_member_and_not_a_question_or_fragment():
    vectors = _bag_embed(FUEL)
    centroid = _unit([vectors.mean(axis=0)])[0]
    label = claim_label(FUEL, vectors, centroid, embed=_bag_embed)
    sentences = {s for text in FUEL for s in split_sentences(text)}
    assert label in sentences
    assert "fuel prices doubled" in label.lower() and not label.endswith("?") and label != "Read more."
    # without an embedder the label is still a member sentence
    assert claim_label(FUEL, vectors, centroid, terms=["fuel prices", "doubled"]) in sentences


def test_terms_contain_no_stop_words_function_words_or_stop_phrases():
    texts = [
        "The court did rule that Ablyazov, according to Tokayev, organised the unrest. Read more here.",
        "Ablyazov did organise the unrest, the court said; click here for the ruling.",
        "He said the court did confirm that Ablyazov was behind it all.",
        "NATO troops are moving to the border, they said. It is what it is.",
        "NATO is moving troops to the Russian border, according to the ministry.",
        "The ministry said NATO troops did reach the border.",
    ]
    terms = distinctive_terms(texts, np.array([0, 0, 0, 1, 1, 1]), top_n=8)
    stops = stop_words()
    assert terms[0] and terms[1]
    for cluster_terms in terms.values():
        for term in cluster_terms:
            assert not set(term.split()) & stops, term
            assert "read more" not in term and "click here" not in term and "said" not in term
    assert any("ablyazov" in t for t in terms[0]) and any("nato" in t for t in terms[1])


def test_mmr_terms_close_to_the_centroid_and_not_redundant():
    texts = [f"Fuel prices doubled and fuel price protests spread in town {i}." for i in range(5)]
    labels = np.zeros(5, np.int64)
    centroid = _unit([_bag_embed(texts).mean(axis=0)])[0]
    terms = distinctive_terms(texts, labels, centroids={0: centroid}, embed=_bag_embed, top_n=4)[0]
    assert terms and len({w for t in terms for w in t.split()}) == sum(len(t.split()) for t in terms)  # no word twice
    pool = _unit(np.eye(4) + 0.01)
    assert mmr(pool[0], pool, 2, diversity=0.5)[0] == 0


def test_discovered_clusters_carry_a_claim_from_their_members():
    rng = np.random.default_rng(0)
    axes = np.eye(16, dtype=np.float32)
    texts, rows = [], []
    for k, template in enumerate(["Fuel prices doubled in town {i}. Drivers were angry.", "The football club {i} won the cup final."]):
        for i in range(12):
            texts.append(template.format(i=i))
            rows.append(axes[k] + 0.05 * rng.standard_normal(16))
    result = discover(_unit(rows), texts, reducer=_Identity())
    assert len(result.clusters) == 2
    sentences = {s for t in texts for s in split_sentences(t)}
    for cluster in result.clusters:
        assert cluster.claim in sentences and cluster.name == cluster.claim
        member_sentences = {s for i in cluster.members.tolist() for s in split_sentences(texts[i])}
        assert cluster.claim in member_sentences


class _Identity:
    def fit_transform(self, vectors):
        return vectors
