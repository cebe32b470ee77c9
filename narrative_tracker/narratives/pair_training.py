"""Training the pair model (``pair_model.py``): material, the training loop, checkpoints, the artifact.

**Material** (:class:`Pair`: claim, text, label, weight, source, group):

* FNC-1-format pairs (``bodies.csv`` + ``stances.csv``): agree -> asserts, discuss -> reports, disagree ->
  refutes, unrelated -> unrelated; the text is the article's sentences closest to the headline (bi-encoder).
  A fixed share of *claims* (connected headline/body groups, ``stance_eval.claim_groups``) is kept aside as
  the development set that picks the checkpoint; it is never trained on;
* the **tune** part of the labelled paragraph set: every (paragraph, narrative) pair with its stance, and every
  paragraph as ``unrelated`` for the narratives it does not carry (same-topic hard negatives). The claim is one of
  the narrative's texts (description, label, an example statement), drawn afresh each epoch, so the model learns to
  read any of them — a narrative added tomorrow with a description and five examples works the same way;
* the codebook's example statements: ``asserts`` for their narrative (claim = its description or label or another
  of its examples), ``unrelated`` for the other narratives;
* SemEval-2025 Task 10 training documents: ``asserts`` for their labelled sub-narratives (claim = the
  sub-narrative's statement), ``unrelated`` for two other sub-narratives of the same domain; and every sub-narrative
  statement as ``unrelated`` to each codebook narrative (propaganda about something else);
* the codebook examples framed as reports and refutations of themselves (generic news wording, ``framed_material``);
* EUvsDisinfo claims dated before 2019 (``--corpus``), tags read as weak labels (``euvsdisinfo_material``): claims the
  bi-encoder finds close to a narrative but tagged with nothing that could carry it are ``unrelated`` — the hard
  negatives a stage-1 detector proposes by mistake. Claims from 2019 on are never read (they are evaluation material).

**Loop**: AdamW (LoRA 3e-4, head 1e-3), linear warm-up and decay, class-weighted cross-entropy, bf16 autocast where
the CPU has it, batches of similar length. Every ``checkpoint_every`` steps the trainable weights, optimizer,
scheduler, step and sampler state go to ``<workdir>/last.pt`` (a local file, never shipped), so a run stopped mid-epoch
resumes where it was (``--resume``). The development set is scored at the end of every epoch and at ``eval_every``
steps; the best checkpoint by development macro-F1 is the one exported.

Length (~400 lines): material, loop, checkpointing and export share the pair/label conventions and the material
hash that keys the artifact; they change together.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from narrative_tracker.narratives.pair_model import (CLASSES, FORMAT, HEAD_NAME, MAX_LENGTH, META_NAME, TEXT_BUDGET,
                                                     PairModel, base_model_path, base_model_sha, new_net, select_evidence)

FNC_MAP = {"agree": "asserts", "discuss": "reports", "disagree": "refutes", "unrelated": "unrelated"}
DEV_SHARE = 0.2  # share of FNC claims kept aside for model choice
CLASS_WEIGHT = {"asserts": 1.0, "reports": 1.0, "refutes": 2.0, "unrelated": 0.7}


@dataclass
class Pair:
    claims: tuple[str, ...]  # one is drawn per epoch
    text: str
    label: str
    weight: float = 1.0
    source: str = "fnc"
    group: str = ""


@dataclass
class TrainConfig:
    epochs: float = 3.0
    batch_size: int = 16
    lr: float = 3e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.05
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    max_length: int = MAX_LENGTH
    unrelated_per_epoch: int = 2500  # FNC unrelated pairs drawn per epoch (the easy majority)
    refutes_repeat: int = 2  # FNC refutes pairs seen this many times per epoch (the rare, hard class)
    labelled_repeat: int = 4  # labelled/codebook pairs seen this many times per epoch (in-domain)
    seed: int = 0
    max_steps: int | None = None
    checkpoint_every: int = 50
    eval_every: int | None = 250
    precision: str = "auto"


def _progress(message: str) -> None:
    print(f"[pair {dt.datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- material ------------------------------------------------------------------------------------------
def fnc_material(directory: str | os.PathLike, tokenizer, ranker) -> list[Pair]:
    from narrative_tracker.material import claim_groups, load_fnc_pairs

    claims, texts, labels, bodies = load_fnc_pairs(directory)
    groups = claim_groups(claims, bodies, labels)
    evidence = select_evidence(claims, texts, tokenizer, ranker, budget=TEXT_BUDGET)
    return [Pair((c,), e, lab, 1.0, "fnc", f"fnc:{g}") for c, e, lab, g in zip(claims, evidence, labels, groups)]


def narrative_claims(narrative) -> tuple[str, ...]:
    """The texts that state a narrative's claim: its description, its label, its example statements."""
    return tuple(dict.fromkeys(t for t in (narrative.description, narrative.label, *narrative.examples) if t))


