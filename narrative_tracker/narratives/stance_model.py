"""Trained stance of a text towards a claim: ``asserts``, ``reports``, ``refutes`` (or ``unrelated``).

Stance is decided per (claim, text) pair, so a paragraph that reports one narrative and asserts another
gets both right. The model is a small classifier head over features of the *frozen* bundled MiniLM
embeddings plus generic cue counts:

* pair features of the claim vector ``c``, the whole-text vector ``t`` and the vector ``b`` of the text's
  chunk (line) closest to the claim: ``c*t``, ``c*b``, ``|c-b|`` and their cosines;
* lexical overlap of the claim's content words with the text;
* generic cue rates (attribution verbs, refutation words, negation, hedges, questions, certainty words),
  for the whole text and for its closest chunk. The cue lists are generic English (written from general
  knowledge of news language, not from any evaluation sentence).

Length (~400 lines): the feature extractor, the cue lists and the artifact reader/writer must change together
(a feature added is a new artifact version), so they live in one module; training and evaluation are in
``narrative_tracker.evaluation.stance_eval``.

It was trained on FNC-1 claim-article pairs (agree = asserts, discuss = reports, disagree = refutes,
unrelated) plus the *tune* part of ``tests/labelled/paragraphs.csv`` (claim = the codebook narrative's
label); see ``narratives train-stance`` and docs. A question (a text whose sentences are mostly questions,
for example an interviewer's prompt) is never counted as an assertion: the model's ``asserts`` becomes
``reports`` with the cue ``question``.

The artifact is two files: ``stance_model.npz`` (weights, float32 arrays) and ``stance_model.json``
(version, classes, feature names, training summary) — no pickle.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

CLASSES = ("asserts", "reports", "refutes", "unrelated")
STANCES3 = ("asserts", "reports", "refutes")
ARTIFACT_DIR = Path(__file__).resolve().parent / "stance_artifact"
ARTIFACT_NAME = "stance_model"
MAX_CHUNKS = 40

# --- generic cue lexicons -------------------------------------------------------------------------------
_CUES: dict[str, re.Pattern] = {
    "refute": re.compile(
        r"\b(?:fake|false(?:ly|hood)?|hoax(?:es)?|debunk\w*|den(?:y|ies|ied|ial)|refut\w+|reject\w*|dismiss\w*|"
        r"untrue|not\s+true|no\s+(?:evidence|proof|truth|basis)|baseless|unfounded|groundless|myth|"
        r"rumou?rs?|fabricat\w+|misleading|incorrect|bogus|nonsense|lies|lied|satir\w+|doctored|photoshopped|"
        r"conspiracy|propaganda|disinformation|misinformation|never\s+happened|not\s+real|made\s+up)\b",
        re.I),
    "attribution": re.compile(
        r"\b(?:said|says|say|told|tells|according\s+to|reported(?:ly)?|reports|claim(?:s|ed)?|alleg\w+|"
        r"purported(?:ly)?|stated|states|announced|cited|citing|quoted|quoting|sources?|insist\w*|"
        r"argu(?:es|ed)|accus\w+|blam\w+|wrote|tweeted|posted|suggest\w*|believed\s+to|is\s+said\s+to)\b",
        re.I),
    "hedge": re.compile(
        r"\b(?:may|might|could|possibly|perhaps|apparently|unconfirmed|unverified|appears?|seems?|likely|"
        r"unclear|if\s+true|reportedly|supposedly|rumou?red|speculat\w+)\b", re.I),
    "negation": re.compile(r"\b(?:not|no|never|nothing|none|neither|nor|without|cannot)\b|n't\b", re.I),
    "certainty": re.compile(
        r"\b(?:confirm\w*|official(?:ly)?|indeed|clearly|obviously|prov(?:es|ed|en)|definitely|in\s+fact|"
        r"certainly|undoubtedly|of\s+course|revealed|shows?|showed)\b", re.I),
    "first_person": re.compile(r"\b(?:we|our|us|i)\b", re.I),
}
_QUESTION_START = re.compile(
    r"^\W*(?:who|what|why|how|when|where|which|is|are|was|were|do|does|did|can|could|will|would|should|"
    r"has|have|had|isn't|aren't|don't|doesn't)\b", re.I)
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z][a-z'\-]+")
_STOP = frozenset(
    "the a an and or of to in on for with at by from as is are was were be been being it its this that these those "
    "he she they them his her their we our you your i me my not no but if then than so such into over after before "
    "about against between during under up down out off again further there here when where why how all any both each "
    "few more most other some own same too very can will just should now has have had do does did says said new".split())


def split_sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENT_SPLIT.split(text or "")) if s]


def is_question(text: str) -> bool:
    """A question or an interview prompt: most of its sentences end with '?' (or the last does and it opens
    with an interrogative word)."""
    sentences = split_sentences(text)
    if not sentences:
        return False
    asked = sum(s.endswith("?") for s in sentences)
    if asked * 2 > len(sentences):
        return True
    return sentences[-1].endswith("?") and bool(_QUESTION_START.match(sentences[-1])) and len(sentences) <= 2


def chunks_of(text: str) -> list[str]:
    """The text's chunks (non-empty lines; a long line is cut into ~400-character sentence groups)."""
    out: list[str] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if len(line) <= 600:
            out.append(line)
            continue
        piece = ""
        for sentence in split_sentences(line):
            if piece and len(piece) + len(sentence) > 400:
                out.append(piece)
                piece = ""
            piece = f"{piece} {sentence}".strip()
        if piece:
            out.append(piece)
    return out[:MAX_CHUNKS] or [text or ""]


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def cue_vector(text: str) -> np.ndarray:
    """Cue rates per 100 words (log-scaled) plus question features."""
    words = max(len(text.split()), 1)
    rates = [np.log1p(100.0 * len(p.findall(text)) / words) for p in _CUES.values()]
    sentences = split_sentences(text)
    q = sum(s.endswith("?") for s in sentences) / max(len(sentences), 1)
    return np.array(rates + [q, float(is_question(text)), np.log1p(words)], dtype=np.float32)


