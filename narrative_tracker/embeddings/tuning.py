"""A domain-tuned encoder: the bundled MiniLM with a LoRA adapter trained contrastively on narrative material.

**Material** (anchor, positive) pairs of texts that carry the same narrative:

* EUvsDisinfo claims dated **before** :data:`CUTOFF` (claims from it on are evaluation only): two claims whose
  fact-checkers' first keyword tag is the same, preferring a partner that shares the most tags;
* SemEval-2025 Task 10 training documents (title and lead) that share a sub-narrative;
* codebook example statements of the same narrative, and labelled **tune** paragraphs carrying the same narrative.

**Loss**: multiple-negatives ranking (InfoNCE over the batch in both directions, scale 20; the other positives of
the batch are the negatives) — the loss sentence-transformers' ``MultipleNegativesRankingLoss`` computes, written out
here because the loop also trains a peft adapter with checkpoints and resume, and because pairs of the same group
(the same tag) in one batch must not count as each other's negatives: their logits are masked. The development check is retrieval on the last pre-cutoff months, kept out of training: for each dev claim,
does its nearest dev claim share its first tag (precision@1), against the untuned encoder in the same run.

**Artifact** (no pickle, ≤ 5 MB): peft's ``adapter_model.safetensors`` + ``adapter_config.json`` and
``encoder.json`` (version, base model and its sha, material sha, dev figures). ``make_embedder("minilm-narratives")``
loads it (``embed.py``); its vectors are stored under the model name ``minilm-narratives:<version>`` so a new
adapter never mixes with vectors of an old one.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ARTIFACT_DIR = Path(__file__).resolve().parent / "encoder_artifact"
META_NAME = "encoder.json"
FORMAT = 1
CUTOFF = dt.date(2019, 1, 1)
DEV_MONTHS = 6  # the last months before the cutoff: development claims, never trained on


def _progress(message: str) -> None:
    print(f"[encoder {dt.datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class TextPair:
    anchor: str
    positive: str
    group: str  # pairs of one group never share a batch (their positives would be false negatives)
    source: str


@dataclass
class EncoderConfig:
    epochs: float = 2.0
    batch_size: int = 64
    lr: float = 2e-4
    warmup: float = 0.1
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    scale: float = 20.0
    max_length: int = 96  # claims are one sentence; SemEval leads are cut (speed: ~4 s a step of 64 pairs on 2 cores)
    seed: int = 0
    max_steps: int | None = None
    checkpoint_every: int = 50
    precision: str = "auto"


# --- material -----------------------------------------------------------------------------------------------------
def read_claims(posts_csv: str | os.PathLike) -> list[dict]:
    """EUvsDisinfo ``posts.csv`` rows: ``date`` (a date), ``title``, ``tags`` (list, in the file's order)."""
    out = []
    with open(posts_csv, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                day = dt.date.fromisoformat((row.get("date") or "")[:10])
            except ValueError:
                continue
            tags = [t.strip() for t in (row.get("keywords") or "").split("+") if t.strip()]
            if row.get("title") and tags:
                out.append({"date": day, "title": row["title"].strip(), "tags": tags})
    return out


def split_claims(claims: Sequence[dict], cutoff: dt.date = CUTOFF, dev_months: int = DEV_MONTHS) -> tuple[list[dict], list[dict]]:
    """(training claims, development claims): both before ``cutoff``; dev = its last ``dev_months`` months."""
    dev_start = dt.date(cutoff.year - (1 if cutoff.month <= dev_months else 0), (cutoff.month - dev_months - 1) % 12 + 1, 1)
    before = [c for c in claims if c["date"] < cutoff]
    return [c for c in before if c["date"] < dev_start], [c for c in before if c["date"] >= dev_start]


def claim_pairs(claims: Sequence[dict], rng: random.Random) -> list[TextPair]:
    """Per claim, a partner with the same first tag (the one sharing most tags; ties at random)."""
    by_first: dict[str, list[int]] = defaultdict(list)
    for k, c in enumerate(claims):
        by_first[c["tags"][0]].append(k)
    out = []
    for tag, members in by_first.items():
        if len(members) < 2:
            continue
        for k in members:
            mine = set(claims[k]["tags"])
            others = [m for m in members if m != k and claims[m]["title"] != claims[k]["title"]]
            if not others:
                continue
            best = max(len(mine & set(claims[m]["tags"])) for m in others)
            partner = rng.choice([m for m in others if len(mine & set(claims[m]["tags"])) == best])
            out.append(TextPair(claims[k]["title"], claims[partner]["title"], f"tag:{tag}", "euvsdisinfo"))
    return out


def semeval_pairs(directory: str | os.PathLike, rng: random.Random, lead_paragraphs: int = 2) -> list[TextPair]:
    from narrative_tracker.material import OTHER, load_semeval

    data = load_semeval(directory)
    by_sub: dict[str, list[str]] = defaultdict(list)
    for doc in data.documents:
        text = " ".join((doc.title, *doc.paragraphs[:lead_paragraphs]))
        for sub in doc.fine:
            if not sub.endswith(OTHER):
                by_sub[sub].append(text)
    return _pairs_within(by_sub, rng, "semeval")


def _pairs_within(groups: dict[str, list[str]], rng: random.Random, source: str) -> list[TextPair]:
    """One positive pair per text: the text and another text of its group drawn at random (group ``source:key``)."""
    out = []
    for key, texts in groups.items():
        for k, text in enumerate(texts):
            others = texts[:k] + texts[k + 1:]
            if others:
                out.append(TextPair(text, rng.choice(others), f"{source}:{key}", source))
    return out


def codebook_pairs(codebook, rng: random.Random, labelled: str | os.PathLike | None | bool = None) -> list[TextPair]:
    groups: dict[str, list[str]] = {n.id: list(n.examples) for n in codebook.narratives}
    if labelled is not False:
        from narrative_tracker.material import DEFAULT_LABELLED, load_labelled

        for row in load_labelled(labelled or DEFAULT_LABELLED):
            if row.part == "tune" and len(row.narratives) == 1:
                groups.setdefault(next(iter(row.narratives)), []).append(row.text)
    return _pairs_within(groups, rng, "codebook")


def material_sha(pairs: Sequence[TextPair]) -> str:
    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps([p.anchor, p.positive, p.group], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


# --- the loop -----------------------------------------------------------------------------------------------------
def _batches(pairs: Sequence[TextPair], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled full batches; pairs of one group may meet in a batch (their logits are masked, see ``_group_mask``)."""
    order = list(range(len(pairs)))
    rng.shuffle(order)
    return [order[k:k + batch_size] for k in range(0, len(order), batch_size) if len(order[k:k + batch_size]) > 1]


def _group_mask(pairs: Sequence[TextPair], idx: Sequence[int]):
    """``(b, b)`` bool: True where the in-batch 'negative' is another pair of the same group (not a negative at all)."""
    import torch

    groups = [pairs[i].group for i in idx]
    same = torch.tensor([[a == b for b in groups] for a in groups])
    return same & ~torch.eye(len(idx), dtype=torch.bool)


class _Encoder:
    """The transformer (peft-wrapped) + tokenizer, mean pooling, unit vectors — what the embedder computes."""

    def __init__(self, transformer, tokenizer, max_length: int):
        self.transformer, self.tokenizer, self.max_length = transformer, tokenizer, max_length

    def __call__(self, texts: Sequence[str]):
        import torch

        batch = self.tokenizer(list(texts), truncation=True, max_length=self.max_length, padding=True, return_tensors="pt")
        hidden = self.transformer(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled.float(), dim=-1)


def _new_encoder(config: EncoderConfig):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    from narrative_tracker.narratives.pair_model import _quiet_transformers, base_model_path

    torch.manual_seed(config.seed)
    path = base_model_path()
    with _quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(path)
        transformer = AutoModel.from_pretrained(path, add_pooling_layer=False)
        transformer = get_peft_model(transformer, LoraConfig(
            r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout, bias="none",
            target_modules=["query", "key", "value", "dense"]))
    return _Encoder(transformer, tokenizer, config.max_length)


def retrieval_precision(vectors: np.ndarray, labels: Sequence[str]) -> float:
    """Share of items whose nearest other item has the same label."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    nearest = sims.argmax(axis=1)
    return float(np.mean([labels[i] == labels[j] for i, j in enumerate(nearest)])) if len(labels) > 1 else 0.0


def encode_all(encoder: _Encoder, texts: Sequence[str], precision: str, batch_size: int = 128) -> np.ndarray:
    import torch

    encoder.transformer.eval()
    out = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        for start in range(0, len(texts), batch_size):
            out.append(encoder(texts[start:start + batch_size]).numpy())
    return np.concatenate(out) if out else np.zeros((0, 384), np.float32)


def train_encoder(pairs: Sequence[TextPair], dev: Sequence[dict], out_dir: str | os.PathLike, workdir: str | os.PathLike,
                  config: EncoderConfig | None = None, version: str | None = None, resume: bool = False,
                  sources: list | None = None, progress: Callable[[str], None] = _progress) -> dict:
    """Train the adapter with the multiple-negatives ranking loss; keep the best checkpoint by dev precision@1."""
    import torch

    from narrative_tracker.narratives.pair_model import _bf16_ok, base_model_path, base_model_sha

    config = config or EncoderConfig()
    precision = config.precision if config.precision != "auto" else ("bf16" if _bf16_ok("cpu") else "fp32")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    encoder = _new_encoder(config)
    params = [p for p in encoder.transformer.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    rng = random.Random(config.seed)
    per_epoch = max(1, len(_batches(pairs, config.batch_size, random.Random(0))))
    total = config.max_steps or max(1, int(per_epoch * config.epochs))
    warm = max(1, int(config.warmup * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    dev_texts, dev_labels = [c["title"] for c in dev], [c["tags"][0] for c in dev]
    state = {"step": 0, "epoch": 0, "position": 0, "batches": None, "history": [], "best": -1.0}
    ckpt = workdir / "last.pt"
    if resume and ckpt.is_file():
        saved = torch.load(ckpt, weights_only=False)  # our own local checkpoint, never shipped
        for p, v in zip(params, saved["params"]):
            p.data.copy_(v)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        rng.setstate(saved["rng"])
        state = saved["state"]
        progress(f"resumed at step {state['step']}")
    baseline = None
    if dev_texts and not state["history"]:
        with encoder.transformer.disable_adapter():
            baseline = retrieval_precision(encode_all(encoder, dev_texts, precision), dev_labels)
        state["history"].append({"step": 0, "dev_precision_at_1": round(baseline, 4)})
        progress(f"dev: untuned encoder precision@1 {baseline:.3f} on {len(dev_texts)} claims")
    progress(f"{len(pairs)} pairs, {per_epoch} steps an epoch, {total} steps; {precision}")

    def evaluate() -> None:
        if not dev_texts:
            return
        score = retrieval_precision(encode_all(encoder, dev_texts, precision), dev_labels)
        state["history"].append({"step": state["step"], "dev_precision_at_1": round(score, 4)})
        progress(f"dev step {state['step']}: precision@1 {score:.3f}")
        if score > state["best"]:
            state["best"] = score
            torch.save([p.detach().clone() for p in params], workdir / "best.pt")

    def save() -> None:
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"params": [p.detach().clone() for p in params], "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "rng": rng.getstate(), "state": state}, tmp)
        os.replace(tmp, ckpt)

    started = time.monotonic()
    while state["step"] < total:
        if state["batches"] is None or state["position"] >= len(state["batches"]):
            if state["batches"] is not None:
                state["epoch"] += 1
            state["batches"], state["position"] = _batches(pairs, config.batch_size, rng), 0
        encoder.transformer.train()
        idx = state["batches"][state["position"]]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            a = encoder([pairs[i].anchor for i in idx])
            b = encoder([pairs[i].positive for i in idx])
        logits = (config.scale * (a @ b.T)).masked_fill(_group_mask(pairs, idx), float("-inf"))
        target = torch.arange(len(idx))
        loss = (torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target)) / 2
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        state["step"] += 1
        state["position"] += 1
        if state["step"] % 10 == 0 or state["step"] == total:
            progress(f"step {state['step']}/{total} epoch {state['epoch'] + 1} loss {loss.item():.3f} "
                     f"({(time.monotonic() - started) / 10:.2f} s/step)")
            started = time.monotonic()
        end_of_epoch = state["position"] >= len(state["batches"])
        if end_of_epoch or state["step"] == total:
            evaluate()
        if state["step"] % config.checkpoint_every == 0 or end_of_epoch or state["step"] == total:
            save()
    if (workdir / "best.pt").is_file():
        for p, v in zip(params, torch.load(workdir / "best.pt", weights_only=True)):
            p.data.copy_(v)
    version = version or dt.datetime.now(dt.timezone.utc).strftime("enc-%Y%m%d%H%M%S")
    meta = {"format": FORMAT, "version": version, "base_model": "all-MiniLM-L6-v2",
            "base_model_sha": base_model_sha(base_model_path()), "config": dataclasses.asdict(config),
            "steps": state["step"], "material_sha": material_sha(pairs), "trained_on": sources or [],
            "dev_untuned_precision_at_1": (state["history"][0] if state["history"] else {}).get("dev_precision_at_1"),
            "dev_best_precision_at_1": round(state["best"], 4) if state["best"] >= 0 else None,
            "history": state["history"], "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    encoder.transformer.save_pretrained(str(out), safe_serialization=True)
    (out / "README.md").unlink(missing_ok=True)
    (out / META_NAME).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    progress(f"saved {version} to {out}")
    return meta


def tuned_encoder(directory: str | os.PathLike | None = None) -> tuple[str, str]:
    """(adapter folder, version) of the shipped tuned encoder; a clear error when the package has none."""
    folder = Path(directory) if directory else ARTIFACT_DIR
    meta = folder / META_NAME
    if not meta.is_file():
        raise FileNotFoundError(f"no tuned encoder in {folder} (expected {META_NAME} and the adapter); build one with "
                                "`narratives train-encoder --corpus posts.csv`")
    return str(folder), str(json.loads(meta.read_text(encoding="utf-8"))["version"])


@dataclass(frozen=True)
class EncoderRequest:
    """What ``narratives train-encoder`` asks for."""

    corpus: str | None = None  # EUvsDisinfo posts.csv (claims before the cutoff are used)
    semeval: tuple[str, ...] = ()
    codebook: str | None = None
    labelled: str | None | bool = None
    out_dir: str | None = None
    workdir: str | None = None
    version: str | None = None
    epochs: float = EncoderConfig.epochs
    max_steps: int | None = None
    seed: int = 0
    resume: bool = False


def train_request(request: EncoderRequest, progress: Callable[[str], None] = _progress) -> dict:
    from narrative_tracker.narratives.codebook import load_codebook

    rng = random.Random(request.seed)
    pairs: list[TextPair] = []
    sources: list[dict] = []
    dev: list[dict] = []
    if request.corpus:
        train_claims, dev = split_claims(read_claims(request.corpus))
        part = claim_pairs(train_claims, rng)
        digest = hashlib.sha256(Path(request.corpus).read_bytes()).hexdigest()[:16]
        sources.append({"kind": "euvsdisinfo", "before": CUTOFF.isoformat(), "claims": len(train_claims), "pairs": len(part),
                        "dev_claims": len(dev), "sha256": digest})
        pairs += part
    for folder in request.semeval:
        part = semeval_pairs(folder, rng)
        sources.append({"kind": "semeval", "folder": Path(folder).name, "pairs": len(part)})
        pairs += part
    part = codebook_pairs(load_codebook(request.codebook), rng, request.labelled)
    sources.append({"kind": "codebook+labelled-tune", "pairs": len(part)})
    pairs += part
    if len(pairs) < 2:
        raise ValueError("train-encoder needs material: --corpus and/or --semeval")
    counts = ", ".join(f"{s['kind']} {s['pairs']}" for s in sources)
    progress(f"material: {len(pairs)} pairs ({counts}), {len(dev)} dev claims")
    out_dir = Path(request.out_dir) if request.out_dir else ARTIFACT_DIR
    workdir = Path(request.workdir) if request.workdir else out_dir.with_name(out_dir.name + ".work")
    config = EncoderConfig(epochs=request.epochs, max_steps=request.max_steps, seed=request.seed)
    return train_encoder(pairs, dev, out_dir, workdir, config, version=request.version, resume=request.resume, sources=sources,
                         progress=progress)