def choice_half(row_id: str) -> bool:
    """The half of the labelled *tune* part kept out of training to choose the checkpoint and the decision constants
    (``judge.py``): sample article 001 and the held-out rows numbered 3 mod 4. The other half (article 000, rows 1 mod
    4) is trained on; the *test* part is never read."""
    if row_id.startswith("h"):
        return int(row_id[1:]) % 4 == 3
    return row_id[1:4] == "001"


def labelled_material(codebook, path=None, part: str = "tune") -> list[Pair]:
    """Pairs of the labelled tune part; ``source`` is ``labelled`` (trained on) or ``choice`` (see :func:`choice_half`)."""
    from narrative_tracker.material import DEFAULT_LABELLED, load_labelled

    claims = {n.id: narrative_claims(n) for n in codebook.narratives}
    out = []
    for row in load_labelled(path or DEFAULT_LABELLED):
        if row.part != part:
            continue
        stance = dict(row.stances)
        source = "choice" if choice_half(row.id) else "labelled"
        for nid, texts in claims.items():
            label = stance.get(nid, "asserts") if nid in row.narratives else "unrelated"
            out.append(Pair(texts, row.text, label, 1.0, source, f"{source}:{row.id}"))
    return out


# Generic news wording around a statement: who reports it, how a debunk words it. Written for this module from
# general knowledge of news language (no sentence of any evaluation text); they teach the model what attribution,
# questions and refutation look like *around a given claim*.
_SOURCES = ("state television", "a government spokesman", "the foreign ministry", "an opposition politician",
            "pro-government bloggers", "a news agency", "officials in the capital", "a senior lawmaker", "several analysts")
_REPORTS = ("{Source} claimed that {s}.", "According to {source}, {s}.", "{Source} alleged that {s}, a claim that could "
            "not be independently verified.", "In a televised address, {source} said that {s}.", "Some commentators argue "
            "that {s}; others disagree.", "Is it true that {s}? {Source} says so, but gave no details.",
            "{Source} told reporters that {s}.")
_REFUTES = ("There is no evidence that {s}.", "The claim that {s} is false and has been debunked by fact-checkers.",
            "{Source} rejected allegations that {s}, calling them propaganda.", "Contrary to what some outlets suggest, "
            "it is not true that {s}.", "Fact check: the story that {s} is fabricated.", "Nothing supports the idea "
            "that {s}; it is a recycled conspiracy theory.")


_LOWER_FIRST = frozenset("the a an this these those its their his her our sending without claims trained fighters sleeper "
                         "militants armed extremist opposition foreign central".split())


def _clause(statement: str) -> str:
    """A statement as a clause after 'that': no final stop; a capitalised common first word lowered (names stay)."""
    text = statement.strip().rstrip(".!?")
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first.lower() in _LOWER_FIRST else text


def framed_material(codebook, seed: int = 0, per_example: int = 2) -> list[Pair]:
    """Each codebook example statement wrapped as a report and as a refutation of itself (claim = the narrative's
    other texts), ``per_example`` of each, templates drawn with ``seed``."""
    rng = random.Random(seed)
    out = []
    for n in codebook.narratives:
        for k, example in enumerate(n.examples):
            own = tuple(t for t in narrative_claims(n) if t != example)
            clause = _clause(example)
            for label, templates in (("reports", _REPORTS), ("refutes", _REFUTES)):
                for template in rng.sample(templates, per_example):
                    source = rng.choice(_SOURCES)
                    text = template.format(s=clause, source=source, Source=source[:1].upper() + source[1:])
                    out.append(Pair(own, text, label, 1.0, "framed", f"codebook:{n.id}:{k}"))
    return out


