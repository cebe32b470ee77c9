"""Discovery quality as the product runs it, on EUvsDisinfo claims dated 2019-01-01 on, next to BERTopic 0.17.4.

1. **The pipeline as a user runs it**: ``narratives run --input posts.csv --text-column title --db SCRATCH`` (the CLI,
   in a subprocess, over every claim 2015-2021; timed). Its discovery settings were chosen on claims dated before
   2019 only (``benchmarks/discovery_tuning.py``).
2. **The desk's measure** on the claims dated 2019-01-01 on: each claim's *most specific* narrative — its discovered
   narrative where it has one, else its codebook narrative, else none — against the fact-checkers' keyword tags
   (``narrative_tracker.evaluation.evaluate.tag_agreement``): NMI against the first tag with the claims without a
   narrative as one class; purity = share of a narrative's claims carrying its most common tag (any of their tags;
   claims without a narrative excluded); outlier share = claims without a narrative. Also discovered narratives
   only and codebook narratives only.
3. **BERTopic 0.17.4 defaults** (``BERTopic()``: UMAP 15 neighbours / 5 dimensions, HDBSCAN min_cluster_size 10,
   eom) fitted on the same 2019-on claims with the vectors the pipeline stored (all-MiniLM-L6-v2), same run.
4. Optionally (``--baseline-src DIR``: an earlier checkout, e.g. ``git archive 836deb7 | tar -x -C DIR``) the same CLI
   run with that code, started at the same moment as step 1 so that both share the machine's load alike: its
   figures, and the wall-clock and CPU-time ratios of the two runs.

Writes ``benchmarks/results/discovery_pipeline.json``. Needs ``pip install -e .[bench]`` and the EUvsDisinfo
posts.csv (``--corpus``, default ../shared). About 15-30 min on 2 shared cores.

    nice python benchmarks/discovery_quality.py [--baseline-src /tmp/main-836deb7] [--keep-db /tmp/eu.duckdb]
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
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _data import EUVSDISINFO, add_option, require  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "discovery_pipeline.json"
TEST_FROM = "2019-01-01"
CLI = "import sys; from pipelines.cli import main; sys.exit(main(sys.argv[1:]))"


def _cli(corpus: Path, db: Path, log, src: Path | None) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("DAGSTER_HOME", None)  # run history beside the database, as for a user
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return subprocess.Popen([sys.executable, "-c", CLI, "run", "--input", str(corpus), "--text-column", "title", "--db", str(db)],
                            cwd=src or REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def run_cli(corpus: Path, db: Path, log: Path, src: Path | None = None, cpu: dict | None = None) -> float:
    """``narratives run --input corpus --text-column title --db db`` with this checkout's code (or ``src``'s); wall
    seconds. ``cpu`` (a dict) gets the CPU seconds (user + system) the run used, which moves less with the load."""
    return run_clis([(corpus, db, log, src)], [cpu] if cpu is not None else None)[0]


def run_clis(runs: list[tuple], cpus: list[dict] | None = None) -> list[float]:
    """Several ``run_cli`` at once (``(corpus, db, log, src)`` each), started together so they share the machine's
    load alike (a fair time ratio on a shared machine); wall seconds each, CPU seconds into ``cpus``."""
    t = time.perf_counter()
    logs = [open(log, "w", encoding="utf-8") for _, _, log, _ in runs]
    try:
        procs = {_cli(corpus, db, out, src).pid: i for i, ((corpus, db, _, src), out) in enumerate(zip(runs, logs))}
        walls: list[float] = [0.0] * len(runs)
        while procs:
            pid, status, usage = os.wait4(-1, 0)
            if pid not in procs:
                continue
            i = procs.pop(pid)
            walls[i] = round(time.perf_counter() - t, 1)
            if cpus is not None:
                cpus[i]["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
            if os.waitstatus_to_exitcode(status):
                raise SystemExit(f"narratives run failed ({os.waitstatus_to_exitcode(status)}); see {runs[i][2]}")
    finally:
        for out in logs:
            out.close()
    return walls


def claims(db: Path, since: str | None = TEST_FROM, until: str | None = None) -> list[tuple]:
    """``(article_id, discovered_id, codebook_id, tags, text_hashes)`` per tagged claim in the date range."""
    from narrative_tracker import db as ntdb

    with ntdb.connection(db, read_only=True) as con:
        return con.execute(ntdb.query("discovery_vs_tags"), {"since": since, "until": until}).fetchall()


def desk_measure(db: Path, since: str | None = TEST_FROM, until: str | None = None) -> dict:
    from narrative_tracker import db as ntdb
    from narrative_tracker.evaluation.evaluate import discovery_agreement_db

    with ntdb.connection(db, read_only=True) as con:
        return discovery_agreement_db(con, since, until)


def claim_vectors(db: Path, rows: list[tuple]):
    """Each claim's text and the vector the pipeline stored for it (its first paragraph)."""
    import numpy as np

    from narrative_tracker import db as ntdb
    from narrative_tracker.narratives.frames import load_vectors

    with ntdb.connection(db, read_only=True) as con:
        model = con.execute("SELECT any_value(model) FROM paragraph_embeddings").fetchone()[0]
        frame = con.execute(ntdb.query("discovery_candidates"), {"model": model}).pl()
    index = {h: i for i, h in enumerate(frame["text_hash"].to_list())}
    vectors, texts = load_vectors(frame), frame["text"].to_list()
    picks = [index[r[4][0]] for r in rows]
    return [texts[i] for i in picks], np.ascontiguousarray(vectors[picks]), model


