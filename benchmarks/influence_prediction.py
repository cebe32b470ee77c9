"""Does the outlet influence network predict who takes a narrative up next? A check on real data (EUvsDisinfo).

Learn the network (NETINF, default settings: ``narrative_tracker.network``) on the narratives that start before
the split day, from their adoptions before that day only; then, for every narrative that starts on or after it,
given its first outlet, rank every other outlet by how likely it is to take the narrative up, and score the
ranking against the outlets that did (all of them, whenever they did):

* **network** — the model's chance that the outlet takes the narrative up: through the network from the first
  outlet (independent cascade, edge probability = its weight; mean-field over 3 steps) or from outside the
  network at the outlet's base rate (its share of the training narratives), ``1 - (1 - reach) (1 - base)``;
* **volume** — the baseline: outlets by how many training narratives they took up.

The split follows the narratives' first day, as asked: the training narratives keep their adoptions after the
split day too (what the outlets did then with *older* narratives); ``*_strict`` drops those, so nothing after the
split day is learned from. Metrics, averaged over test narratives: recall@10 (share of the adopters in the top 10) and MAP (mean average
precision over the full ranking). Outlets never seen in training count as misses for both.

Two definitions of a narrative (cascade), both reported:

* ``pipeline`` — what the pipeline assigns: ``narratives run --input posts.csv --text-column title`` into a
  scratch database (``--db`` reuses one), then ``sql/queries/influence_adoptions.sql`` (codebook and discovered
  narratives; every outlet of a claim);
* ``tags`` — EUvsDisinfo's own keyword tags (fact-checkers' narrative tags): every tag is a narrative, adopted by
  each outlet of each claim carrying it, on the claim's date.

    python benchmarks/influence_prediction.py --out benchmarks/results/influence_prediction.json
    python benchmarks/influence_prediction.py --db /tmp/euvs.duckdb   # a database narratives run already built
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _data import EUVSDISINFO, add_option, require  # noqa: E402

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

K = 10
STEPS = 3


def machine() -> str:
    """The CPU and cores, as the timings of these benchmarks are read against."""
    names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith("model name")] if Path("/proc/cpuinfo").exists() else []
    return f"{names[0] if names else platform.machine()}, {os.cpu_count()} cores, shared with other work (timings contended)"


def tag_cascades(corpus: Path) -> pl.DataFrame:
    """EUvsDisinfo keyword tags as narratives: per tag and outlet, the first claim date."""
    posts = pl.read_csv(corpus, infer_schema=False)
    return (posts.select(day=pl.col("date").str.to_date(), tag=pl.col("keywords").str.split("+"),
                         outlet=pl.col("outlets").str.split("+"))
            .explode("tag").explode("outlet")
            .filter(pl.col("tag").str.strip_chars() != "", pl.col("outlet").str.strip_chars() != "")
            .group_by(narrative_id=pl.col("tag").str.strip_chars(), outlet=pl.col("outlet").str.strip_chars())
            .agg(first_day=pl.col("day").min(), paragraphs=pl.len())
            .sort("narrative_id", "first_day", "outlet"))


def pipeline_cascades(db_path: Path) -> pl.DataFrame:
    """The adoptions of every narrative the pipeline assigned (``sql/queries/influence_adoptions.sql``)."""
    from narrative_tracker import db
    from narrative_tracker.network.influence import adoptions

    with db.connection(db_path, read_only=True) as con:
        return adoptions(con, None)


def build_database(corpus: Path, folder: Path) -> tuple[Path, float]:
    """``narratives run`` on the corpus into a scratch database (the published copy is what is read)."""
    path = folder / "euvsdisinfo.duckdb"
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--input", str(corpus), "--text-column", "title",
                    "--db", str(path)], cwd=REPO, check=True, env=os.environ | {"NARRATIVES_RUN_HISTORY": "none"})
    return path, time.perf_counter() - began


def split(adoptions: pl.DataFrame, day: dt.date, strict: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Training adoptions (narratives starting before ``day``; ``strict``: only their adoptions before ``day``) and
    test cascades (narratives starting on or after it)."""
    start = pl.col("first_day").min().over("narrative_id")
    train = adoptions.filter(start < day, (pl.col("first_day") < day) | (not strict))
    test = adoptions.filter(start >= day)
    return train, test


def propagate(first: str, weights: dict[str, dict[str, float]], steps: int = STEPS) -> dict[str, float]:
    """Mean-field independent cascade from ``first``: P(reached) per outlet after ``steps`` hops."""
    reached = {first: 1.0}
    frontier = {first: 1.0}
    for _ in range(steps):
        nxt: dict[str, float] = {}
        for u, p in frontier.items():
            for v, w in weights.get(u, {}).items():
                if v != first:
                    nxt[v] = 1 - (1 - nxt.get(v, 0.0)) * (1 - p * w)
        frontier = {}
        for v, p in nxt.items():
            before = reached.get(v, 0.0)
            after = 1 - (1 - before) * (1 - p)
            if after > before + 1e-12:
                reached[v] = after
                frontier[v] = after - before
    reached.pop(first)
    return reached


