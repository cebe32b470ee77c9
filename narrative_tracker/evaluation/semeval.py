"""SemEval-2025 Task 10 (subtask 2): how well the methods learn from its labels.

The data (``../shared/benchmarks/semeval2025-task10-en``) is read by ``narrative_tracker.material.load_semeval``
(the loader the learning code shares), which also imports its taxonomy as a codebook (``codebook_from_semeval``).

Learning from labelled documents (``cross_validate``), measured with k-fold cross-validation and the task's
metric (samples-averaged F1 over coarse narratives and over fine subnarratives):

* ``zero_shot`` — the imported codebook used as the pipeline uses it: paragraphs scored against each
  narrative's statements, a document carries a narrative when one of its paragraphs does; no training.
* ``prototype`` — a narrative's prototype is the mean vector of its training documents; a document carries
  it when its cosine to the prototype clears a threshold chosen on the training folds.
* ``logistic`` — a light classifier head: one-vs-rest logistic regression (scikit-learn, balanced class
  weights) on document vectors, with one probability threshold chosen on the training folds.
* ``logistic_tuned`` — the same head on title-weighted document vectors (``title_weighted``: the title counts
  twice), with its class weighting (balanced or none), its probability threshold and whether to fall back to
  the top-1 label when none clears the threshold chosen *together* by a 3-fold cross-validation inside each
  training part (nested: the outer test fold is never seen). On a set where every document carries a
  narrative (the Russian split) the inner folds pick unweighted classes and the fallback; on the English
  split (half ``Other``) balanced classes and no fallback. The choices are returned per fold.
* ``heads`` — the pipeline's trained narrative heads (``narrative_tracker.narratives.heads``, what
  ``narratives train --semeval`` builds): the codebook imported from the training folds (subnarrative
  statements + their explanations) plus the training documents, one head per narrative with at least
  ``heads.MIN_LABELLED_POSITIVES`` training documents, ``C`` and per-head thresholds by out-of-fold F1; the
  document decision uses one probability threshold chosen on out-of-fold predictions of the training folds.

``transfer`` trains on one split and scores another; its ``logistic_tuned`` variants adapt to the
*unlabelled* target documents only (top-1 fallback, per-set mean-centring, a taxonomy-domain gate, and the
Saerens-Latinne-Decaestecker EM re-estimation of label priors, ``prior_shift_em``).

Document vector = normalised mean of its paragraph vectors (title-weighted for ``logistic_tuned``). Fine labels are predicted only under a
predicted coarse parent (else ``<parent>: Other``), as the task's hierarchy requires.

Length (~500 lines): the importer, the document vectors and every method scored under one protocol (same folds,
same metric, same threshold rules) — splitting the methods apart would let their protocols drift. Candidate for a
split into ``semeval_data.py`` / ``semeval_methods.py`` when another method is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from narrative_tracker.embeddings.embed import Embedder
from narrative_tracker.material import OTHER, TITLE_WEIGHT, SemEvalData, codebook_from_semeval, slug

CLASS_WEIGHTS = ("balanced", None)  # logistic_tuned: chosen per training part by inner cross-validation


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
    """``(doc vectors (n, d), per-document paragraph vectors)``; title counts as a paragraph (row 0)."""
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


def title_weighted(per_doc: list[np.ndarray], title_weight: float = TITLE_WEIGHT) -> np.ndarray:
    """Document vectors: the normalised weighted mean of each document's paragraph vectors, its title (row 0)
    counting ``title_weight`` times. ``title_weight=1`` is the plain mean of ``embed_documents``."""
    docs = []
    for vectors in per_doc:
        weights = np.ones(len(vectors))
        weights[0] = title_weight
        v = (vectors * weights[:, None]).sum(axis=0)
        docs.append(v / max(float(np.linalg.norm(v)), 1e-12))
    return np.stack(docs).astype(np.float32)


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
    """One-vs-rest scorer over a label set; ``method`` is 'logistic' or 'prototype'. ``class_weight``
    ('balanced' or None) applies to the logistic head."""

    def __init__(self, method: str, labels: list[str], class_weight: str | None = "balanced"):
        self.method, self.labels, self.class_weight = method, labels, class_weight

    def fit(self, X: np.ndarray, gold: list[frozenset[str]], sample_weight: np.ndarray | None = None) -> _Head:
        """``sample_weight`` (per row; logistic only): e.g. the weight of another language's documents."""
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
                self.models[j] = LogisticRegression(C=4.0, class_weight=self.class_weight, max_iter=2000).fit(
                    X, Y[:, j], sample_weight=sample_weight)
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