def codebook_material(codebook) -> list[Pair]:
    out = []
    for n in codebook.narratives:
        for k, example in enumerate(n.examples):
            own = tuple(t for t in narrative_claims(n) if t != example)
            out.append(Pair(own, example, "asserts", 1.0, "codebook", f"codebook:{n.id}:{k}"))
            for other in codebook.narratives:
                if other.id != n.id:
                    out.append(Pair(narrative_claims(other), example, "unrelated", 0.5, "codebook", f"codebook:{n.id}:{k}"))
    return out


def semeval_material(directory: str | os.PathLike, tokenizer, ranker, negatives: int = 2, seed: int = 0) -> list[Pair]:
    from narrative_tracker.material import OTHER, load_semeval

    data = load_semeval(directory)
    rng = random.Random(seed)

    def statement(sub: str) -> str:  # "URW: Discrediting Ukraine: Situation in Ukraine is hopeless" -> the claim
        parts = [p.strip() for p in sub.split(":")]
        return parts[-1] if parts[-1] != OTHER else parts[-2]

    domains: dict[str, list[str]] = {}
    for sub in data.subnarratives:
        if not sub.endswith(f": {OTHER}"):
            domains.setdefault(sub.split(":")[0], []).append(sub)
    claims, texts, labels, groups = [], [], [], []
    for doc in data.documents:
        domain = doc.id.split("_")[1] if doc.id.count("_") >= 2 else ""
        pool = domains.get({"UA": "URW", "CC": "CC"}.get(domain, ""), [])
        positives = [s for s in doc.fine if s in pool]
        body = "\n".join((doc.title, *doc.paragraphs))
        for sub in positives:
            claims.append(statement(sub)); texts.append(body); labels.append("asserts"); groups.append(doc.id)
        others = [s for s in pool if s not in doc.fine]
        for sub in rng.sample(others, min(negatives, len(others))):
            claims.append(statement(sub)); texts.append(body); labels.append("unrelated"); groups.append(doc.id)
    evidence = select_evidence(claims, texts, tokenizer, ranker, budget=TEXT_BUDGET)
    return [Pair((c,), e, lab, 0.5, "semeval", f"semeval:{g}") for c, e, lab, g in zip(claims, evidence, labels, groups)]


# EUvsDisinfo keyword tags read as weak labels for the bundled codebook's narratives (claims dated before CLAIMS_BEFORE
# only; later claims stay evaluation material). A claim's title states a disinformation claim in its own voice.
# * positives: a claim tagged with one of POSITIVE_TAGS[n] asserts narrative n;
# * negatives: a claim tagged with none of ADJACENT_TAGS[n] does not carry n (tags that could go with n are left out
#   rather than guessed); csto_justification is bound to January 2022, so no earlier claim carries it.
CLAIMS_BEFORE = "2019-01-01"
POSITIVE_TAGS = {"foreign_hand": {"Colour revolutions", "Coup"}}
ADJACENT_TAGS = {
    "foreign_hand": {"Colour revolutions", "Coup", "Protest", "Euromaidan", "Destabilising Russia", "Puppets",
                     "Secret services", "CIA", "George Soros", "Sovereignty", "Manipulated elections/referendum",
                     "Elections", "election meddling", "Provocation", "Civil war", "Destabilising", "Deep state"},
    "isis_infiltration": {"Terrorism", "Daesh", "Muslim/Islam", "Syrian War", "Migration crisis", "Refugees", "Islam"},
    "csto_justification": set(),
}


