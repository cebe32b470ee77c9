"""SemEval-2025 Task 10 in several languages at once: heads trained on every labelled split together, measured per split.

``joint_cross_validate`` takes several SemEval folders that share the task's English taxonomy (the shared English
and Russian training splits) and one multilingual embedder (``use-multilingual-v3``: one vector space across
languages). Each split is cut into ``folds`` folds (``KFold`` over its distinct documents, shuffled, seeded: a document —
and any copy of it filed under another id — is never in a training and a test part of the same round). In round *k* the training part
is every split's documents outside its fold *k*; each split's fold *k* is scored by the ``joint`` recipe:

* document vectors title-weighted (``semeval.title_weighted``), one-vs-rest logistic heads (``C`` 4), as
  ``logistic_tuned``;
* for the split being scored (the *target*), the weight of the **other splits' documents** (``OTHER_WEIGHTS``: 0 =
  the target's own documents only, up to 1 = all documents alike) and the **class weighting** (balanced or none)
  are chosen together with the target's decision rule — probability threshold and top-1 fallback — by a 3-fold
  cross-validation inside the training part (inner folds of every split; out-of-fold samples-F1 on the target's
  training documents). So the English documents can lend the Russian heads what they know, or not, as the inner
  folds say; the test fold is never seen. The fine threshold is chosen on the same inner folds.

Returned per split: coarse and fine samples-F1 of ``joint``, of ``always_other`` and of ``best_constant`` (the same
labels for every document), and the choices of every round.
``narratives evaluate --semeval EN --semeval RU`` prints it (docs/models.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from narrative_tracker.embeddings.embed import Embedder
from narrative_tracker.evaluation.semeval import (
    _best_rule,
    _best_threshold,
    _decode,
    _fine_gold,
    _Head,
    embed_documents,
    samples_f1,
    title_weighted,
)
from narrative_tracker.material import OTHER, SemEvalData

OTHER_WEIGHTS = (0.0, 0.3, 1.0)  # weight of the other splits' documents, chosen per target split by inner CV
CLASS_WEIGHTS = ("balanced", None)
INNER_FOLDS = 3


def _fold_ids(keys: Sequence, folds: int, seed: int) -> np.ndarray:
    """Fold of each item: ``KFold`` (shuffled, seeded) over the distinct ``keys``, so items with one key (the same
    document filed twice under two ids: 2 in the English train split, 1 in the Russian) share a fold."""
    from sklearn.model_selection import KFold

    distinct = list(dict.fromkeys(keys))
    fold_of: dict = {}
    for k, (_, test) in enumerate(KFold(n_splits=folds, shuffle=True, random_state=seed).split(np.arange(len(distinct)))):
        fold_of.update((distinct[i], k) for i in test)
    return np.array([fold_of[key] for key in keys], np.int64)


def _stack(parts: list[tuple[int, np.ndarray]], X: list[np.ndarray], gold: list[list[frozenset[str]]], target: int,
           weight: float) -> tuple[np.ndarray, list[frozenset[str]], np.ndarray]:
    """Training rows of several splits: ``(split, row indices)`` -> vectors, labels, sample weights (1 for the
    target split, ``weight`` for the others)."""
    rows = [(s, ix) for s, ix in parts if s == target or weight > 0]
    vectors = np.vstack([X[s][ix] for s, ix in rows])
    labels = [gold[s][i] for s, ix in rows for i in ix]
    weights = np.concatenate([np.full(len(ix), 1.0 if s == target else weight) for s, ix in rows])
    return vectors, labels, weights


def _constant(coarse: list[frozenset[str]], fine: list[frozenset[str]]) -> dict:
    """The best constant answer: the same set of at most three of the split's six most common coarse labels for every
    document (``Other`` included; each with its most common fine label) — the floor a split where every document
    carries a narrative must beat (Russian: "Discrediting Ukraine" + "Praise of Russia")."""
    from collections import Counter
    from itertools import combinations

    common = [label for label, _ in Counter(x for g in coarse for x in g).most_common(6)]
    score, labels = max((samples_f1(coarse, [frozenset(c)] * len(coarse)), c) for k in (1, 2, 3) for c in combinations(common, k))
    children = set()
    for label in labels:
        kids = Counter(x for g in fine for x in g if x == label or x.startswith(label + ": "))
        children.add(kids.most_common(1)[0][0] if kids else label)
    return {"labels": list(labels), "coarse_samples_f1": round(score, 3),
            "fine_samples_f1": round(samples_f1(fine, [frozenset(children)] * len(fine)), 3)}


def joint_cross_validate(datasets: Sequence[SemEvalData], names: Sequence[str], embedder: Embedder, folds: int = 5,
                         seed: int = 42) -> dict:
    """Per split (``names[i]``): k-fold coarse / fine samples-F1 of the ``joint`` recipe (module docs)."""
    coarse_labels = list(datasets[0].narratives)
    fine_labels = [s for s in datasets[0].subnarratives if not s.endswith(": Other")]
    for name, data in zip(names, datasets):
        if set(data.narratives) - set(coarse_labels):
            raise ValueError(f"{name}: its taxonomy is not the first split's; joint training needs one taxonomy")
    X, coarse, fine, outer, keys = [], [], [], [], []
    for data in datasets:
        _, per_doc = embed_documents(data, embedder)
        X.append(title_weighted(per_doc))
        coarse.append([d.coarse for d in data.documents])
        fine.append([d.fine for d in data.documents])
        keys.append([(d.title, d.paragraphs) for d in data.documents])
        outer.append(_fold_ids(keys[-1], folds, seed))
    splits = range(len(datasets))
    predicted: list[list] = [[None] * len(data.documents) for data in datasets]
    choices: list[list[dict]] = [[] for _ in splits]
    for k in range(folds):
        train = {s: np.flatnonzero(outer[s] != k) for s in splits}
        inner = {s: _fold_ids([keys[s][i] for i in train[s]], INNER_FOLDS, seed) for s in splits}
        for target in splits:
            gold_t = [coarse[target][i] for i in train[target]]
            best = None
            for weight in OTHER_WEIGHTS if len(datasets) > 1 else (0.0,):
                for class_weight in CLASS_WEIGHTS:
                    oof = np.zeros((len(train[target]), len(coarse_labels)))
                    for m in range(INNER_FOLDS):
                        parts = [(s, train[s][inner[s] != m]) for s in splits]
                        Xa, ya, wa = _stack(parts, X, coarse, target, weight)
                        held = train[target][inner[target] == m]
                        oof[inner[target] == m] = _Head("logistic", coarse_labels, class_weight).fit(Xa, ya, wa).scores(X[target][held])
                    threshold, top1, score = _best_rule(oof, gold_t, coarse_labels)
                    if best is None or score > best["inner_f1"] + 1e-9:
                        best = {"other_weight": weight, "class_weight": class_weight, "threshold": threshold, "top1": top1,
                                "inner_f1": round(score, 3)}
            oof_f = np.zeros((len(train[target]), len(fine_labels)))
            for m in range(INNER_FOLDS):
                parts = [(s, train[s][inner[s] != m]) for s in splits]
                Xa, ya, wa = _stack(parts, X, fine, target, best["other_weight"])
                held = train[target][inner[target] == m]
                oof_f[inner[target] == m] = _Head("logistic", fine_labels, best["class_weight"]).fit(Xa, ya, wa).scores(X[target][held])
            best["fine_threshold"] = _best_threshold(oof_f, _fine_gold([fine[target][i] for i in train[target]]), fine_labels)
            parts = [(s, train[s]) for s in splits]
            test = np.flatnonzero(outer[target] == k)
            Xa, ya, wa = _stack(parts, X, coarse, target, best["other_weight"])
            s_c = _Head("logistic", coarse_labels, best["class_weight"]).fit(Xa, ya, wa).scores(X[target][test])
            Xa, ya, wa = _stack(parts, X, fine, target, best["other_weight"])
            s_f = _Head("logistic", fine_labels, best["class_weight"]).fit(Xa, ya, wa).scores(X[target][test])
            for i, rc, rf in zip(test, s_c, s_f):
                predicted[target][i] = _decode(rc, rf, coarse_labels, fine_labels, best["threshold"], best["fine_threshold"], best["top1"])
            choices[target].append(best)
    out: dict = {"folds": folds, "seed": seed, "splits": list(names)}
    for s, name in enumerate(names):
        out[name] = {
            "documents": len(coarse[s]),
            "joint": {"coarse_samples_f1": round(samples_f1(coarse[s], [p[0] for p in predicted[s]]), 3),
                      "fine_samples_f1": round(samples_f1(fine[s], [p[1] for p in predicted[s]]), 3),
                      "choices": choices[s]},
            "always_other": {"coarse_samples_f1": round(samples_f1(coarse[s], [frozenset({OTHER})] * len(coarse[s])), 3),
                             "fine_samples_f1": round(samples_f1(fine[s], [frozenset({OTHER})] * len(fine[s])), 3)},
            "best_constant": _constant(coarse[s], fine[s]),
        }
    return out