def _decode(row_c, row_f, coarse_labels, fine_labels, t_c, t_f, top1: bool = False) -> tuple[frozenset[str], frozenset[str]]:
    """Labels whose score clears the threshold; none -> ``Other``, or with ``top1`` the best-scoring label
    (a document is then never ``Other``). Fine labels only under a predicted coarse parent."""
    coarse = {coarse_labels[j] for j in np.flatnonzero(row_c >= t_c)}
    if not coarse and top1 and len(row_c) and row_c.max() > 0:
        coarse = {coarse_labels[int(np.argmax(row_c))]}
    if not coarse:
        return frozenset({OTHER}), frozenset({OTHER})
    fine = set()
    for parent in coarse:
        kids = [j for j, f in enumerate(fine_labels) if f.startswith(parent + ": ") and row_f[j] >= t_f]
        fine |= {fine_labels[j] for j in kids} or {f"{parent}: Other"}
    return frozenset(coarse), frozenset(fine)


def _best_rule(probs: np.ndarray, gold: list[frozenset[str]], labels: list[str]) -> tuple[float, bool, float]:
    """``(threshold, top1, samples-F1)``: the decision rule (threshold on the grid, top-1 fallback or not) that
    maximises samples-F1 of ``probs`` (out-of-fold scores of training documents only); ties keep the earlier
    (lower threshold, no fallback)."""
    best = (0.5, False, -1.0)
    for top1 in (False, True):
        for t in _GRID:
            pred = []
            for row in probs:
                hits = {labels[j] for j in np.flatnonzero(row >= t)}
                if not hits and top1 and row.max() > 0:
                    hits = {labels[int(np.argmax(row))]}
                pred.append(frozenset(hits) or frozenset({OTHER}))
            score = samples_f1(gold, pred)
            if score > best[2] + 1e-9:
                best = (float(t), top1, score)
    return best


def _fine_gold(fine_train: list[frozenset[str]]) -> list[frozenset[str]]:
    return [frozenset(x for x in f if not x.endswith(": Other")) or frozenset({OTHER}) for f in fine_train]


def _fit_tuned(X_train, coarse_train, fine_train, data: SemEvalData, seed: int) -> dict:
    """``logistic_tuned``: the logistic head with its class weighting (balanced or none), coarse threshold and
    top-1 fallback chosen together by 3-fold cross-validation *inside* ``X_train`` (out-of-fold samples-F1),
    the fine threshold likewise; then both heads refitted on all of ``X_train``. Returns the fitted heads and
    the choices."""
    from sklearn.model_selection import KFold

    coarse_labels, fine_labels = list(data.narratives), [s for s in data.subnarratives if not s.endswith(": Other")]
    inner = list(KFold(n_splits=3, shuffle=True, random_state=seed).split(X_train))
    best = None
    for weight in CLASS_WEIGHTS:
        oof_c = np.zeros((len(X_train), len(coarse_labels)))
        oof_f = np.zeros((len(X_train), len(fine_labels)))
        for a, b in inner:
            oof_c[b] = _Head("logistic", coarse_labels, weight).fit(X_train[a], [coarse_train[i] for i in a]).scores(X_train[b])
            oof_f[b] = _Head("logistic", fine_labels, weight).fit(X_train[a], [fine_train[i] for i in a]).scores(X_train[b])
        t_c, top1, score = _best_rule(oof_c, coarse_train, coarse_labels)
        if best is None or score > best["inner_f1"] + 1e-9:
            best = {"class_weight": weight, "threshold": t_c, "top1": top1, "inner_f1": round(score, 3), "_oof_f": oof_f}
    assert best is not None
    best["fine_threshold"] = _best_threshold(best.pop("_oof_f"), _fine_gold(fine_train), fine_labels)
    best["coarse_head"] = _Head("logistic", coarse_labels, best["class_weight"]).fit(X_train, coarse_train)
    best["fine_head"] = _Head("logistic", fine_labels, best["class_weight"]).fit(X_train, fine_train)
    best["labels"] = (coarse_labels, fine_labels)
    return best