CUE_NAMES = [*_CUES.keys(), "question_share", "is_question", "log_words"]


def cue_words(text: str, kind: str) -> list[str]:
    return [m.group(0).lower() for m in _CUES[kind].finditer(text)]


# --- features -----------------------------------------------------------------------------------------
_CUE_KINDS = ("refute", "attribution", "hedge", "negation", "certainty")


def feature_names() -> list[str]:
    names = ["cos(claim,text)", "cos(claim,best)", "mean_top3_cos", "share_chunks_cos>0.5", "overlap_claim",
             "overlap_jaccard", "log_chunks", "best_position"]
    names += [f"text:{n}" for n in CUE_NAMES] + [f"best:{n}" for n in CUE_NAMES] + [f"top3:{n}" for n in CUE_NAMES]
    names += [f"max_cos_with:{k}" for k in _CUE_KINDS]
    names += ["claim:question", "claim:negation", "claim:hedge", "claim:refute", "polarity_mismatch"]
    return names


def _features(claim: str, text: str, c: np.ndarray, t: np.ndarray, chunk_vecs: np.ndarray, chunks: list[str]) -> tuple[np.ndarray, str]:
    """Scalar pair features (see :func:`feature_names`): similarity of the claim to the text and to its
    closest chunks, content-word overlap, cue rates in the text / closest chunk / three closest chunks,
    the highest similarity of a chunk that carries each cue kind, and the claim's own cues."""
    sims = chunk_vecs @ c
    order = np.argsort(-sims)
    best = int(order[0])
    top = order[:3]
    cw, tw = _content_words(claim), _content_words(text)
    scalars = [float(c @ t), float(sims[best]), float(np.mean(sims[top])), float(np.mean(sims > 0.5)),
               len(cw & tw) / max(len(cw), 1), len(cw & tw) / max(len(cw | tw), 1), float(np.log1p(len(chunks))),
               best / max(len(chunks) - 1, 1)]
    cue_max = []
    for kind in _CUE_KINDS:
        has = np.array([bool(_CUES[kind].search(ch)) for ch in chunks])
        cue_max.append(float(sims[has].max()) if has.any() else -1.0)
    claim_neg = bool(_CUES["negation"].search(claim))
    best_neg = bool(_CUES["negation"].search(chunks[best]))
    claim_side = [float("?" in claim), float(claim_neg), float(bool(_CUES["hedge"].search(claim))),
                  float(bool(_CUES["refute"].search(claim))), float(claim_neg != best_neg)]
    x = np.concatenate([np.array(scalars, np.float32), cue_vector(text), cue_vector(chunks[best]),
                        cue_vector(" ".join(chunks[i] for i in top)), np.array(cue_max + claim_side, np.float32)])
    return x.astype(np.float32), chunks[best]