def euvsdisinfo_material(posts_csv: str | os.PathLike, codebook, ranker, hard: int = 300, random_negatives: int = 150,
                         positives: int = 250, seed: int = 0) -> list[Pair]:
    """Claims before :data:`CLAIMS_BEFORE` as pairs with the codebook's narratives (rules above): per narrative the
    ``hard`` negatives the bi-encoder finds closest to its claims (propaganda about something else: what stage 1
    proposes by mistake), ``random_negatives`` more, and up to ``positives`` tag positives."""
    rows = []
    with open(posts_csv, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if (row.get("date") or "") < CLAIMS_BEFORE and (row.get("title") or "").strip():
                rows.append((row["title"].strip(), {t.strip() for t in (row.get("keywords") or "").split("+") if t.strip()}))
    rng = random.Random(seed)
    titles = [t for t, _ in rows]
    vectors = np.asarray(ranker.encode(titles), np.float32) if rows and ranker is not None else None
    out = []
    for n in codebook.narratives:
        if n.id not in ADJACENT_TAGS:
            continue
        claims = narrative_claims(n)
        negative = [k for k, (_, tags) in enumerate(rows) if not tags & ADJACENT_TAGS[n.id]]
        if vectors is not None and negative:
            centre = np.asarray(ranker.encode(list(claims)), np.float32).mean(axis=0)
            order = sorted(negative, key=lambda k: -float(vectors[k] @ centre))
            chosen = order[:hard] + rng.sample(order[hard:], min(random_negatives, max(0, len(order) - hard)))
        else:
            chosen = rng.sample(negative, min(hard + random_negatives, len(negative)))
        out += [Pair(claims, titles[k], "unrelated", 1.0, "euvsdisinfo", f"euvsdisinfo:{k}") for k in chosen]
        pos = [k for k, (_, tags) in enumerate(rows) if tags & POSITIVE_TAGS.get(n.id, set())]
        out += [Pair(claims, titles[k], "asserts", 1.0, "euvsdisinfo", f"euvsdisinfo:{k}")
                for k in rng.sample(pos, min(positives, len(pos)))]
    return out


def semeval_statement_material(directory: str | os.PathLike, codebook) -> list[Pair]:
    """Every SemEval sub-narrative statement (Ukraine war, climate) as ``unrelated`` to each codebook narrative:
    propaganda that is about something else."""
    from narrative_tracker.material import OTHER, load_semeval

    data = load_semeval(directory)
    statements = sorted({sub.split(":")[-1].strip() for sub in data.subnarratives if not sub.endswith(OTHER)})
    return [Pair(narrative_claims(n), st, "unrelated", 1.0, "semeval_statements", f"semeval-statement:{st}")
            for n in codebook.narratives for st in statements]


def material_sha(pairs: Sequence[Pair]) -> str:
    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps([p.claims, p.text, p.label, p.weight, p.source], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


def dev_split(pairs: Sequence[Pair], share: float = DEV_SHARE, seed: int = 0) -> tuple[list[Pair], list[Pair]]:
    """(train, dev): FNC claim groups drawn with ``seed`` go to dev (``share`` of the groups), and the labelled pairs of
    the choice half (``source == 'choice'``); every other pair trains."""
    groups = sorted({p.group for p in pairs if p.source == "fnc"})
    rng = random.Random(seed)
    dev_groups = set(rng.sample(groups, int(round(share * len(groups))))) if groups else set()
    train = [p for p in pairs if p.group not in dev_groups and p.source != "choice"]
    dev = [p for p in pairs if p.group in dev_groups or p.source == "choice"]
    return train, dev


# --- the loop ------------------------------------------------------------------------------------------
def _epoch_items(pairs: Sequence[Pair], config: TrainConfig, rng: random.Random) -> list[tuple[str, str, int, float]]:
    """One epoch's (claim, text, class index, weight) items: FNC unrelated subsampled, refutes repeated, in-domain
    pairs repeated, one claim drawn per pair."""
    items = []
    fnc_unrelated = [p for p in pairs if p.source == "fnc" and p.label == "unrelated"]
    chosen = set(map(id, rng.sample(fnc_unrelated, min(config.unrelated_per_epoch, len(fnc_unrelated)))))
    for p in pairs:
        if p.source == "fnc" and p.label == "unrelated" and id(p) not in chosen:
            continue
        repeat = 1
        if p.source == "fnc" and p.label == "refutes":
            repeat = config.refutes_repeat
        elif p.source in ("labelled", "codebook", "framed"):
            repeat = config.labelled_repeat
        for _ in range(repeat):
            items.append((rng.choice(p.claims), p.text, CLASSES.index(p.label), p.weight))
    return items


def _batches(items, batch_size: int, rng: random.Random) -> list[list[int]]:
    """Indices shuffled, then sorted by length inside windows of 50 batches (little padding), batches shuffled."""
    order = list(range(len(items)))
    rng.shuffle(order)
    window = batch_size * 50
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: len(items[i][0]) + len(items[i][1]))
        batches += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def scores_of(gold: Sequence[str], pred: Sequence[str]) -> dict:
    from narrative_tracker.material import stance_scores

    return stance_scores(gold, pred, CLASSES)


def predict(net, pairs: Sequence[Pair], precision: str, batch_size: int = 64, claim_index: int = 0) -> np.ndarray:
    import torch

    net.train(False)
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].claims[claim_index]) + len(pairs[i].text))
    proba = np.zeros((len(pairs), len(CLASSES)), np.float32)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            batch = net.encode([pairs[i].claims[claim_index] for i in idx], [pairs[i].text for i in idx])
            proba[idx] = torch.softmax(net.logits(batch).float(), dim=-1).numpy()
    return proba