def _example_rows(db: Path, rows: list[tuple], topics, topic_model, k: int = 5) -> list[dict]:
    """The ``k`` largest discovered narratives among the scored claims, next to the BERTopic topic holding most of them."""
    from narrative_tracker import db as ntdb

    members: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if r[1]:
            members.setdefault(r[1], []).append(i)
    with ntdb.connection(db, read_only=True) as con:
        info = {nid: (label, terms, parent) for nid, label, terms, parent in con.execute(
            "SELECT narrative_id, label, terms, parent_narrative_id FROM narratives").fetchall()}
    topic_info = {int(t["Topic"]): t for t in topic_model.get_topic_info().to_dict("records")}
    out = []
    for nid, idx in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:k]:
        counts = Counter(int(topics[i]) for i in idx)
        topic, n = max(counts.items(), key=lambda kv: (kv[0] >= 0, kv[1], -kv[0]))
        label, terms, parent = info[nid]
        out.append({"claims": len(idx), "label": label, "terms": terms, "inside_codebook_narrative": parent,
                    "top_tag": Counter(t for i in idx for t in rows[i][3]).most_common(1)[0][0],
                    "bertopic_topic": topic, "bertopic_label": topic_info.get(topic, {}).get("Name"),
                    "share_of_claims_in_that_topic": round(n / len(idx), 3)})
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--keep-db", default="", metavar="PATH", help="write the pipeline's database here and keep it "
                        "(default: a temporary folder); an existing one is scored without running again")
    parser.add_argument("--baseline-src", default="", metavar="DIR",
                        help="also run the CLI of this earlier checkout, started with this run (time ratios, its figures)")
    args = parser.parse_args(argv)
    corpus = require(EUVSDISINFO, args.corpus)

    import numpy as np

    with tempfile.TemporaryDirectory(prefix="discovery-pipeline-") as tmp:
        tmp = Path(tmp)
        db = Path(args.keep_db) if args.keep_db else tmp / "eu.duckdb"
        out: dict = {
            "date": dt.date.today().isoformat(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs; shared with other work unless said otherwise",
            "corpus": str(corpus),
            "claims_from": TEST_FROM,
            "command": f"narratives run --input {corpus} --text-column title --db SCRATCH",
            "reproduce": "pip install -e .[bench] && nice python benchmarks/discovery_quality.py "
                         "[--baseline-src DIR-with-an-earlier-checkout]",
            "systems": {},
        }
        load = os.getloadavg()[0]
        base_db = tmp / "baseline.duckdb"
        if db.exists() and args.keep_db:
            out["pipeline_seconds"] = None
            if args.baseline_src:
                raise SystemExit("--baseline-src times the two runs side by side: give a --keep-db that does not exist yet")
        else:
            runs = [(corpus, db, tmp / "run.log", None)]
            if args.baseline_src:  # started together: both runs see the same load
                runs.append((corpus, base_db, tmp / "baseline.log", Path(args.baseline_src)))
            cpus: list[dict] = [{} for _ in runs]
            walls = run_clis(runs, cpus)
            out["pipeline_seconds"], out["pipeline_cpu_seconds"] = walls[0], cpus[0]["cpu_seconds"]
        out["load_average_before_after"] = [round(load, 1), round(os.getloadavg()[0], 1)]
        print("pipeline run:", out["pipeline_seconds"], "s", flush=True)
        measure = desk_measure(db)
        for name in ("most_specific", "discovered", "codebook"):
            out["systems"][f"pipeline-as-run:{name}"] = measure[name]
            print(name, measure[name], flush=True)

        rows = claims(db)
        texts, vectors, model = claim_vectors(db, rows)
        out["embedding_model"], out["claims"] = model, len(rows)
        from bertopic import BERTopic

        from narrative_tracker.evaluation.evaluate import tag_agreement

        t = time.perf_counter()
        topic_model = BERTopic()
        topics, _ = topic_model.fit_transform(texts, embeddings=vectors)
        topics = np.asarray(topics)
        out["systems"]["bertopic-0.17.4-defaults"] = tag_agreement(topics, [r[3] for r in rows]) | {
            "seconds": round(time.perf_counter() - t, 1)}
        print("bertopic", out["systems"]["bertopic-0.17.4-defaults"], flush=True)
        out["examples"] = _example_rows(db, rows, topics, topic_model)

        if args.baseline_src:
            base = desk_measure(base_db)
            out["baseline"] = {"src": args.baseline_src, "ran": "at the same time as this run (same load)",
                               "pipeline_seconds": walls[1], "pipeline_cpu_seconds": cpus[1]["cpu_seconds"],
                               "time_ratio_this_over_baseline": round(walls[0] / walls[1], 2),
                               "cpu_ratio_this_over_baseline": round(cpus[0]["cpu_seconds"] / cpus[1]["cpu_seconds"], 2),
                               **{f"pipeline-as-run:{k}": base[k] for k in ("most_specific", "discovered", "codebook")}}
            print("baseline", out["baseline"], flush=True)

    nt, bt = out["systems"]["pipeline-as-run:most_specific"], out["systems"]["bertopic-0.17.4-defaults"]
    out["targets"] = {
        "nmi>=0.50": nt["nmi"] >= 0.50, "purity>=0.78": nt["purity"] >= 0.78, "outliers<=0.15": nt["outlier_share"] <= 0.15,
        "ahead_of_bertopic_on_all_three": nt["nmi"] > bt["nmi"] and nt["purity"] > bt["purity"]
        and nt["outlier_share"] < bt["outlier_share"],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out["targets"]), "->", args.out)
    return out


if __name__ == "__main__":
    main()