@dataclass
class PairEncoder:
    """Embeds claims, texts and chunks (each distinct string once) and builds the feature matrix."""

    embedder: object
    cache: dict[str, np.ndarray] = field(default_factory=dict)

    def vectors(self, strings: Sequence[str]) -> None:
        todo = sorted({s for s in strings if s not in self.cache})
        if todo:
            vecs = np.asarray(self.embedder.encode(todo), dtype=np.float32)
            self.cache.update(zip(todo, vecs))

    def features(self, claims: Sequence[str], texts: Sequence[str], text_vectors: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        chunked = [chunks_of(t) for t in texts]
        wanted = list(claims) + [c for cs in chunked for c in cs]
        if text_vectors is None:
            wanted += list(texts)
        else:
            for text, vec in zip(texts, text_vectors):
                self.cache.setdefault(text, np.asarray(vec, dtype=np.float32))
        self.vectors(wanted)
        rows, bests = [], []
        for claim, text, cs in zip(claims, texts, chunked):
            chunk_vecs = np.stack([self.cache[c] for c in cs])
            x, best = _features(claim, text, self.cache[claim], self.cache[text], chunk_vecs, cs)
            rows.append(x)
            bests.append(best)
        return (np.stack(rows) if rows else np.zeros((0, len(feature_names())), np.float32)), bests


# --- the model ------------------------------------------------------------------------------------------
@dataclass
class StanceHead:
    """Standardisation + a one-hidden-layer (or linear, ``w1`` empty) softmax head, numpy inference."""

    mean: np.ndarray
    scale: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]  # (W, b) per layer; ReLU between layers

    def proba(self, x: np.ndarray) -> np.ndarray:
        h = (x - self.mean) / self.scale
        for k, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if k < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        h = h - h.max(axis=1, keepdims=True)
        e = np.exp(h)
        return e / e.sum(axis=1, keepdims=True)


@dataclass
class StancePrediction:
    labels: list[str]
    confidences: list[float]
    why: list[str]  # a readable cue: the matched words or the deciding feature group


