"""Stance measurement on FNC-1-format pairs and training data for the stance model.

* :func:`load_fnc_pairs` reads ``bodies.csv`` + ``stances.csv`` (FNC-1 format) into claim/text/label
  triples (agree = asserts, discuss = reports, disagree = refutes, unrelated);
* :func:`claim_groups` groups pairs by *claim*: headlines and bodies joined by a related pair form one
  claim (a connected component), an unrelated pair belongs to its headline's claim. Cross-validation by
  these groups never has a claim (or a paraphrased headline of it) in both train and test;
* :func:`stance_scores`: per-class precision/recall/F1, macro-F1 over the four FNC classes (``macro_f1``,
  "F1m" in FNC-1 papers) and the FNC-1 weighted score (0.25 for related/unrelated right, +0.75 for the
  exact related class; reported relative to the best possible score);
* :func:`labelled_pairs`: (claim, paragraph, stance) pairs from ``tests/labelled/paragraphs.csv``
  (claim = the codebook narrative's label), one part (tune/test) at a time.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from narrative_tracker.narratives.stance_model import CLASSES

from narrative_tracker.material import (  # noqa: F401  (re-exported: the FNC loaders and scores live there)
    FNC_MAP, _fnc_files, claim_groups, fnc_weighted_score, load_fnc_pairs, stance_scores)


def labelled_pairs(path: str | os.PathLike | None = None, part: str | None = "tune", codebook=None,
                   with_unrelated: bool = True) -> tuple[list[str], list[str], list[str]]:
    """(claims, texts, labels) from the labelled paragraph set: every (paragraph, gold narrative) pair with
    its stance; with ``with_unrelated`` also (paragraph without narratives, each narrative) as ``unrelated``.
    ``part``: ``tune``, ``test`` or None for all."""
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.material import DEFAULT_LABELLED, load_labelled

    book = codebook or load_codebook()
    claim_of = {n.id: n.label for n in book.narratives}
    claims, texts, labels = [], [], []
    for row in load_labelled(path or DEFAULT_LABELLED):
        if part and row.part != part:
            continue
        for nid, stance in row.stances:
            if nid in claim_of:
                claims.append(claim_of[nid])
                texts.append(row.text)
                labels.append(stance)
        if with_unrelated and not row.narratives:
            for nid, claim in claim_of.items():
                claims.append(claim)
                texts.append(row.text)
                labels.append("unrelated")
    return claims, texts, labels


def _file_digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _progress(message: str, quiet: bool) -> None:
    if not quiet:
        import sys

        print(f"[stance] {message}", file=sys.stderr, flush=True)


# Weight of a labelled in-domain pair relative to an FNC pair: chosen among 0/3/10/30/100 by two-fold
# cross-validation inside the tune part (macro-F1 0.33/0.44/0.48/0.55/0.51); the test part was not used.
LABELLED_WEIGHT = 30.0


def build_training_set(encoder, fnc_dir: str | os.PathLike | None, labelled: str | os.PathLike | None = None,
                       labelled_part: str | None = "tune", labelled_weight: float = LABELLED_WEIGHT, extra=None, quiet: bool = True):
    """Feature matrix, labels, sample weights, groups and a description of the sources.
    ``extra``: further ``(claims, texts, labels)`` (e.g. from review CSVs), weighted like labelled pairs."""
    xs, ys, ws, gs, sources = [], [], [], [], []
    if fnc_dir:
        claims, texts, labels, bodies = load_fnc_pairs(fnc_dir)
        _progress(f"FNC-format pairs: {len(claims)} from {fnc_dir}; embedding claims and article chunks", quiet)
        x, _ = encoder.features(claims, texts)
        xs.append(x)
        ys += [CLASSES.index(label) for label in labels]
        ws.append(np.ones(len(labels)))
        gs.append(claim_groups(claims, bodies, labels))
        sources.append({"kind": "fnc", "folder": Path(fnc_dir).name, "pairs": len(labels),
                        "stances_sha256": _file_digest(Path(fnc_dir) / "stances.csv")})
    for name, triple in (("labelled", labelled_pairs(labelled, labelled_part) if labelled is not False else None), ("extra", extra)):
        if not triple or not triple[0]:
            continue
        claims, texts, labels = triple
        _progress(f"{name} pairs: {len(claims)}", quiet)
        x, _ = encoder.features(claims, texts)
        xs.append(x)
        ys += [CLASSES.index(label) for label in labels]
        ws.append(np.full(len(labels), labelled_weight))
        offset = (max(int(g.max()) for g in gs) + 1) if gs else 0
        gs.append(offset + np.arange(len(labels)))  # own groups (never in an FNC claim group)
        sources.append({"kind": name, "pairs": len(labels), **({"part": labelled_part} if name == "labelled" else {})})
    if not xs:
        raise ValueError("no training pairs: give an FNC-format folder and/or labelled pairs")
    return np.concatenate(xs), np.array(ys), np.concatenate(ws), np.concatenate(gs), sources


DEFAULT_HEAD = {"hidden": 0, "c": 1.0}  # logistic regression: best F1m/refutes trade-off in the CV (docs/methods.md)


def train_stance_model(fnc_dir=None, labelled=None, embedder=None, out_dir=None, extra=None, head=None,
                       version: str | None = None, quiet: bool = False, encoder=None):
    """Train the stance head on FNC-format pairs + the tune part of the labelled set (+ ``extra``) and save it."""
    import datetime as dt

    from narrative_tracker.narratives.stance_model import ARTIFACT_DIR, PairEncoder, StanceModel, fit_head

    if embedder is None:
        from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder()
    encoder = encoder or PairEncoder(embedder)
    x, y, w, _, sources = build_training_set(encoder, fnc_dir, labelled, extra=extra, quiet=quiet)
    head = dict(DEFAULT_HEAD, **(head or {}))
    _progress(f"fitting the head {head} on {len(y)} pairs", quiet)
    fitted = fit_head(x, y, CLASSES, sample_weight=w, **head)
    meta = {
        "version": version or dt.datetime.now(dt.timezone.utc).strftime("stance-%Y%m%d%H%M%S"),
        "classes": list(CLASSES),
        "embedding_model": getattr(embedder, "name", "unknown"),
        "head": head,
        "trained_on": sources,
        "class_counts": {c: int((y == i).sum()) for i, c in enumerate(CLASSES)},
        "labelled_weight": LABELLED_WEIGHT,
    }
    model = StanceModel(fitted, meta, embedder)
    model.save(out_dir or ARTIFACT_DIR)
    _progress(f"saved {meta['version']} to {out_dir or ARTIFACT_DIR}", quiet)
    return model


def cross_validate_stance(fnc_dir, embedder=None, folds: int = 5, labelled=None, head=None, quiet: bool = True,
                          encoder=None) -> dict:
    """K-fold CV on FNC-format pairs grouped by claim (no claim in both train and test). The tune part of
    the labelled set (if given) is added to every training fold; it is never scored here."""
    from sklearn.model_selection import GroupKFold

    from narrative_tracker.narratives.stance_model import PairEncoder, fit_head, guarded

    if embedder is None:
        from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder()
    encoder = encoder or PairEncoder(embedder)
    x, y, w, g, sources = build_training_set(encoder, fnc_dir, labelled, quiet=quiet)
    texts = load_fnc_pairs(fnc_dir)[1]
    n_fnc = sources[0]["pairs"]
    head = dict(DEFAULT_HEAD, **(head or {}))
    pred = np.zeros(n_fnc, dtype=int)
    extra_idx = np.arange(n_fnc, len(y))
    for k, (train, test) in enumerate(GroupKFold(folds).split(x[:n_fnc], y[:n_fnc], g[:n_fnc])):
        _progress(f"fold {k + 1}/{folds}", quiet)
        idx = np.concatenate([train, extra_idx])
        fitted = fit_head(x[idx], y[idx], CLASSES, sample_weight=w[idx], **head)
        proba = fitted.proba(x[test])
        pred[test] = [int(np.argmax(guarded(row, texts[i]))) for row, i in zip(proba, test)]
    out = stance_scores([CLASSES[i] for i in y[:n_fnc]], [CLASSES[i] for i in pred])
    out.update({"mode": f"{folds}-fold cross-validation grouped by claim", "claims": int(len(set(g[:n_fnc].tolist()))),
                "head": head, "trained_with": sources})
    return out


def evaluate_stance_pairs(directory, model=None, embedder=None, folds: int = 5, quiet: bool = True) -> dict:
    """Score the shipped stance model on an FNC-format folder; if the model was trained on exactly that
    folder, cross-validate by claim instead (a model is never scored on its own training pairs)."""
    from narrative_tracker.narratives.stance_model import StanceModel

    digest = _file_digest(_fnc_files(directory)[1])
    model = model or StanceModel.load(embedder=embedder)
    if any(s.get("stances_sha256") == digest for s in model.meta.get("trained_on", [])):
        out = cross_validate_stance(directory, folds=folds, labelled=None, head=model.meta.get("head"), quiet=quiet,
                                    encoder=model.encoder)
        out["note"] = "the shipped model was trained on these pairs, so this is cross-validation (same features and head)"
        return out
    claims, texts, labels, _ = load_fnc_pairs(directory)
    pred, _, _ = model.predict(claims, texts)
    out = stance_scores(labels, pred)
    out.update({"mode": "shipped model", "model_version": model.version})
    return out


def evaluate_stance_labelled(path=None, model=None, codebook=None) -> dict:
    """The stance model (``related_only``: the narrative is given) against the cue lexicon on every (paragraph,
    gold narrative) pair of the labelled set, per part: ``{'tune': {'model': ..., 'lexicon': ...}, 'test': ...}``.
    Only the tune part was used in training (its pairs, the labelled weight, the cue guard)."""
    from narrative_tracker.narratives.stance import classify_stance
    from narrative_tracker.narratives.stance_model import STANCES3, StanceModel

    model = model or StanceModel.load()
    out = {}
    for part in ("tune", "test"):
        claims, texts, labels = labelled_pairs(path, part, codebook, with_unrelated=False)
        predicted, _, _ = model.predict(claims, texts, related_only=True)
        out[part] = {"model": stance_scores(labels, predicted, STANCES3),
                     "lexicon": stance_scores(labels, [classify_stance(t).stance for t in texts], STANCES3)}
    return out
