"""The domain encoder (embeddings/tuning.py): material rules, a few training steps on generated pairs, resume, the
artifact's round trip into the embedder, and the shipped adapter behind --model minilm-narratives."""

import datetime as dt
import json
import random

import numpy as np

from narrative_tracker.embeddings import tuning as T
from narrative_tracker.embeddings.embed import TUNED_MODEL_NAME, SentenceTransformerEmbedder, make_embedder


def generated_pairs() -> list[T.TextPair]:
    topics = {"bridge": ["The bridge was blown up by saboteurs.", "Saboteurs destroyed the river bridge at night."],
              "wolves": ["Wolves came back to the valley this spring.", "Packs of wolves have returned to the valley."],
              "mayor": ["The mayor quit after the bribery scandal.", "A bribery scandal forced the mayor to resign."]}
    return [T.TextPair(a, b, f"tag:{t}", "test") for t, (a, b) in topics.items()] + \
           [T.TextPair(b, a, f"tag:{t}", "test") for t, (a, b) in topics.items()]


def test_claims_split_by_date_and_pairs_share_the_first_tag():
    claims = [{"date": dt.date(2018, m, 1), "title": f"claim {m}", "tags": ["A" if m % 2 else "B", "x"]} for m in range(1, 13)]
    claims += [{"date": dt.date(2019, 3, 1), "title": "late claim", "tags": ["A"]}]
    train, dev = T.split_claims(claims)
    assert all(c["date"] < dt.date(2018, 7, 1) for c in train) and all(dt.date(2018, 7, 1) <= c["date"] < T.CUTOFF for c in dev)
    assert not any(c["title"] == "late claim" for c in train + dev)  # claims from the cutoff on are never read
    pairs = T.claim_pairs(train, random.Random(0))
    first = {c["title"]: c["tags"][0] for c in train}
    assert pairs and all(first[p.anchor] == first[p.positive] and p.anchor != p.positive for p in pairs)


def test_same_group_pairs_are_not_negatives_of_each_other():
    pairs = [T.TextPair("a", "b", "g1", "t"), T.TextPair("c", "d", "g1", "t"), T.TextPair("e", "f", "g2", "t")]
    mask = T._group_mask(pairs, [0, 1, 2]).numpy()
    assert mask[0, 1] and mask[1, 0] and not mask[0, 0] and not mask[0, 2]


def test_training_round_trips_into_the_embedder_and_resumes(tmp_path):
    pairs = generated_pairs()
    config = T.EncoderConfig(max_steps=4, batch_size=6, lr=5e-3, checkpoint_every=2, precision="fp32")
    meta = T.train_encoder(pairs, [], tmp_path / "enc", tmp_path / "work", config, version="enc-test", progress=lambda m: None)
    assert meta["version"] == "enc-test" and meta["steps"] == 4 and meta["material_sha"]
    files = {p.name for p in (tmp_path / "enc").iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", T.META_NAME} <= files
    assert sum(p.stat().st_size for p in (tmp_path / "enc").iterdir()) < 5 * 1024 * 1024
    adapter, version = T.tuned_encoder(tmp_path / "enc")
    tuned = SentenceTransformerEmbedder(adapter=adapter, name=f"{TUNED_MODEL_NAME}:{version}", precision="fp32")
    base = SentenceTransformerEmbedder(precision="fp32")
    texts = [p.anchor for p in pairs]
    a, b = tuned.encode(texts), base.encode(texts)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.abs(a - b).max() > 1e-3  # four steps moved the vectors
    seen = []
    T.train_encoder(pairs, [], tmp_path / "enc2", tmp_path / "work", config, resume=True, progress=seen.append)
    assert any("resumed at step 4" in m for m in seen)


def test_the_shipped_encoder_is_selected_by_name():
    meta = json.loads((T.ARTIFACT_DIR / T.META_NAME).read_text())
    embedder = make_embedder(TUNED_MODEL_NAME)
    assert embedder.name == f"{TUNED_MODEL_NAME}:{meta['version']}"  # vectors are stored per adapter version
    vectors = embedder.encode(["The West staged a coup.", "Bread prices rose."])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert {s["kind"] for s in meta["trained_on"]} >= {"euvsdisinfo"}
    assert all(s.get("before", "2019-01-01") == "2019-01-01" for s in meta["trained_on"] if s["kind"] == "euvsdisinfo")
