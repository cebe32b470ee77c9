"""Measuring detection and discovery quality.

* ``evaluate_paragraphs``: codebook detection against hand-labelled paragraphs (``tests/labelled/paragraphs.csv``,
  read by ``narrative_tracker.material.load_labelled``): precision / recall / F1 per narrative, micro and macro.
* ``tune_detection``: the documented procedure that chose the codebook's detection settings and
  thresholds — a grid search on the *tune* part of the labelled set only (``TUNE_IDS``).
* ``discovery_agreement``: purity and NMI of discovered narratives against reference tags
  (e.g. EUvsDisinfo's fact-checker keywords).

Length (~330 lines): every measurement on the project's own labelled set, sharing one loader and scorer.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from narrative_tracker.embeddings.embed import Embedder
from narrative_tracker.material import DEFAULT_LABELLED, LabelledParagraph, load_labelled
from narrative_tracker.narratives.codebook import Codebook
from narrative_tracker.narratives.detect import apply_heads, score_paragraphs


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 3), "recall": round(self.recall, 3), "f1": round(self.f1, 3),
                "support": self.tp + self.fn, "predicted": self.tp + self.fp}


def prf_table(gold: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]], ids: Sequence[str]) -> dict:
    """``{narrative: PRF.as_dict(), 'micro': ..., 'macro_f1': x}``."""
    per = {i: PRF() for i in ids}
    for g, p in zip(gold, predicted):
        for i in ids:
            per[i].tp += i in g and i in p
            per[i].fp += i not in g and i in p
            per[i].fn += i in g and i not in p
    micro = PRF(sum(x.tp for x in per.values()), sum(x.fp for x in per.values()), sum(x.fn for x in per.values()))
    out = {i: per[i].as_dict() for i in ids}
    out["micro"] = micro.as_dict()
    out["macro_f1"] = round(float(np.mean([per[i].f1 for i in ids])), 3)
    return out


class LabelledScorer:
    """Embeds a labelled set once; scores it under any codebook settings."""

    def __init__(self, rows: list[LabelledParagraph], codebook: Codebook, embedder: Embedder):
        self.rows = rows
        self.vectors = embedder.encode([r.text for r in rows])
        self.examples = {n.id: embedder.encode(list(n.examples)) for n in codebook.narratives}

    def predict(self, codebook: Codebook, thresholds: dict[str, float] | None = None, heads=None) -> list[frozenset[str]]:
        """Assigned narratives per row by stage 1 alone; ``heads``: trained heads decide the narratives they have."""
        scores = self.scores(codebook)
        th = np.array([(thresholds or {}).get(i, codebook.threshold(i)) for i in codebook.ids], np.float32)
        hits = apply_heads(scores, scores.assigned(th), heads, self.vectors)
        return [frozenset(codebook.ids[j] for j in np.flatnonzero(row)) for row in hits]

    def scores(self, codebook: Codebook):
        return score_paragraphs(codebook, self.examples, self.vectors, [r.text for r in self.rows],
                                [r.group for r in self.rows], [r.position for r in self.rows])

    def decide(self, codebook: Codebook, heads=None, pair_model=None, stance_model=None, vector_model: str | None = None) -> list[dict[str, str]]:
        """``{narrative: stance}`` per row, through the decision path of a run (``judge.decide``): stage 1 (heads /
        similarity; corpus-relative operating points against these rows) proposes, the pair model decides."""
        from narrative_tracker.narratives.detect import relative_assigned
        from narrative_tracker.narratives.judge import decide

        scores = self.scores(codebook)
        stage1 = apply_heads(scores, relative_assigned(scores, codebook), heads, self.vectors)
        out = decide(codebook, scores, stage1, [r.text for r in self.rows], self.vectors, self.examples,
                     pair_model=pair_model, stance_model=stance_model, vector_model=vector_model)
        rows: list[dict[str, str]] = [{} for _ in self.rows]
        for i, j in np.argwhere(out.assigned):
            rows[int(i)][codebook.ids[int(j)]] = out.stance[(int(i), int(j))][0]
        return rows


def evaluate_paragraphs(codebook: Codebook, embedder: Embedder, path: str | os.PathLike = DEFAULT_LABELLED, heads=None,
                        pair_model=None, stance_model=None) -> dict:
    """P/R/F1 per narrative for each part of the labelled set: ``{'tune': ..., 'test': ..., 'test_sample': ...,
    'test_heldout': ..., 'all': ...}``, through a run's decision path (``LabelledScorer.decide``).

    Each part holds the *mentions* table (the paragraph carries the narrative, whatever its stance) at the top level and
    the *asserts* table under ``'asserts'`` (gold: the pairs labelled asserts; predicted: pairs assigned with stance
    asserts), plus ``stance_accuracy`` on the pairs both gold and predicted carry. ``heads`` and the pair model train
    on the tune part: their tune figures are in-sample, the test parts are not."""
    rows = load_labelled(path)
    decided = LabelledScorer(rows, codebook, embedder).decide(codebook, heads=heads, pair_model=pair_model,
                                                              stance_model=stance_model, vector_model=getattr(embedder, "name", None))
    parts = {
        "tune": lambda r: r.part == "tune",
        "test": lambda r: r.part == "test",
        "test_sample": lambda r: r.part == "test" and r.split == "sample",
        "test_heldout": lambda r: r.part == "test" and r.split == "heldout",
        "all": lambda r: True,
    }
    out = {}
    for name, keep in parts.items():
        idx = [i for i, r in enumerate(rows) if keep(r)]
        out[name] = prf_table([rows[i].narratives for i in idx], [frozenset(decided[i]) for i in idx], codebook.ids)
        out[name]["paragraphs"] = len(idx)
        gold_asserts = [frozenset(n for n, s in rows[i].stances if s == "asserts") for i in idx]
        pred_asserts = [frozenset(n for n, s in decided[i].items() if s == "asserts") for i in idx]
        out[name]["asserts"] = prf_table(gold_asserts, pred_asserts, codebook.ids)
        both = [(s, decided[i][n]) for i in idx for n, s in rows[i].stances if n in decided[i]]
        out[name]["stance_accuracy"] = round(sum(g == p for g, p in both) / len(both), 3) if both else None
        out[name]["stance_pairs"] = len(both)
    return out


def tune_detection(codebook: Codebook, embedder: Embedder, path: str | os.PathLike = DEFAULT_LABELLED) -> dict:
    """Grid search of ``top_k``, ``keyword_bonus`` and ``context_weight`` on the tune part; for each setting
    every narrative's threshold is the one maximising its F1 on the tune part (ties: the higher threshold).
    Returns the best setting (by tune macro-F1) with its thresholds."""
    rows = load_labelled(path)
    tune = [r for r in rows if r.part == "tune"]
    scorer = LabelledScorer(tune, codebook, embedder)
    best: dict | None = None
    candidates = np.round(np.arange(0.10, 0.96, 0.01), 2)  # 0.10-0.95: the scale differs per model
    for top_k, bonus, context in itertools.product((1, 2, 3), (0.0, 0.03, 0.05, 0.08), (0.0, 0.1, 0.2)):
        params = dataclasses.replace(codebook.params, top_k=top_k, keyword_bonus=bonus, context_weight=context)
        book = dataclasses.replace(codebook, params=params)
        scores = score_paragraphs(book, scorer.examples, scorer.vectors, [r.text for r in tune],
                                  [r.group for r in tune], [r.position for r in tune])
        thresholds, f1s = {}, []
        for j, nid in enumerate(book.ids):
            gold = np.array([nid in r.narratives for r in tune])
            best_t, best_f1 = float(candidates[-1]), -1.0
            for t in candidates:
                pred = scores.score[:, j] >= t
                tp = int((pred & gold).sum())
                f1 = 2 * tp / (pred.sum() + gold.sum()) if pred.sum() + gold.sum() else 0.0
                if f1 >= best_f1:
                    best_t, best_f1 = float(t), f1
            thresholds[nid] = best_t
            f1s.append(best_f1)
        macro = float(np.mean(f1s))
        if best is None or macro > best["tune_macro_f1"] + 1e-9:
            best = {"top_k": top_k, "keyword_bonus": bonus, "context_weight": context,
                    "thresholds": thresholds, "tune_macro_f1": round(macro, 3), "_scores": scores.score}
    assert best is not None
    # Platt scaling per narrative on the chosen setting's tune scores: confidence = sigmoid(a * score + b)
    from sklearn.linear_model import LogisticRegression

    scores = best.pop("_scores")
    best["calibration"] = {}
    for j, nid in enumerate(codebook.ids):
        gold = np.array([nid in r.narratives for r in tune])
        model = LogisticRegression(C=100.0).fit(scores[:, [j]].astype(np.float64), gold)
        best["calibration"][nid] = [round(float(model.coef_[0, 0]), 2), round(float(model.intercept_[0]), 2)]
    return best


def calibration_table(codebook: Codebook, embedder: Embedder, path: str | os.PathLike = DEFAULT_LABELLED, bins: int = 5) -> dict:
    """Reliability of the calibrated confidence on the *test* part: mean confidence vs observed rate per bin
    (all narratives pooled), and the Brier score."""
    rows = [r for r in load_labelled(path) if r.part == "test"]
    scorer = LabelledScorer(rows, codebook, embedder)
    scores = score_paragraphs(codebook, scorer.examples, scorer.vectors, [r.text for r in rows],
                              [r.group for r in rows], [r.position for r in rows])
    conf, gold = [], []
    for j, nid in enumerate(codebook.ids):
        if codebook.narrative(nid).calibration is None:
            continue
        conf += scores.confidence[:, j].tolist()
        gold += [nid in r.narratives for r in rows]
    if not conf:
        return {}
    conf_a, gold_a = np.array(conf), np.array(gold, float)
    edges = np.linspace(0, 1, bins + 1)
    table = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (conf_a >= lo) & ((conf_a < hi) if hi < 1 else (conf_a <= hi))
        if mask.any():
            table.append({"bin": f"{lo:.1f}-{hi:.1f}", "pairs": int(mask.sum()), "mean_confidence": round(float(conf_a[mask].mean()), 3),
                          "observed_rate": round(float(gold_a[mask].mean()), 3)})
    return {"brier": round(float(((conf_a - gold_a) ** 2).mean()), 4), "bins": table}


def purity(labels: Sequence[int], reference: Sequence[str]) -> float:
    """Share of clustered items whose cluster's most common reference tag is theirs (noise excluded)."""
    clusters: dict[int, Counter] = {}
    for label, ref in zip(labels, reference):
        if label >= 0:
            clusters.setdefault(label, Counter())[ref] += 1
    total = sum(sum(c.values()) for c in clusters.values())
    return sum(c.most_common(1)[0][1] for c in clusters.values()) / total if total else 0.0


