"""The pair model on FNC-1-format claim-article pairs (``narratives evaluate --stance-pairs DIR``).

A folder the model was trained on (its ``stances.csv`` sha256 is in the model's ``trained_on``) is scored on the
claims the training kept aside (the development claims, recomputed with the training's seed) — never on the pairs
it learned from; any other folder is scored whole. Scores: per-class P/R/F1, macro-F1 over the four FNC classes
(F1m) and the FNC-1 weighted score (``stance_eval.stance_scores``).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from narrative_tracker.evaluation.stance_eval import claim_groups, load_fnc_pairs, stance_scores
from narrative_tracker.narratives.pair_model import CLASSES, PairModel


def evaluate_pair_folder(directory: str | os.PathLike, model: PairModel) -> dict:
    from narrative_tracker.narratives.pair_training import DEV_SHARE, Pair, dev_split

    claims, texts, labels, bodies = load_fnc_pairs(directory)
    digest = hashlib.sha256((Path(directory) / "stances.csv").read_bytes()).hexdigest()[:16]
    trained = any(s.get("stances_sha256") == digest for s in model.meta.get("trained_on", []))
    keep = list(range(len(claims)))
    mode = "pair model, every pair (not trained on this folder)"
    if trained:
        groups = claim_groups(claims, bodies, labels)
        seed = int(model.meta.get("config", {}).get("seed", 0))
        pairs = [Pair((c,), "", lab, 1.0, "fnc", f"fnc:{g}") for c, lab, g in zip(claims, labels, groups)]
        _, dev = dev_split(pairs, DEV_SHARE, seed)
        dev_ids = {id(p) for p in dev}
        keep = [k for k, p in enumerate(pairs) if id(p) in dev_ids]
        mode = f"pair model, the {len(keep)} pairs of the claims kept aside in training (trained on the rest of this folder)"
    started = time.monotonic()
    scores = model.score([claims[k] for k in keep], [texts[k] for k in keep])
    seconds = time.monotonic() - started
    out = stance_scores([labels[k] for k in keep], scores.labels(), CLASSES)
    out.update({"mode": mode, "model_version": model.version, "pairs_per_second": round(len(keep) / max(seconds, 1e-9), 1)})
    return out
