"""SemEval-2025 Task 10 (subtask 2) data: import its taxonomy as a codebook, and learn from its labels.

Data layout (``../shared/benchmarks/semeval2025-task10-en``): ``documents/*.txt`` (title on line 1),
``labels.tsv`` (``file \\t narratives ;-sep \\t subnarratives ;-sep``), ``explanations.tsv`` (file, dominant
narrative, dominant subnarrative, human explanation), ``subtask2_narratives.txt`` /
``subtask2_subnarratives.txt`` (the taxonomy). A document with no narrative is labelled ``Other``.

Learning from labelled documents (``cross_validate``), measured with k-fold cross-validation and the task's
metric (samples-averaged F1 over coarse narratives and over fine subnarratives):

* ``zero_shot`` — the imported codebook used as the pipeline uses it: paragraphs scored against each
  narrative's statements, a document carries a narrative when one of its paragraphs does; no training.
* ``prototype`` — a narrative's prototype is the mean vector of its training documents; a document carries
  it when its cosine to the prototype clears a threshold chosen on the training folds.
* ``logistic`` — a light classifier head: one-vs-rest logistic regression (scikit-learn, balanced class
  weights) on document vectors, with one probability threshold chosen on the training folds.

Document vector = normalised mean of its paragraph vectors. Fine labels are predicted only under a
predicted coarse parent (else ``<parent>: Other``), as the task's hierarchy requires.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from narrative_tracker.paragraphs.clean import paragraphs_of
from narrative_tracker.embeddings.embed import Embedder

OTHER = "Other"


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    paragraphs: tuple[str, ...]
    coarse: frozenset[str]
    fine: frozenset[str]


@dataclass(frozen=True)
class SemEvalData:
    documents: tuple[Document, ...]
    narratives: tuple[str, ...]  # coarse taxonomy, without Other
    subnarratives: tuple[str, ...]  # fine taxonomy "<coarse>: <fine>"
    explanations: dict[str, list[tuple[str, str]]]  # coarse -> (file, human explanation)


def _split(value: str) -> frozenset[str]:
    items = frozenset(v.strip() for v in value.split(";") if v.strip())
    return items or frozenset({OTHER})


def load_semeval(root: str | Path) -> SemEvalData:
    root = Path(root)
    labels: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    with open(root / "labels.tsv", encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if row:
                labels[row[0]] = (_split(row[1] if len(row) > 1 else ""), _split(row[2] if len(row) > 2 else ""))
    documents = []
    for path in sorted((root / "documents").glob("*.txt")):
        if path.name not in labels:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        title, _, body = text.partition("\n")
        kept, _ = paragraphs_of(body)
        paragraphs = tuple(p.text for p in kept) or (title.strip(),)
        coarse, fine = labels[path.name]
        documents.append(Document(path.name, title.strip(), paragraphs, coarse, fine))
    read = lambda name: tuple(  # noqa: E731
        line.strip() for line in (root / name).read_text(encoding="utf-8").splitlines() if line.strip() and line.strip() != OTHER
    )
    explanations: dict[str, list[tuple[str, str]]] = {}
    if (root / "explanations.tsv").exists():
        with open(root / "explanations.tsv", encoding="utf-8") as handle:
            for row in csv.reader(handle, delimiter="\t"):
                if len(row) >= 4 and row[3].strip():
                    explanations.setdefault(row[1].strip(), []).append((row[0].strip(), row[3].strip()))
    return SemEvalData(tuple(documents), read("subtask2_narratives.txt"), read("subtask2_subnarratives.txt"), explanations)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]


def codebook_from_semeval(data: SemEvalData, max_explanations: int = 6, files: set[str] | None = None) -> dict:
    """A codebook (as a YAML-ready dict) with one narrative per coarse label of the taxonomy.

    Examples are the subnarrative statements of the taxonomy (written as claims) plus up to
    ``max_explanations`` human explanations from ``explanations.tsv`` — only those of ``files`` when given
    (cross-validation passes the training documents, so no test document's explanation leaks in).
    """
    narratives = []
    for name in data.narratives:
        subs = [s.split(": ", 2)[-1] for s in data.subnarratives if s.startswith(name + ": ") and not s.endswith(": Other")]
        notes = [text for file, text in data.explanations.get(name, []) if files is None or file in files]
        examples = subs + notes[:max_explanations]
        domain, _, short = name.partition(": ")
        narratives.append(
            {
                "id": slug(name),
                "label": name,
                "description": f"SemEval-2025 Task 10 narrative ({domain}): {short}. Subnarratives: " + "; ".join(subs),
                "examples": examples or [short],
            }
        )
    return {"version": 1, "source": "SemEval-2025 Task 10 subtask 2 taxonomy", "narratives": narratives}


# ------------------------------------------------------------------------------------------- metrics
def samples_f1(gold: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]]) -> float:
    """Samples-averaged F1 (the task's metric): the mean over documents of the F1 of their label sets."""
    scores = []
    for g, p in zip(gold, predicted):
        tp = len(g & p)
        scores.append(2 * tp / (len(g) + len(p)) if g or p else 1.0)
    return float(np.mean(scores)) if scores else 0.0


# ------------------------------------------------------------------------------------------- vectors
def embed_documents(data: SemEvalData, embedder: Embedder, max_paragraphs: int = 40) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(doc vectors (n, d), per-document paragraph vectors)``; title counts as a paragraph."""
    texts, owners = [], []
    for i, doc in enumerate(data.documents):
        for text in (doc.title, *doc.paragraphs[:max_paragraphs]):
            texts.append(text)
            owners.append(i)
    vectors = embedder.encode(texts)
    owners_arr = np.array(owners)
    per_doc = [vectors[owners_arr == i] for i in range(len(data.documents))]
    docs = np.stack([v.mean(axis=0) for v in per_doc])
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    return docs.astype(np.float32), per_doc


# ------------------------------------------------------------------------------------------- methods
_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def _best_threshold(probs: np.ndarray, gold: list[frozenset[str]], labels: list[str]) -> float:
    best_t, best = 0.5, -1.0
    for t in _GRID:
        pred = [frozenset(labels[j] for j in np.flatnonzero(row >= t)) or frozenset({OTHER}) for row in probs]
        score = samples_f1(gold, pred)
        if score > best:
            best_t, best = float(t), score
    return best_t


class _Head:
    """One-vs-rest scorer over a label set; ``method`` is 'logistic' or 'prototype'."""

    def __init__(self, method: str, labels: list[str]):
        self.method, self.labels = method, labels

    def fit(self, X: np.ndarray, gold: list[frozenset[str]]) -> _Head:
        Y = np.array([[label in g for label in self.labels] for g in gold])
        self.active = Y.sum(axis=0) > 0
        if self.method == "prototype":
            protos = np.stack([X[Y[:, j]].mean(axis=0) if Y[:, j].any() else np.zeros(X.shape[1]) for j in range(len(self.labels))])
            norms = np.linalg.norm(protos, axis=1, keepdims=True)
            self.protos = protos / np.where(norms > 0, norms, 1)
        else:
            from sklearn.linear_model import LogisticRegression

            self.models = {}
            for j in np.flatnonzero(self.active):
                if Y[:, j].all():
                    continue
                self.models[j] = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000).fit(X, Y[:, j])
        return self

    def scores(self, X: np.ndarray) -> np.ndarray:
        if self.method == "prototype":
            out = X @ self.protos.T
            out[:, ~self.active] = -1
            return out
        out = np.zeros((X.shape[0], len(self.labels)))
        for j, model in self.models.items():
            out[:, j] = model.predict_proba(X)[:, 1]
        return out


def _fit_predict(method: str, X_train, coarse_train, fine_train, X_test, data: SemEvalData, seed: int):
    from sklearn.model_selection import KFold

    coarse_labels, fine_labels = list(data.narratives), [s for s in data.subnarratives if not s.endswith(": Other")]
    # thresholds: chosen on out-of-fold predictions inside the training part only
    inner = KFold(n_splits=3, shuffle=True, random_state=seed)
    oof_c = np.zeros((len(X_train), len(coarse_labels)))
    oof_f = np.zeros((len(X_train), len(fine_labels)))
    for a, b in inner.split(X_train):
        oof_c[b] = _Head(method, coarse_labels).fit(X_train[a], [coarse_train[i] for i in a]).scores(X_train[b])
        oof_f[b] = _Head(method, fine_labels).fit(X_train[a], [fine_train[i] for i in a]).scores(X_train[b])
    t_c = _best_threshold(oof_c, coarse_train, coarse_labels)
    t_f = _best_threshold(oof_f, [frozenset(x for x in f if not x.endswith(": Other")) or frozenset({OTHER}) for f in fine_train], fine_labels)
    s_c = _Head(method, coarse_labels).fit(X_train, coarse_train).scores(X_test)
    s_f = _Head(method, fine_labels).fit(X_train, fine_train).scores(X_test)
    return [_decode(rc, rf, coarse_labels, fine_labels, t_c, t_f) for rc, rf in zip(s_c, s_f)]


def _decode(row_c, row_f, coarse_labels, fine_labels, t_c, t_f) -> tuple[frozenset[str], frozenset[str]]:
    coarse = {coarse_labels[j] for j in np.flatnonzero(row_c >= t_c)}
    if not coarse:
        return frozenset({OTHER}), frozenset({OTHER})
    fine = set()
    for parent in coarse:
        kids = [j for j, f in enumerate(fine_labels) if f.startswith(parent + ": ") and row_f[j] >= t_f]
        fine |= {fine_labels[j] for j in kids} or {f"{parent}: Other"}
    return frozenset(coarse), frozenset(fine)


def _zero_shot(per_doc: list[np.ndarray], names: list[str], examples: list[np.ndarray], threshold: float) -> list[tuple[frozenset[str], frozenset[str]]]:
    """A document carries a narrative when one of its paragraphs' top-3 mean cosine to its examples clears ``threshold``."""
    out = []
    for paragraphs in per_doc:
        coarse = set()
        for name, ex in zip(names, examples):
            cos = paragraphs @ ex.T
            top = np.sort(cos, axis=1)[:, -min(3, cos.shape[1]):].mean(axis=1)
            if (top >= threshold).any():
                coarse.add(name)
        out.append((frozenset(coarse) or frozenset({OTHER}), frozenset(f"{c}: Other" for c in coarse) or frozenset({OTHER})))
    return out


def cross_validate(data: SemEvalData, embedder: Embedder, folds: int = 5, seed: int = 42, methods: Sequence[str] = ("zero_shot", "prototype", "logistic")) -> dict:
    """k-fold cross-validated coarse / fine samples-F1 of each method (see module docs)."""
    from sklearn.model_selection import KFold

    X, per_doc = embed_documents(data, embedder)
    coarse = [d.coarse for d in data.documents]
    fine = [d.fine for d in data.documents]
    results: dict[str, dict] = {}
    splits = list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(X))
    for method in methods:
        pred: list[tuple[frozenset[str], frozenset[str]] | None] = [None] * len(data.documents)
        for train, test in splits:
            if method == "zero_shot":
                # the one setting (paragraph threshold) is chosen on the training documents
                book = codebook_from_semeval(data, files={data.documents[i].id for i in train})
                names = [n["label"] for n in book["narratives"]]
                examples = [embedder.encode(n["examples"]) for n in book["narratives"]]
                best_t, best = 0.5, -1.0
                for t in np.round(np.arange(0.30, 0.75, 0.05), 2):
                    p = _zero_shot([per_doc[i] for i in train], names, examples, t)
                    score = samples_f1([coarse[i] for i in train], [x[0] for x in p])
                    if score > best:
                        best_t, best = float(t), score
                fold = _zero_shot([per_doc[i] for i in test], names, examples, best_t)
            else:
                fold = _fit_predict(method, X[train], [coarse[i] for i in train], [fine[i] for i in train], X[test], data, seed)
            for i, p in zip(test, fold):
                pred[i] = p
        results[method] = {
            "coarse_samples_f1": round(samples_f1(coarse, [p[0] for p in pred]), 3),
            "fine_samples_f1": round(samples_f1(fine, [p[1] for p in pred]), 3),
        }
    results["always_other"] = {  # the floor: nearly half the documents carry no narrative
        "coarse_samples_f1": round(samples_f1(coarse, [frozenset({OTHER})] * len(coarse)), 3),
        "fine_samples_f1": round(samples_f1(fine, [frozenset({OTHER})] * len(fine)), 3),
    }
    results["documents"] = len(data.documents)
    results["folds"] = folds
    results["seed"] = seed
    return results


def transfer(train: SemEvalData, test: SemEvalData, embedder: Embedder, seed: int = 42,
             methods: Sequence[str] = ("prototype", "logistic")) -> dict:
    """Heads trained on every document of ``train`` (e.g. the English split), scored on ``test`` (e.g. Russian).

    Thresholds are chosen on out-of-fold predictions inside ``train`` only; ``test`` is never looked at until
    scoring. With a multilingual embedder this measures whether a desk can label in one language and track
    another. The taxonomy is ``train``'s (both splits share the task's English labels).
    """
    X_train, _ = embed_documents(train, embedder)
    X_test, _ = embed_documents(test, embedder)
    coarse_train = [d.coarse for d in train.documents]
    fine_train = [d.fine for d in train.documents]
    coarse = [d.coarse for d in test.documents]
    fine = [d.fine for d in test.documents]
    results: dict[str, dict] = {}
    for method in methods:
        pred = _fit_predict(method, X_train, coarse_train, fine_train, X_test, train, seed)
        results[method] = {
            "coarse_samples_f1": round(samples_f1(coarse, [p[0] for p in pred]), 3),
            "fine_samples_f1": round(samples_f1(fine, [p[1] for p in pred]), 3),
        }
    results["train_documents"], results["test_documents"] = len(train.documents), len(test.documents)
    return results