def discovery_agreement(labels: Sequence[int], reference: Sequence[str]) -> dict:
    """Purity and NMI of clusters against reference tags, on clustered items and with noise as one cluster."""
    from sklearn.metrics import normalized_mutual_info_score

    labels = np.asarray(labels)
    reference = np.asarray(reference)
    clustered = labels >= 0
    return {
        "items": int(labels.size),
        "clusters": int(len(set(labels[clustered].tolist()))),
        "noise_share": round(float(1 - clustered.mean()), 3) if labels.size else 0.0,
        "purity": round(purity(labels.tolist(), reference.tolist()), 3),
        "nmi_clustered": round(float(normalized_mutual_info_score(reference[clustered], labels[clustered])), 3) if clustered.any() else 0.0,
        "nmi_all": round(float(normalized_mutual_info_score(reference, labels)), 3),
    }


def purity_any_tag(labels: Sequence[int], tag_sets: Sequence[Sequence[str]]) -> float:
    """Lenient purity for multi-tag items: a cluster's tag is the one most of its members carry; a member
    counts as pure when that tag is among its tags (noise excluded)."""
    clusters: dict[int, list[set[str]]] = {}
    for label, tags in zip(labels, tag_sets):
        if label >= 0:
            clusters.setdefault(label, []).append(set(tags))
    hits = total = 0
    for members in clusters.values():
        counts = Counter(t for tags in members for t in tags)
        top = counts.most_common(1)[0][0] if counts else None
        hits += sum(top in tags for tags in members)
        total += len(members)
    return hits / total if total else 0.0