def _predict_tuned(model: dict, X_test, top1: bool | None = None, coarse_scores: np.ndarray | None = None):
    coarse_labels, fine_labels = model["labels"]
    s_c = model["coarse_head"].scores(X_test) if coarse_scores is None else coarse_scores
    s_f = model["fine_head"].scores(X_test)
    fallback = model["top1"] if top1 is None else top1
    return [_decode(rc, rf, coarse_labels, fine_labels, model["threshold"], model["fine_threshold"], fallback) for rc, rf in zip(s_c, s_f)]


def _choices(model: dict) -> dict:
    return {k: model[k] for k in ("class_weight", "threshold", "top1", "fine_threshold", "inner_f1")}


def prior_shift_em(probs: np.ndarray, train_prior: np.ndarray, iterations: int = 200, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Saerens, Latinne & Decaestecker (2002): re-estimate each label's prior on *unlabelled* documents by EM
    and adjust the posteriors to it. ``probs`` (n, labels) are one-vs-rest posteriors fitted under
    ``train_prior`` (per label; 0.5 for a class-balanced head). Returns ``(new priors, adjusted posteriors)``.
    Each label is a binary problem (present / absent), as the heads are one-vs-rest."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-9, 1 - 1e-9)
    prior = np.clip(np.asarray(train_prior, dtype=np.float64), 1e-6, 1 - 1e-6)
    q, adjusted = prior.copy(), p.copy()
    for _ in range(iterations):
        up, down = q / prior, (1 - q) / (1 - prior)
        adjusted = up * p / (up * p + down * (1 - p))
        new = np.clip(adjusted.mean(axis=0), 1e-6, 1 - 1e-6)
        if np.abs(new - q).max() < tol:
            q = new
            break
        q = new
    return q, adjusted


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


def _heads_scores(data: SemEvalData, embedder: Embedder, X: np.ndarray, train: Sequence[int], test: Sequence[int],
                  cache: dict) -> np.ndarray:
    """Probabilities ``(len(test), coarse labels)`` of heads trained on the ``train`` documents (0 where a label
    has no head: too few training documents)."""
    import tempfile

    import yaml

    from narrative_tracker.narratives import heads as H
    from narrative_tracker.narratives.codebook import load_codebook

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "codebook.yaml"
        path.write_text(yaml.safe_dump(codebook_from_semeval(data, files={data.documents[i].id for i in train})), encoding="utf-8")
        book = load_codebook(path)
    ids = frozenset(book.ids)
    material = H.codebook_material(book)
    for i in train:
        doc = data.documents[i]
        positives = frozenset(slug(c) for c in doc.coarse if c != OTHER)
        material.append(H.Example((doc.title, *doc.paragraphs[:40]), positives, ids - positives, "semeval", X[i], TITLE_WEIGHT))
    try:
        heads = H.train_heads(material, embedder, book.ids, vectors=H.example_vectors(material, embedder, cache), progress=None)
    except ValueError:  # no label with enough training documents
        return np.zeros((len(test), len(data.narratives)))
    proba = heads.proba(X[list(test)])
    out = np.zeros((len(test), len(data.narratives)))
    for j, name in enumerate(data.narratives):
        h = heads.index(slug(name))
        if h is not None:
            out[:, j] = proba[:, h]
    return out


def _heads_predict(data: SemEvalData, embedder: Embedder, X: np.ndarray, train: np.ndarray, test: np.ndarray, seed: int,
                   cache: dict) -> list[tuple[frozenset[str], frozenset[str]]]:
    from sklearn.model_selection import KFold

    labels = list(data.narratives)
    oof = np.zeros((len(train), len(labels)))
    for a, b in KFold(n_splits=3, shuffle=True, random_state=seed).split(train):
        oof[b] = _heads_scores(data, embedder, X, train[a], train[b], cache)
    t = _best_threshold(oof, [data.documents[i].coarse for i in train], labels)
    scores = _heads_scores(data, embedder, X, train, test, cache)
    out = []
    for row in scores:
        coarse = frozenset(labels[j] for j in np.flatnonzero(row >= t))
        out.append((coarse or frozenset({OTHER}), frozenset(f"{c}: Other" for c in coarse) or frozenset({OTHER})))
    return out


def cross_validate(data: SemEvalData, embedder: Embedder, folds: int = 5, seed: int = 42,
                   methods: Sequence[str] = ("zero_shot", "prototype", "logistic", "logistic_tuned", "heads")) -> dict:
    """k-fold cross-validated coarse / fine samples-F1 of each method (see module docs). For
    ``logistic_tuned`` the choices made inside each training part are listed under ``choices``."""
    from sklearn.model_selection import KFold

    X, per_doc = embed_documents(data, embedder)
    coarse = [d.coarse for d in data.documents]
    fine = [d.fine for d in data.documents]
    results: dict[str, dict] = {}
    splits = list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(X))
    X_titled = title_weighted(per_doc)
    cache: dict[str, np.ndarray] = {}  # example texts embedded once across folds
    for method in methods:
        pred: list[tuple[frozenset[str], frozenset[str]] | None] = [None] * len(data.documents)
        choices = []
        for train, test in splits:
            if method == "logistic_tuned":
                model = _fit_tuned(X_titled[train], [coarse[i] for i in train], [fine[i] for i in train], data, seed)
                fold = _predict_tuned(model, X_titled[test])
                choices.append(_choices(model))
            elif method == "zero_shot":
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
            elif method == "heads":
                fold = _heads_predict(data, embedder, X_titled, train, test, seed, cache)  # as semeval_material
            else:
                fold = _fit_predict(method, X[train], [coarse[i] for i in train], [fine[i] for i in train], X[test], data, seed)
            for i, p in zip(test, fold):
                pred[i] = p
        results[method] = {
            "coarse_samples_f1": round(samples_f1(coarse, [p[0] for p in pred]), 3),
            "fine_samples_f1": round(samples_f1(fine, [p[1] for p in pred]), 3),
        }
        if choices:
            results[method]["choices"] = choices
    results["always_other"] = {  # the floor: nearly half the documents carry no narrative
        "coarse_samples_f1": round(samples_f1(coarse, [frozenset({OTHER})] * len(coarse)), 3),
        "fine_samples_f1": round(samples_f1(fine, [frozenset({OTHER})] * len(fine)), 3),
    }
    results["documents"] = len(data.documents)
    results["folds"] = folds
    results["seed"] = seed
    return results


