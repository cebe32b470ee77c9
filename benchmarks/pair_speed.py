"""What the pair model costs (issue 24): pairs per second, and its share of a `narratives run`.

1. **Pairs/s.** The shipped pair model scores (claim, paragraph) pairs: every codebook narrative's description
   against every paragraph of the bundled labelled set, as the run batches them, in bf16 autocast (where the CPU
   has bf16) and in fp32 in the same process; the labels of the two precisions are compared.
2. **Share of run time.** `narratives run --input data/sample` into a fresh database twice in this run: with the
   shipped pair model (the default) and with `--stance-model none` (the detector decides alone). The share is
   (pair run − detector-only run) / pair run.

    python benchmarks/pair_speed.py [--pairs 600] [--out benchmarks/results/pair_speed.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from end_to_end import measured_run  # noqa: E402


def pairs_per_second(limit: int) -> dict:
    from narrative_tracker.material import load_labelled
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.narratives.pair_model import PairModel, _bf16_ok

    claims = [n.description for n in load_codebook().narratives]
    texts = [p.text for p in load_labelled()]
    pairs = [(c, t) for t in texts for c in claims][:limit]
    out: dict = {"pairs": len(pairs), "claims": "each codebook narrative's description",
                 "texts": "the bundled labelled paragraphs"}
    labels = {}
    for precision in (["bf16"] if _bf16_ok("cpu") else []) + ["fp32"]:
        model = PairModel.load(precision=precision)
        model.score([c for c, _ in pairs[:32]], [t for _, t in pairs[:32]])  # warm-up
        began = time.perf_counter()
        scores = model.score([c for c, _ in pairs], [t for _, t in pairs])
        seconds = time.perf_counter() - began
        labels[precision] = scores.labels()
        out[precision] = {"seconds": round(seconds, 2), "pairs_per_second": round(len(pairs) / seconds, 1)}
        out["pair_model"] = model.key
    if "bf16" in out:
        out["bf16_speedup"] = round(out["bf16"]["pairs_per_second"] / out["fp32"]["pairs_per_second"], 2)
        out["bf16_same_label"] = round(sum(a == b for a, b in zip(labels["bf16"], labels["fp32"])) / len(pairs), 3)
    return out


def run_share(sample: Path) -> dict:
    narratives = str(Path(sys.executable).with_name("narratives"))
    out = {}
    with tempfile.TemporaryDirectory(prefix="pair-speed-") as tmp:
        for name, extra in (("pair_model", []), ("detector_only", ["--stance-model", "none"])):
            db = Path(tmp) / f"{name}.duckdb"
            out[name] = measured_run([narratives, "run", "--input", str(sample), "--db", str(db), *extra])
    out["pair_share_of_run"] = round(1 - out["detector_only"]["seconds"] / out["pair_model"]["seconds"], 3)
    out["ratio"] = round(out["pair_model"]["seconds"] / out["detector_only"]["seconds"], 2)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--sample", default=str(REPO / "data" / "sample"))
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = {"date": dt.date.today().isoformat(), "speed": pairs_per_second(args.pairs),
              "sample_run": {"input": Path(args.sample).name, **run_share(Path(args.sample))}}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