def tag_agreement(labels: Sequence[int], tag_sets: Sequence[Sequence[str]]) -> dict:
    """The desk's measure of narratives against reference tags (e.g. EUvsDisinfo's fact-checker keywords): ``nmi``
    against each item's first tag with the unassigned (``-1``) as one class; ``purity`` = share of a narrative's items
    that carry its most common tag (any of their tags; unassigned excluded); ``purity_first_tag`` = the same counting
    only the first tag; ``outlier_share`` = share of items without a narrative; ``clusters``."""
    labels = np.asarray(labels)
    agreement = discovery_agreement(labels, [t[0] for t in tag_sets])
    return {
        "items": agreement["items"],
        "nmi": agreement["nmi_all"],
        "purity": round(purity_any_tag(labels.tolist(), tag_sets), 3),
        "purity_first_tag": agreement["purity"],
        "outlier_share": agreement["noise_share"],
        "clusters": agreement["clusters"],
    }


def discovery_agreement_db(con, since=None, until=None) -> dict:
    """Narratives of a database against its articles' tags (``tag_agreement``), one item per tagged article published
    on ``since`` or later and before ``until`` (None: no bound), three ways: ``most_specific`` — each article's discovered narrative where it has
    one, else its codebook narrative, else none (what an analyst sees first); ``discovered`` — discovered narratives
    only; ``codebook`` — codebook narratives only."""
    from narrative_tracker import db

    rows = con.execute(db.query("discovery_vs_tags"), {"since": since, "until": until}).fetchall()
    tags = [r[3] for r in rows]
    out = {}
    for name, pick in (("most_specific", lambda r: r[1] or r[2]), ("discovered", lambda r: r[1]), ("codebook", lambda r: r[2])):
        chosen = [pick(r) for r in rows]
        index = {nid: i for i, nid in enumerate(sorted({c for c in chosen if c is not None}))}
        out[name] = tag_agreement([index[c] if c is not None else -1 for c in chosen], tags) if rows else {"items": 0}
    out["since"], out["until"] = (None if d is None else str(d) for d in (since, until))
    return out