# transfer variants of logistic_tuned: (top-1 fallback forced, per-set mean-centring, domain gate, prior EM)
TRANSFER_VARIANTS = {
    "logistic_tuned": (False, False, False, False),
    "tuned+top1": (True, False, False, False),
    "tuned+top1+centred": (True, True, False, False),
    "tuned+top1+domain_gate": (True, False, True, False),
    "tuned+top1+prior_em": (True, False, False, True),
    "tuned+top1+centred+domain_gate+prior_em": (True, True, True, True),
}


def _centred(X: np.ndarray) -> np.ndarray:
    """Per-set mean-centring (the set's own mean subtracted, rows renormalised): uses no labels."""
    Z = X - X.mean(axis=0, keepdims=True)
    return (Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _domain(label: str) -> str:
    return label.split(":", 1)[0].strip() if ":" in label else ""


def domain_gate(X_train, coarse_train, X_test, labels: list[str]) -> np.ndarray:
    """(n_test, labels) 0/1 mask: a logistic domain classifier (the taxonomy's domains, e.g. ``URW`` / ``CC``,
    read from the *training* labels' prefixes; training documents with one domain only) predicts each test
    document's domain, and only labels of that domain stay allowed. Uses no test label."""
    from sklearn.linear_model import LogisticRegression

    domains = sorted({_domain(label) for label in labels} - {""})
    rows, target = [], []
    for i, gold in enumerate(coarse_train):
        ds = {_domain(label) for label in gold} - {""}
        if len(ds) == 1:
            rows.append(i)
            target.append(domains.index(ds.pop()))
    if len(set(target)) < 2:
        return np.ones((len(X_test), len(labels)))
    model = LogisticRegression(C=4.0, max_iter=2000).fit(X_train[rows], target)
    predicted = model.classes_[np.argmax(model.predict_proba(X_test), axis=1)]
    return np.array([[_domain(label) == domains[k] for label in labels] for k in predicted], dtype=float)


def transfer(train: SemEvalData, test: SemEvalData, embedder: Embedder, seed: int = 42,
             methods: Sequence[str] = ("prototype", "logistic", *TRANSFER_VARIANTS)) -> dict:
    """Heads trained on every document of ``train`` (e.g. the English split), scored on ``test`` (e.g. Russian).

    Thresholds are chosen on out-of-fold predictions inside ``train`` only; ``test``'s labels are never looked
    at until scoring. With a multilingual embedder this measures whether a desk can label in one language and
    track another. The taxonomy is ``train``'s (both splits share the task's English labels).

    The ``logistic_tuned`` variants (``TRANSFER_VARIANTS``) adapt to the unlabelled ``test`` documents only:
    ``top1`` forces the top-1 fallback (every document gets its best label, the rule for a feed known to be
    on-topic); ``centred`` subtracts each set's own mean vector; ``domain_gate`` keeps, per test document,
    the labels of the taxonomy domain a classifier trained on ``train`` predicts; ``prior_em`` re-estimates
    each label's prior on the test documents (``prior_shift_em``) before thresholding.
    """
    X_train, per_train = embed_documents(train, embedder)
    X_test, per_test = embed_documents(test, embedder)
    coarse_train = [d.coarse for d in train.documents]
    fine_train = [d.fine for d in train.documents]
    coarse = [d.coarse for d in test.documents]
    fine = [d.fine for d in test.documents]
    results: dict[str, dict] = {}
    titled = {False: (title_weighted(per_train), title_weighted(per_test))}
    titled[True] = (_centred(titled[False][0]), _centred(titled[False][1]))
    models: dict[bool, dict] = {}
    for method in methods:
        if method in TRANSFER_VARIANTS:
            top1, centre, gate, em = TRANSFER_VARIANTS[method]
            A, B = titled[centre]
            if centre not in models:
                models[centre] = _fit_tuned(A, coarse_train, fine_train, train, seed)
            model = models[centre]
            scores = model["coarse_head"].scores(B)
            extra: dict = {"choices": _choices(model)}
            if gate:
                mask = domain_gate(A, coarse_train, B, model["labels"][0])
                scores = scores * mask
                extra["gated_domain_share"] = {d: round(float(np.mean([any(_domain(model["labels"][0][j]) == d for j in np.flatnonzero(row))
                                                                      for row in mask])), 3)
                                               for d in sorted({_domain(x) for x in model["labels"][0]})}
            if em:
                positives = np.array([[label in g for label in model["labels"][0]] for g in coarse_train]).mean(axis=0)
                prior = np.full(len(positives), 0.5) if model["class_weight"] == "balanced" else positives
                active = scores.max(axis=0) > 0
                q, adjusted = prior_shift_em(scores[:, active], prior[active])
                scores = scores.copy()
                scores[:, active] = adjusted
                extra["estimated_priors"] = {model["labels"][0][j]: round(float(x), 3)
                                             for j, x in zip(np.flatnonzero(active), q) if x >= 0.01}
            pred = _predict_tuned(model, B, top1=top1 or model["top1"], coarse_scores=scores)
        else:
            pred = _fit_predict(method, X_train, coarse_train, fine_train, X_test, train, seed)
            extra = {}
        results[method] = {
            "coarse_samples_f1": round(samples_f1(coarse, [p[0] for p in pred]), 3),
            "fine_samples_f1": round(samples_f1(fine, [p[1] for p in pred]), 3),
            **extra,
        }
    results["train_documents"], results["test_documents"] = len(train.documents), len(test.documents)
    return results
