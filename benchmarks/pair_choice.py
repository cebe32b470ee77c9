"""How the decision constants of ``narratives/judge.py`` were chosen: a grid on the labelled *choice half* only.

The choice half (``pair_training.choice_half``: sample article 001 and the held-out rows numbered 3 mod 4 of the tune
part) is never trained on by the pair model; the test part is never read here. For every candidate pair (stage 1 with
the widest margin of the grid) the pair model reads every claim text once; the grid then re-aggregates:

* ``claims``: which claim texts are read (the description, the label, the k example statements closest to the paragraph);
* ``threshold``: P(related) from which a pair is assigned (``RELATED_THRESHOLD``);
* ``margin``: how far below a narrative's threshold stage 1 still proposes a pair (``CANDIDATE_MARGIN``).

Score = mentions macro-F1 + asserts macro-F1 on the choice half; ties go to fewer claim texts (cost), then the higher
threshold. Writes ``benchmarks/results/pair_choice.json``.

    python benchmarks/pair_choice.py [--stance-model DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

CLAIM_SETS = {"desc": ("desc", 0), "desc+1ex": ("desc", 1), "desc+2ex": ("desc", 2), "desc+3ex": ("desc", 3),
              "desc+5ex": ("desc", 5), "label+2ex": ("label", 2)}
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
MARGINS = (0.0, 0.05, 0.1)


def main() -> int:
    from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder
    from narrative_tracker.evaluation.evaluate import load_labelled
    from narrative_tracker.narratives import judge as J
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.narratives.detect import apply_heads, relative_assigned, score_paragraphs
    from narrative_tracker.narratives.heads import resolve_heads
    from narrative_tracker.narratives.pair_model import STANCES3, resolve_pair_model
    from narrative_tracker.narratives.pair_training import choice_half

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stance-model", default="", help="pair model folder (default: the shipped one)")
    parser.add_argument("--out", default=str(HERE / "results" / "pair_choice.json"))
    args = parser.parse_args()
    emb = SentenceTransformerEmbedder()
    model = resolve_pair_model(args.stance_model, sentence_ranker=emb)
    book = load_codebook(model=emb.name)
    rows = [r for r in load_labelled() if r.part == "tune" and choice_half(r.id)]
    texts = [r.text for r in rows]
    vectors = emb.encode(texts)
    examples = {n.id: emb.encode(list(n.examples)) for n in book.narratives}
    scores = score_paragraphs(book, examples, vectors, texts, [r.group for r in rows], [r.position for r in rows])
    stage1 = apply_heads(scores, relative_assigned(scores, book), resolve_heads("", emb.name), vectors)
    J.CANDIDATE_MARGIN = max(MARGINS)
    widest = J.candidate_mask(scores, book, stage1)
    asked: list[tuple[tuple[int, int], str, str]] = []
    for i, j in np.argwhere(widest):
        n = book.narratives[j]
        order = np.argsort(-(examples[n.id] @ vectors[i]))
        asked.append(((i, j), "desc", n.description))
        asked.append(((i, j), "label", n.label))
        asked += [((i, j), f"ex{k}", n.examples[int(order[k])]) for k in range(min(5, len(n.examples)))]
    proba = model.score([c for _, _, c in asked], [texts[ij[0]] for ij, _, _ in asked]).proba
    table = {(ij, kind): p for (ij, kind, _), p in zip(asked, proba)}
    gold = [[dict(r.stances).get(n) if n in r.narratives else None for n in book.ids] for r in rows]

    def f1(tp, fp, fn):
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    results = []
    for name, (first, k) in CLAIM_SETS.items():
        kinds = [first] + [f"ex{x}" for x in range(k)]
        for margin in MARGINS:
            J.CANDIDATE_MARGIN = margin
            mask = J.candidate_mask(scores, book, stage1)
            for threshold in THRESHOLDS:
                counts = {kind: {n: [0, 0, 0] for n in book.ids} for kind in ("mentions", "asserts")}
                for i in range(len(rows)):
                    for j, nid in enumerate(book.ids):
                        pred = None
                        if mask[i, j]:
                            p = np.mean([table[((i, j), kd)] for kd in kinds if ((i, j), kd) in table], axis=0)
                            if 1 - p[3] >= threshold:
                                pred = STANCES3[int(np.argmax(p[:3]))]
                        g = gold[i][j]
                        for kind, (gv, pv) in (("mentions", (g is not None, pred is not None)),
                                               ("asserts", (g == "asserts", pred == "asserts"))):
                            c = counts[kind][nid]
                            c[0] += gv and pv
                            c[1] += pv and not gv
                            c[2] += gv and not pv
                mentions = float(np.mean([f1(*counts["mentions"][n]) for n in book.ids]))
                asserts = float(np.mean([f1(*counts["asserts"][n]) for n in book.ids]))
                results.append({"claims": name, "claim_examples": k, "threshold": threshold, "margin": margin,
                                "mentions_macro_f1": round(mentions, 3), "asserts_macro_f1": round(asserts, 3),
                                "score": round(mentions + asserts, 3)})
    results.sort(key=lambda r: (-r["score"], r["claim_examples"], -r["threshold"], r["margin"]))
    out = {"measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes"), "pair_model": model.key,
           "choice_paragraphs": len(rows), "best": results[0], "top": results[:10], "grid": len(results)}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out["best"]))
    for r in results[:10]:
        print(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