@dataclass
class TrainResult:
    out_dir: Path
    version: str
    steps: int
    dev: dict = field(default_factory=dict)
    history: list = field(default_factory=list)


def _trainable_state(net) -> dict:
    state = {f"t.{k}": v.detach().clone() for k, v in net.transformer.named_parameters() if v.requires_grad}
    state.update({f"h.{k}": v.detach().clone() for k, v in net.head.state_dict().items()})
    return state


def _load_trainable(net, state: dict) -> None:
    params = dict(net.transformer.named_parameters())
    for k, v in state.items():
        if k.startswith("t."):
            params[k[2:]].data.copy_(v)
    net.head.load_state_dict({k[2:]: v for k, v in state.items() if k.startswith("h.")})


def train(pairs: Sequence[Pair], dev: Sequence[Pair], out_dir: str | os.PathLike, workdir: str | os.PathLike,
          config: TrainConfig | None = None, version: str | None = None, resume: bool = False, base: str | None = None,
          sources: list | None = None, progress: Callable[[str], None] = _progress) -> TrainResult:
    """Train an adapter + head on ``pairs``, choose the checkpoint on ``dev``, export the best to ``out_dir``."""
    import torch

    from narrative_tracker.narratives.pair_model import _bf16_ok

    config = config or TrainConfig()
    precision = config.precision if config.precision != "auto" else ("bf16" if _bf16_ok("cpu") else "fp32")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    net = new_net(base, config.lora_r, config.lora_alpha, config.lora_dropout, config.max_length, config.seed)
    groups = [{"params": [p for p in net.transformer.parameters() if p.requires_grad], "lr": config.lr},
              {"params": list(net.head.parameters()), "lr": config.head_lr}]
    optimizer = torch.optim.AdamW(groups, weight_decay=config.weight_decay)
    rng = random.Random(config.seed)
    per_epoch = math.ceil(len(_epoch_items(pairs, config, random.Random(0))) / config.batch_size)
    total = config.max_steps or max(1, int(per_epoch * config.epochs))
    warm = max(1, int(config.warmup * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm)) if s >= warm else (s + 1) / warm)
    weights = torch.tensor([CLASS_WEIGHT[c] for c in CLASSES])
    step, epoch, position, history, best = 0, 0, 0, [], {"macro_f1": -1.0}
    batches: list[list[int]] | None = None
    items = None
    ckpt = workdir / "last.pt"
    if resume and ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)  # our own local checkpoint file, never shipped
        _load_trainable(net, state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, epoch, position, history, best = state["step"], state["epoch"], state["position"], state["history"], state["best"]
        rng.setstate(state["rng"])
        items, batches = state["items"], state["batches"]
        progress(f"resumed at step {step} (epoch {epoch + 1}, batch {position})")
    elif resume:
        progress(f"no checkpoint in {workdir}: starting afresh")
    progress(f"{len(pairs)} training pairs, {len(dev)} dev pairs; {per_epoch} steps an epoch, {total} steps; {precision}")

    def evaluate(tag: str) -> dict:
        """Macro-F1 per dev source (FNC claims kept aside; the labelled choice half); the checkpoint score is their mean."""
        if not dev:
            return {}
        proba = predict(net, dev, precision)
        result: dict = {"step": step, "tag": tag, "sources": {}}
        for source in sorted({p.source for p in dev}):
            idx = [k for k, p in enumerate(dev) if p.source == source]
            part = scores_of([dev[k].label for k in idx], [CLASSES[i] for i in proba[idx].argmax(axis=1)])
            result["sources"][source] = part
            progress(f"dev {tag} {source} ({len(idx)} pairs): macro-F1 {part['macro_f1']:.3f} " +
                     " ".join(f"{c} {part['per_class'][c]['f1']:.2f}" for c in CLASSES))
        result["macro_f1"] = round(float(np.mean([v["macro_f1"] for v in result["sources"].values()])), 4)
        history.append({"step": step, "tag": tag, "macro_f1": result["macro_f1"]} |
                       {src: {"macro_f1": v["macro_f1"], "f1": {c: v["per_class"][c]["f1"] for c in CLASSES}}
                        for src, v in result["sources"].items()})
        net.train(True)
        return result

    def save_checkpoint() -> None:
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"model": _trainable_state(net), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "step": step, "epoch": epoch, "position": position, "history": history, "best": best,
                    "rng": rng.getstate(), "items": items, "batches": batches, "config": dataclasses.asdict(config)}, tmp)
        os.replace(tmp, ckpt)

    net.train(True)
    started = time.monotonic()
    while step < total:
        if batches is None or position >= len(batches):
            if batches is not None:
                epoch += 1
                position = 0
            items = _epoch_items(pairs, config, rng)
            batches = _batches(items, config.batch_size, rng)
        idx = batches[position]
        batch = net.encode([items[i][0] for i in idx], [items[i][1] for i in idx])
        target = torch.tensor([items[i][2] for i in idx])
        sample_w = torch.tensor([items[i][3] for i in idx], dtype=torch.float32)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = net.logits(batch)
        loss_each = torch.nn.functional.cross_entropy(logits.float(), target, weight=weights, reduction="none")
        loss = (loss_each * sample_w).sum() / (weights[target] * sample_w).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        position += 1
        if step % 10 == 0 or step == total:
            rate = (time.monotonic() - started) / 10
            started = time.monotonic()
            progress(f"step {step}/{total} epoch {epoch + 1} loss {loss.item():.3f} ({rate:.2f} s/step)")
        end_of_epoch = position >= len(batches)
        if (config.eval_every and step % config.eval_every == 0) or end_of_epoch or step == total:
            result = evaluate(f"step {step}")
            if result and result["macro_f1"] > best["macro_f1"]:
                best = {"macro_f1": result["macro_f1"], "step": step, "scores": result}
                torch.save(_trainable_state(net), workdir / "best.pt")
        if step % config.checkpoint_every == 0 or end_of_epoch or step == total:
            save_checkpoint()
    if (workdir / "best.pt").is_file() and dev:
        _load_trainable(net, torch.load(workdir / "best.pt", weights_only=True))
    version = version or dt.datetime.now(dt.timezone.utc).strftime("pair-%Y%m%d%H%M%S")
    meta = {"format": FORMAT, "version": version, "classes": list(CLASSES), "max_length": config.max_length,
            "base_model": Path(base_model_path(base)).name if base else "all-MiniLM-L6-v2",
            "base_model_sha": base_model_sha(base_model_path(base)), "config": dataclasses.asdict(config),
            "steps": step, "material_sha": material_sha(pairs), "trained_on": sources or [],
            "dev": best.get("scores", {}), "dev_best_step": best.get("step"), "history": history,
            "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    export(net, meta, out_dir)
    progress(f"saved {version} to {out_dir} (best dev step {best.get('step')})")
    return TrainResult(Path(out_dir), version, step, best.get("scores", {}), history)


def export(net, meta: dict, out_dir: str | os.PathLike) -> Path:
    """Write the adapter (peft's safetensors), the head (safetensors) and the meta JSON; no pickle."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net.transformer.save_pretrained(str(out), safe_serialization=True)
    for extra in ("README.md",):  # peft writes a model card; the artifact's description is pair_model.json
        (out / extra).unlink(missing_ok=True)
    save_file({k: v.detach().contiguous().float() for k, v in net.head.state_dict().items()}, str(out / HEAD_NAME))
    (out / META_NAME).write_text(json.dumps(meta, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def build_material(codebook, fnc_dir=None, semeval_dirs: Sequence[str | os.PathLike] = (), labelled=None,
                   tokenizer=None, ranker=None, seed: int = 0, progress: Callable[[str], None] = _progress, corpus=None):
    """``(train pairs, dev pairs, sources)``: every source above; the FNC dev claims split off (see :func:`dev_split`)."""
    if tokenizer is None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(base_model_path())
    pairs: list[Pair] = []
    sources = []
    if fnc_dir:
        part = fnc_material(fnc_dir, tokenizer, ranker)
        digest = hashlib.sha256((Path(fnc_dir) / "stances.csv").read_bytes()).hexdigest()[:16]
        sources.append({"kind": "fnc", "folder": Path(fnc_dir).name, "pairs": len(part), "stances_sha256": digest})
        pairs += part
        progress(f"FNC-format pairs: {len(part)}")
    if labelled is not False:
        part = labelled_material(codebook, labelled or None)
        sources.append({"kind": "labelled", "part": "tune", "pairs": sum(p.source == "labelled" for p in part),
                        "choice_pairs": sum(p.source == "choice" for p in part)})
        pairs += part
    part = codebook_material(codebook)
    sources.append({"kind": "codebook", "pairs": len(part)})
    pairs += part
    part = framed_material(codebook, seed=seed)
    sources.append({"kind": "framed", "pairs": len(part)})
    pairs += part
    for folder in semeval_dirs:
        part = semeval_material(folder, tokenizer, ranker, seed=seed)
        sources.append({"kind": "semeval", "folder": Path(folder).name, "pairs": len(part)})
        pairs += part
        part = semeval_statement_material(folder, codebook)
        sources.append({"kind": "semeval_statements", "folder": Path(folder).name, "pairs": len(part)})
        pairs += part
    if corpus:
        part = euvsdisinfo_material(corpus, codebook, ranker, seed=seed)
        digest = hashlib.sha256(Path(corpus).read_bytes()).hexdigest()[:16]
        sources.append({"kind": "euvsdisinfo", "before": CLAIMS_BEFORE, "pairs": len(part), "sha256": digest})
        pairs += part
        progress(f"EUvsDisinfo claims before {CLAIMS_BEFORE}: {len(part)} pairs")
    train_pairs, dev_pairs = dev_split(pairs, seed=seed)
    for s in sources:
        if s["kind"] == "fnc":
            s["dev_pairs"] = len(dev_pairs)
    progress(f"material: {len(train_pairs)} training pairs, {len(dev_pairs)} dev pairs (FNC claims kept aside)")
    return train_pairs, dev_pairs, sources


@dataclass(frozen=True)
class TrainPairRequest:
    """What ``narratives train-stance`` asks for (see ``docs/cli.md``)."""

    pairs: str | None = None  # FNC-1-format folder
    semeval: tuple[str, ...] = ()
    corpus: str | None = None  # EUvsDisinfo-format posts.csv (claims before CLAIMS_BEFORE)
    labelled: str | None | bool = None  # None: the bundled set (tune part); False: not used
    reviews: tuple[str, ...] = ()
    codebook: str | None = None
    out_dir: str | None = None  # default: the shipped folder
    workdir: str | None = None  # checkpoints; default: <out_dir>.work
    version: str | None = None
    epochs: float = TrainConfig.epochs
    max_steps: int | None = None
    seed: int = 0
    resume: bool = False


def review_material(paths: Sequence[str]) -> list[Pair]:
    from narrative_tracker.narratives.review import load_reviews

    claims, texts, labels = load_reviews(paths)
    return [Pair((c,), t, lab, 1.0, "review", f"review:{k}") for k, (c, t, lab) in enumerate(zip(claims, texts, labels))]


def train_request(request: TrainPairRequest, progress: Callable[[str], None] = _progress) -> TrainResult:
    """Build the material the request names, train, export; the checkpoint folder makes a stopped run resumable."""
    from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.narratives.pair_model import ARTIFACT_DIR

    if not request.pairs and request.labelled is False and not request.reviews and not request.semeval:
        raise ValueError("train-stance needs material: --pairs, --semeval, --review and/or the labelled paragraphs")
    codebook = load_codebook(request.codebook)
    ranker = SentenceTransformerEmbedder()
    train_pairs, dev_pairs, sources = build_material(codebook, request.pairs, request.semeval, request.labelled,
                                                     ranker=ranker, seed=request.seed, progress=progress, corpus=request.corpus)
    if request.reviews:
        part = review_material(request.reviews)
        sources.append({"kind": "review", "files": [Path(p).name for p in request.reviews], "pairs": len(part)})
        train_pairs += part
    out_dir = Path(request.out_dir) if request.out_dir else ARTIFACT_DIR
    workdir = Path(request.workdir) if request.workdir else out_dir.with_name(out_dir.name + ".work")
    config = TrainConfig(epochs=request.epochs, max_steps=request.max_steps, seed=request.seed)
    return train(train_pairs, dev_pairs, out_dir, workdir, config, version=request.version, resume=request.resume,
                 sources=sources, progress=progress)