def evaluate_stance(path: str | os.PathLike = DEFAULT_LABELLED) -> dict:
    """Per-stance precision / recall of ``classify_stance`` on every (paragraph, gold narrative) pair,
    for the tune and test parts: ``{'tune': {...}, 'test': {...}, 'all': {...}}``."""
    from narrative_tracker.narratives.stance import STANCES, classify_stance

    rows = load_labelled(path)
    out = {}
    for part in ("tune", "test", "all"):
        gold, pred = [], []
        for r in rows:
            if part != "all" and r.part != part:
                continue
            predicted = classify_stance(r.text).stance
            for _, stance in r.stances:
                gold.append(frozenset({stance}))
                pred.append(frozenset({predicted}))
        table = prf_table(gold, pred, list(STANCES))
        table["pairs"] = len(gold)
        table["accuracy"] = round(sum(g == p for g, p in zip(gold, pred)) / len(gold), 3) if gold else 0.0
        out[part] = table
    return out


def evaluate_documents(con, labels_tsv: str | os.PathLike) -> dict:
    """Document-level evaluation of a database's codebook assignments against SemEval-format labels
    (``file \\t narratives ;-separated``): a document carries a narrative when one of its paragraphs does;
    none -> ``Other``. Narratives match by codebook label or id. Files missing from the database count
    as predicted ``Other``."""
    from narrative_tracker import db
    from narrative_tracker.evaluation.semeval import samples_f1
    from narrative_tracker.material import OTHER

    gold: dict[str, frozenset[str]] = {}
    with open(labels_tsv, encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if row:
                gold[row[0]] = frozenset(x.strip() for x in (row[1] if len(row) > 1 else "").split(";") if x.strip()) or frozenset({OTHER})
    found = {r[0]: r[1] or [] for r in con.execute(db.query("document_assignments")).fetchall()}
    files = sorted(gold)
    predicted = []
    for f in files:
        names = {n["id"] if n["id"] in gold[f] else n["label"] for n in found.get(f, [])}
        predicted.append(frozenset(names) or frozenset({OTHER}))
    names = sorted(set().union(*gold.values()) - {OTHER})
    table = prf_table([gold[f] for f in files], predicted, names)
    table["samples_f1"] = round(samples_f1([gold[f] for f in files], predicted), 3)
    table["documents"] = len(files)
    table["documents_in_database"] = sum(f in found for f in files)
    return table
