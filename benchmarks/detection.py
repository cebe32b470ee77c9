"""Detection quality in one command: writes benchmarks/results/detection.json.

* ``stance_fnc1``: the stance model on FNC-1 (``--fnc``, default ../shared/benchmarks/fnc1-stance), 5-fold
  cross-validation grouped by claim (no claim in both train and test), same features, head and training recipe as
  the shipped model;
* ``stance_labelled``: the shipped stance model vs the old cue lexicon on the labelled paragraph set, tune and
  test parts (the narrative is given: stance only);
* ``paragraphs``: codebook detection P/R/F1 per narrative on the labelled set's parts (test_sample = real
  sample articles nobody tuned on: the headline) with the codebook similarity detector;
* ``paragraphs_heads``: the same with the shipped narrative heads (``narratives train``; trained on the tune
  part, so their tune figures are in-sample) and ``heads`` their artifact summary;
* ``semeval_cv`` (with ``--semeval``): SemEval-2025 Task 10 English 5-fold CV, coarse/fine samples-F1.

Targets are reported next to the figures (``met``) and never asserted.

    python benchmarks/detection.py [--fnc DIR] [--semeval DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # small heads: one BLAS thread is fastest on a shared 2-core box
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _data import FNC1, SEMEVAL, add_option, require  # noqa: E402


def new_narrative(book, embedder) -> dict:
    """Each codebook narrative re-added as an analyst would: its first five examples, no keywords, no threshold,
    no labels; scored on the labelled set (200 paragraphs about the same events, which is also the background
    corpus). Precision/recall on the test part: the global default threshold vs the corpus-relative point."""
    from dataclasses import replace

    import numpy as np

    from narrative_tracker.narratives.codebook import Codebook
    from narrative_tracker.narratives.detect import relative_assigned, score_paragraphs
    from narrative_tracker.material import load_labelled

    rows = load_labelled()
    vectors = embedder.encode([r.text for r in rows])
    test = np.array([r.part == "test" for r in rows])
    out = {}
    for mode in ("default", "relative"):
        narratives = [replace(n, examples=tuple(n.examples[:5]), keywords=(), threshold=None, calibration=None)
                      for n in book.narratives]
        params = replace(book.params, keyword_bonus=0.0, operating_point=mode)
        fresh = Codebook(narratives=tuple(narratives), params=params, path=book.path)
        examples = {n.id: embedder.encode(list(n.examples)) for n in narratives}
        scores = score_paragraphs(fresh, examples, vectors, [r.text for r in rows])
        hits = relative_assigned(scores, fresh)
        per = {}
        for j, n in enumerate(narratives):
            gold = np.array([n.id in r.narratives for r in rows])[test]
            pred = hits[test, j]
            tp = int((gold & pred).sum())
            per[n.id] = {"precision": round(tp / max(int(pred.sum()), 1), 3), "recall": round(tp / max(int(gold.sum()), 1), 3),
                         "support": int(gold.sum())}
        out[mode] = per
    out["target"] = "precision >= 0.70 at recall >= 0.70 per narrative"
    out["met"] = {nid: v["precision"] >= 0.7 and v["recall"] >= 0.7 for nid, v in out["relative"].items()}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_option(parser, FNC1)  # '' leaves the FNC-1 part out
    add_option(parser, SEMEVAL, default="")  # optional (slow): '' leaves it out
    parser.add_argument("--out", default=str(HERE / "results" / "detection.json"))
    parser.add_argument("--vector-cache", default="", metavar="NPZ",
                        help="reuse/keep the MiniLM vectors of claims and chunks between runs (a local .npz; same vectors)")
    args = parser.parse_args(argv)
    if args.fnc:
        require(FNC1, args.fnc, skip_hint=", or --fnc '' to leave the FNC-1 part out")
    if args.semeval:
        require(SEMEVAL, args.semeval)

    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder
    from narrative_tracker.evaluation.evaluate import evaluate_paragraphs
    from narrative_tracker.evaluation.stance_eval import evaluate_stance_labelled, evaluate_stance_pairs
    from narrative_tracker.narratives.stance_model import StanceModel

    embedder = SentenceTransformerEmbedder()
    model = StanceModel.load(embedder=embedder)
    cache = Path(args.vector_cache) if args.vector_cache else None
    if cache and cache.is_file():
        import numpy as np

        with np.load(cache, allow_pickle=False) as data:
            model.encoder.cache.update(zip(data["texts"].tolist(), data["vectors"]))
    out: dict = {"date": dt.date.today().isoformat(), "command": "python benchmarks/detection.py",
                 "stance_model": model.version}
    started = time.perf_counter()
    if args.fnc:
        fnc = evaluate_stance_pairs(args.fnc, model=model, quiet=False)
        fnc["targets"] = {"macro_f1>=0.65": fnc["macro_f1"] >= 0.65,
                          "refutes_f1>=0.50": fnc["per_class"]["refutes"]["f1"] >= 0.50}
        out["stance_fnc1"] = fnc
    if cache:
        import numpy as np

        texts = list(model.encoder.cache)
        np.savez(cache, texts=np.array(texts), vectors=np.stack([model.encoder.cache[t] for t in texts]))
    out["stance_labelled"] = evaluate_stance_labelled(model=model)
    book = load_codebook()
    parts = evaluate_paragraphs(book, embedder)
    out["paragraphs"] = {p: {"macro_f1": t["macro_f1"], "paragraphs": t["paragraphs"],
                             **{n: t[n] for n in book.ids}} for p, t in parts.items()}
    from narrative_tracker.narratives.heads import resolve_heads

    heads = resolve_heads("", embedder.name)
    if heads is not None:
        parts = evaluate_paragraphs(book, embedder, heads=heads)
        out["paragraphs_heads"] = {p: {"macro_f1": t["macro_f1"], "paragraphs": t["paragraphs"],
                                       **{n: t[n] for n in book.ids}} for p, t in parts.items()}
        out["heads"] = {"key": heads.key, "note": "tune part is in-sample for the heads (trained on it)",
                        **{k: heads.meta[k] for k in ("version", "material_sha256", "sources", "per_narrative", "rule")}}
        out["heads"]["ship_rule_met"] = out["paragraphs_heads"]["test"]["macro_f1"] > out["paragraphs"]["test"]["macro_f1"]
    out["new_narrative_5_examples"] = new_narrative(book, embedder)
    if args.semeval:
        from narrative_tracker.evaluation.semeval import cross_validate
        from narrative_tracker.material import load_semeval

        out["semeval_cv"] = cross_validate(load_semeval(args.semeval), embedder, folds=5)
    out["seconds"] = round(time.perf_counter() - started, 1)
    previous = Path(args.out)
    if previous.is_file():  # sections not measured in this run (--fnc '', no --semeval) keep their earlier figures
        old = json.loads(previous.read_text(encoding="utf-8"))
        kept = {k: old[k] for k in ("stance_fnc1", "semeval_cv") if k in old and k not in out}
        if kept:  # each kept section keeps the date it was measured on
            out["kept_from_previous_run"] = {k: old.get("kept_from_previous_run", {}).get(k, old.get("date")) for k in sorted(kept)}
            out.update(kept)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: out[k] for k in out if k not in ("paragraphs",)}, indent=1)[:3000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
