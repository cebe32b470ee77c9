"""The pair model (a LoRA cross-encoder on the bundled MiniLM): training on a tiny generated set, checkpoints and
resume, the artifact's round trip, evidence selection, and the shipped artifact's form."""

import json
import random

import numpy as np
import pytest

from narrative_tracker.narratives.pair_model import (
    ARTIFACT_DIR,
    CLASSES,
    HEAD_NAME,
    META_NAME,
    PairModel,
    new_net,
    pair_model_key,
    resolve_pair_model,
    select_evidence,
)
from narrative_tracker.narratives.pair_training import Pair, TrainConfig, dev_split, predict, train

CLAIMS = ["The bridge was destroyed by saboteurs.", "The mayor resigned over the scandal.", "Wolves returned to the valley."]
OTHER = ["Prices of bread rose again this month.", "The football team won the cup final.", "Heavy snow closed the pass."]


def tiny_pairs(seed: int = 0) -> list[Pair]:
    """Generated pairs whose label is decided by wording the model can learn in a few steps."""
    rng = random.Random(seed)
    pairs = []
    for claim in CLAIMS:
        core = claim.rstrip(".")
        pairs.append(Pair((claim,), f"It is certain: {core.lower()}.", "asserts"))
        pairs.append(Pair((claim,), f"Officials said that {core.lower()}, according to reports.", "reports"))
        pairs.append(Pair((claim,), f"It is false that {core.lower()}; that claim is a fabrication.", "refutes"))
        pairs.append(Pair((claim,), rng.choice(OTHER), "unrelated"))
    return pairs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Eight steps on the tiny set (lr high enough to move in so few steps)."""
    out = tmp_path_factory.mktemp("pair")
    pairs = tiny_pairs()
    config = TrainConfig(max_steps=8, batch_size=6, lr=3e-3, head_lr=1e-2, checkpoint_every=4, labelled_repeat=1,
                         precision="fp32", seed=1)
    result = train(pairs, pairs[:4], out / "artifact", out / "work", config, version="pair-test", progress=lambda m: None)
    return out, result, pairs


def test_training_writes_a_small_safe_artifact(trained):
    out, result, _ = trained
    art = out / "artifact"
    assert result.steps == 8 and result.version == "pair-test"
    files = {p.name for p in art.iterdir()}
    assert {META_NAME, HEAD_NAME, "adapter_model.safetensors", "adapter_config.json"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)  # no pickle in what ships
    assert sum(p.stat().st_size for p in art.iterdir()) < 5 * 1024 * 1024
    meta = json.loads((art / META_NAME).read_text())
    assert meta["classes"] == list(CLASSES) and meta["material_sha"] and meta["base_model_sha"]
    assert pair_model_key(str(art)) == "pair:pair-test"


def test_artifact_round_trips_and_training_changed_predictions(trained):
    out, _, pairs = trained
    loaded = PairModel.load(out / "artifact", precision="fp32")
    got = loaded.score([p.claims[0] for p in pairs], [p.text for p in pairs]).proba
    assert got.shape == (len(pairs), 4) and np.allclose(got.sum(axis=1), 1.0, atol=1e-5)
    # the same weights in the training net (adapter not merged) give the same probabilities
    from narrative_tracker.narratives.pair_training import _load_trainable

    import torch

    net = new_net(lora_r=16, lora_alpha=32, seed=1)
    fresh = predict(net, pairs, "fp32")
    _load_trainable(net, torch.load(out / "work" / "best.pt", weights_only=True))
    assert np.allclose(predict(net, pairs, "fp32"), got, atol=1e-4)
    assert np.abs(got - fresh).max() > 0.05  # eight steps moved the model away from its untrained answers


def test_training_resumes_from_its_checkpoint(tmp_path):
    pairs = tiny_pairs(1)
    config = TrainConfig(max_steps=4, batch_size=6, checkpoint_every=2, labelled_repeat=1, precision="fp32")
    train(pairs, [], tmp_path / "a", tmp_path / "w", config, progress=lambda m: None)
    seen = []
    longer = TrainConfig(max_steps=4, batch_size=6, checkpoint_every=2, labelled_repeat=1, precision="fp32")
    result = train(pairs, [], tmp_path / "a", tmp_path / "w", longer, resume=True, progress=seen.append)
    assert any("resumed at step 4" in m for m in seen)
    assert result.steps == 4  # nothing left to do: it did not start again from step 0


def test_dev_split_keeps_claims_apart():
    pairs = [Pair((f"c{g}",), "t", "asserts", group=f"fnc:{g}") for g in range(20) for _ in range(3)]
    pairs += [Pair(("x",), "t", "asserts", source="labelled", group="labelled:1")]
    train_part, dev = dev_split(pairs, 0.2, seed=0)
    assert {p.group for p in train_part}.isdisjoint({p.group for p in dev})
    assert len({p.group for p in dev}) == 4 and all(p.source == "fnc" for p in dev)


def test_long_texts_are_cut_to_the_sentences_closest_to_the_claim(hash_embedder):
    from transformers import AutoTokenizer

    from narrative_tracker.narratives.pair_model import base_model_path

    tokenizer = AutoTokenizer.from_pretrained(base_model_path())
    filler = " ".join(f"Sentence number {k} talks about the weather in the mountains." for k in range(40))
    text = filler + " The bridge was destroyed by saboteurs."
    short = "A short paragraph."
    out = select_evidence(["The bridge was destroyed by saboteurs.", "x"], [text, short], tokenizer, hash_embedder, budget=40)
    assert out[1] == short  # fits: kept whole
    assert "The bridge was destroyed by saboteurs." in out[0]  # the claim's own sentence ranks first
    assert len(tokenizer(out[0], add_special_tokens=False)["input_ids"]) <= 40


def test_settings_select_the_pair_model(tmp_path):
    assert resolve_pair_model("none") is None and pair_model_key("none") is None
    with pytest.raises(FileNotFoundError):
        pair_model_key(str(tmp_path))


def test_the_shipped_artifact_is_small_and_describes_its_training():
    meta = json.loads((ARTIFACT_DIR / META_NAME).read_text())
    assert sum(p.stat().st_size for p in ARTIFACT_DIR.iterdir()) < 5 * 1024 * 1024
    kinds = {s["kind"] for s in meta["trained_on"]}
    assert {"fnc", "labelled", "codebook"} <= kinds
    assert all(s.get("part", "tune") == "tune" for s in meta["trained_on"] if s["kind"] == "labelled")
    assert meta["dev"]["macro_f1"] > 0.5  # the FNC claims kept aside; the figure itself is in docs/methods.md