class StanceModel:
    """``StanceModel.load().predict(claims, texts) -> (labels, confidences, why)``.

    ``labels`` are ``asserts`` / ``reports`` / ``refutes`` / ``unrelated``; with ``related_only=True``
    (a narrative detector already decided the text carries the claim) the best of the three stances is
    returned and confidences are renormalised over them.
    """

    def __init__(self, head: StanceHead, meta: dict, embedder=None):
        self.head = head
        self.meta = meta
        self.classes = tuple(meta["classes"])
        self._embedder = embedder
        self._encoder: PairEncoder | None = None

    @property
    def version(self) -> str:
        return str(self.meta.get("version"))

    @property
    def encoder(self) -> PairEncoder:
        if self._encoder is None:
            if self._embedder is None:
                from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder

                self._embedder = SentenceTransformerEmbedder()
            self._encoder = PairEncoder(self._embedder)
        return self._encoder

    # persistence -------------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: str | Path | None = None, embedder=None) -> "StanceModel":
        directory = Path(directory) if directory else ARTIFACT_DIR
        meta_path, npz_path = directory / f"{ARTIFACT_NAME}.json", directory / f"{ARTIFACT_NAME}.npz"
        if not meta_path.is_file() or not npz_path.is_file():
            raise FileNotFoundError(f"no stance model in {directory} (expected {ARTIFACT_NAME}.json and .npz); "
                                    "build one with `narratives train-stance`")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        with np.load(npz_path, allow_pickle=False) as data:
            n = int(meta["layers"])
            head = StanceHead(data["mean"], data["scale"], [(data[f"w{k}"], data[f"b{k}"]) for k in range(n)])
        return cls(head, meta, embedder)

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"mean": self.head.mean, "scale": self.head.scale}
        for k, (w, b) in enumerate(self.head.layers):
            arrays[f"w{k}"], arrays[f"b{k}"] = w.astype(np.float32), b.astype(np.float32)
        np.savez_compressed(directory / f"{ARTIFACT_NAME}.npz", **arrays)
        meta = dict(self.meta, layers=len(self.head.layers))
        (directory / f"{ARTIFACT_NAME}.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return directory

    # inference ---------------------------------------------------------------------------------------
    def predict_proba(self, claims: Sequence[str], texts: Sequence[str], text_vectors: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        if len(claims) != len(texts):
            raise ValueError(f"claims and texts differ in length ({len(claims)} vs {len(texts)})")
        if not len(claims):
            return np.zeros((0, len(self.classes))), []
        x, bests = self.encoder.features(list(claims), list(texts), text_vectors)
        return self.head.proba(x), bests

    def predict(self, claims: Sequence[str], texts: Sequence[str], text_vectors: np.ndarray | None = None,
                related_only: bool = False) -> tuple[list[str], list[float], list[str]]:
        proba, bests = self.predict_proba(claims, texts, text_vectors)
        p = proba.copy()
        if related_only and "unrelated" in self.classes:
            p[:, self.classes.index("unrelated")] = 0.0
            p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        labels, confs, why = [], [], []
        for i, text in enumerate(texts):
            k = int(np.argmax(guarded(p[i], text, self.classes)))
            label, conf = self.classes[k], float(p[i, k])  # the model's own probability, before the cue guard
            if label == "asserts" and is_question(text):
                label, reason = "reports", "question"  # an interviewer's question or a heading asks, it does not assert
                conf = float(p[i, self.classes.index("reports")])
            else:
                reason = explain(label, text, bests[i])
            labels.append(label)
            confs.append(round(conf, 4))
            why.append(reason)
        return labels, confs, why


_NEEDS_CUE = {"refutes": ("refute", "negation"), "reports": ("attribution", "hedge")}


def guarded(proba: np.ndarray, text: str, classes: Sequence[str] = CLASSES) -> np.ndarray:
    """Probabilities with a stance removed when the text shows no generic cue for it at all (``_NEEDS_CUE``):
    the pair features alone extrapolate badly from FNC articles to single paragraphs (a plain assertion
    close to the claim came out as ``refutes``). Chosen on the tune part of the labelled set."""
    row = np.array(proba, dtype=float)
    for stance, kinds in _NEEDS_CUE.items():
        if stance in classes and not any(_CUES[kind].search(text) for kind in kinds):
            row[list(classes).index(stance)] = 0.0
    if row.sum() <= 0:
        row = np.array(proba, dtype=float)
    return row / row.sum()


def explain(label: str, text: str, best_chunk: str) -> str:
    """Readable cue for a decision: the cue words of the deciding kind, closest chunk first."""
    kind = {"refutes": "refute", "reports": "attribution", "asserts": "certainty"}.get(label)
    if kind is None:
        return "low similarity to the claim"
    words = cue_words(best_chunk, kind) or cue_words(text, kind)
    if label == "reports" and not words:
        words = cue_words(best_chunk, "hedge") or cue_words(text, "hedge")
    if words:
        seen = list(dict.fromkeys(words))[:3]
        return f"{kind}: " + ", ".join(seen)
    return "no attribution or refutation cue" if label == "asserts" else f"{label} (embedding features)"


# --- training -------------------------------------------------------------------------------------------
def fit_head(x: np.ndarray, y: np.ndarray, classes: Sequence[str], hidden: int = 0, seed: int = 0,
             sample_weight: np.ndarray | None = None, c: float = 1.0) -> StanceHead:
    """Fit the head with scikit-learn (balanced class weights) and export its weights as arrays."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    counts = np.bincount(y, minlength=len(classes)).astype(float)
    weights = (len(y) / (len(classes) * np.maximum(counts, 1.0)))[y]
    if sample_weight is not None:
        weights = weights * sample_weight
    if hidden:
        # MLPClassifier has no sample weights: balance by resampling to the weights
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(y), size=len(y), p=weights / weights.sum())
        model = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1e-2, max_iter=60, early_stopping=False, random_state=seed)
        model.fit(z[idx], y[idx])
        layers = [(w.astype(np.float32), b.astype(np.float32)) for w, b in zip(model.coefs_, model.intercepts_)]
        if layers[-1][0].shape[1] == 1:  # binary: never the case with >= 3 classes
            raise ValueError("need at least three classes")
    else:
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(z, y, sample_weight=weights)
        layers = [(model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32))]
    return StanceHead(mean.astype(np.float32), scale.astype(np.float32), layers)


# --- pipeline entry point -------------------------------------------------------------------------------
_LOADED: dict[str, StanceModel | None] = {}


def default_model(embedder=None) -> StanceModel | None:
    """The shipped model (``narrative_tracker/narratives/stance_artifact/``), loaded once; None if the artifact is missing."""
    if "default" not in _LOADED:
        try:
            _LOADED["default"] = StanceModel.load(embedder=embedder)
        except FileNotFoundError:
            _LOADED["default"] = None
    return _LOADED["default"]


def stance_of_pairs(claims: Sequence[str], texts: Sequence[str], text_vectors: np.ndarray | None = None,
                    vector_model: str | None = None, model: StanceModel | None = None) -> list[tuple[str, str | None, float | None, str | None]]:
    """``(stance, cue, confidence, model_version)`` per (claim, text) pair known to carry the claim.

    ``text_vectors`` (the paragraphs' stored vectors) are reused when ``vector_model`` is the embedding
    model the stance model was trained on; otherwise texts are embedded again with that model. Without an
    artifact the cue lexicon (``narrative_tracker.narratives.stance``) decides, with no confidence."""
    model = model or default_model()
    if model is None:
        from narrative_tracker.narratives.stance import classify_stance

        out = []
        for text in texts:
            s = classify_stance(text)
            if s.stance == "asserts" and is_question(text):
                out.append(("reports", "question", None, None))
            else:
                out.append((s.stance, s.cue, None, None))
        return out
    reuse = text_vectors is not None and vector_model == model.meta.get("embedding_model")
    labels, confs, why = model.predict(claims, texts, text_vectors if reuse else None, related_only=True)
    return [(label, cue, conf, model.version) for label, conf, cue in zip(labels, confs, why)]