def average_precision(ranking: list[str], truth: set[str]) -> float:
    hits, total = 0, 0.0
    for i, outlet in enumerate(ranking, 1):
        if outlet in truth:
            hits += 1
            total += hits / i
    return total / len(truth) if truth else 0.0


def evaluate(train: pl.DataFrame, test: pl.DataFrame) -> dict:
    from narrative_tracker.network.influence import edge_statistics, infer_network
    from narrative_tracker.network.netinf import NetinfSettings

    began = time.perf_counter()
    edges, rows, _ = infer_network(train, NetinfSettings())
    stats = edge_statistics(edges, rows)
    learn_seconds = time.perf_counter() - began
    weights: dict[str, dict[str, float]] = {}
    for s, t, w in stats.select("source", "target", "weight").iter_rows():
        weights.setdefault(s, {})[t] = w
    volume = train.group_by("outlet").len().sort(["len", "outlet"], descending=[True, False])["outlet"].to_list()
    rank_in_volume = {o: i for i, o in enumerate(volume)}
    carried = dict(train.group_by("outlet").len().iter_rows())
    base = {o: carried[o] / train["narrative_id"].n_unique() for o in volume}
    scores = {"network": {"recall@10": [], "ap": []}, "volume": {"recall@10": [], "ap": []}}
    covered = 0
    for _, cascade in test.sort("first_day", "outlet").group_by("narrative_id", maintain_order=True):
        outlets = cascade["outlet"].to_list()
        first, truth = outlets[0], set(outlets[1:])
        if not truth:
            continue
        reach = propagate(first, weights)
        covered += bool(reach)
        by_volume = [o for o in volume if o != first]
        # the model's chance of adoption: through the network, or from outside at the outlet's base rate
        chance = {o: 1 - (1 - reach.get(o, 0.0)) * (1 - base[o]) for o in by_volume}
        by_network = sorted(by_volume, key=lambda o: (-chance[o], rank_in_volume[o]))
        for name, ranking in (("network", by_network), ("volume", by_volume)):
            scores[name]["recall@10"].append(len(truth & set(ranking[:K])) / len(truth))
            scores[name]["ap"].append(average_precision(ranking, truth))
    n = len(scores["volume"]["ap"])
    result = {
        "train_narratives": train["narrative_id"].n_unique(), "train_adoptions": train.height,
        "train_outlets": train["outlet"].n_unique(), "edges": stats.height,
        "test_narratives": n, "test_first_outlet_has_edges": covered,
        "learn_seconds": round(learn_seconds, 2),
    }
    for name, values in scores.items():
        result[name] = {f"recall@{K}": round(float(np.mean(values["recall@10"])), 4) if n else None,
                        "MAP": round(float(np.mean(values["ap"])), 4) if n else None}
    result["network_beats_volume"] = bool(n) and (result["network"]["MAP"] > result["volume"]["MAP"]
                                                  and result["network"][f"recall@{K}"] >= result["volume"][f"recall@{K}"])
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--db", help="a database `narratives run --input <corpus> --text-column title` built "
                                     "(default: build one in a temporary folder)")
    parser.add_argument("--split", default="2019-01-01", help="narratives starting on or after this day are the test set")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "influence_prediction.json"))
    args = parser.parse_args(argv)
    corpus = require(EUVSDISINFO, args.corpus)
    day = dt.date.fromisoformat(args.split)

    build_seconds = None
    if args.db:
        db_path = Path(args.db)
    else:
        db_path, build_seconds = build_database(corpus, Path(tempfile.mkdtemp(prefix="influence-")))
    report = {
        "measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": (f"narratives run --input {args.corpus} --text-column title --db {args.db} && " if args.db else "")
                   + "python benchmarks/influence_prediction.py" + (f" --db {args.db}" if args.db else "")
                   + f" --split {args.split} --out {args.out}",
        "corpus": str(corpus), "split": args.split, "k": K,
        "method": "NETINF (narrative_tracker.network.netinf, default NetinfSettings) learned on the narratives starting "
                  "before the split (all their adoptions; *_strict: only those before the split); given a test narrative's "
                  "first outlet, network = rank by 1 - (1 - reach)(1 - base): reach = mean-field independent cascade from "
                  "the first outlet over the edge weights, 3 hops; base = the outlet's share of the training narratives; "
                  "volume = rank by training narratives taken up; ties by volume",
        "database_build_seconds": None if build_seconds is None else round(build_seconds, 1),
    }
    for name, adoptions in (("pipeline", pipeline_cascades(db_path)), ("tags", tag_cascades(corpus))):
        for variant, strict in (("", False), ("_strict", True)):
            train, test = split(adoptions, day, strict)
            report[name + variant] = evaluate(train, test)
            print(name + variant, json.dumps(report[name + variant]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")
    return report


if __name__ == "__main__":
    main()
