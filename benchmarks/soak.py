"""Soak test: many nights of real data with crashes and bad files mixed in; at the end nothing may be lost
or duplicated.

Each night: that day's EUvsDisinfo rows go into an inbox as CSV, sometimes with a bad file beside them
(random bytes, an empty file, broken JSON Lines, a cp1251 text); `narratives run` processes the inbox. On
every third night the run is killed with SIGKILL after a random delay, then run again. At the end the
published database must hold exactly the expected articles and quarantine records, no duplicated
paragraph or assignment, and a vector for every paragraph.

    python benchmarks/soak.py --nights 30 --out benchmarks/results/soak.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from corpus_days import DailyCorpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(REPO.parent / "shared/corpus/euvsdisinfo-2015-2021/posts.csv"))
    parser.add_argument("--start", default="2020-09-01")
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/soak.json"))
    args = parser.parse_args()

    import duckdb

    from narrative_tracker.formats import IngestOptions, read_file

    rng = random.Random(args.seed)
    corpus = DailyCorpus(args.corpus)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    inbox, db = work / "inbox", work / "soak.duckdb"
    inbox.mkdir()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore")
    bad_kinds = ["random", "empty", "jsonl", "cp1251"]
    nights, kills, began = [], 0, time.perf_counter()
    for n in range(args.nights):
        day = dt.date.fromisoformat(args.start) + dt.timedelta(days=n)
        corpus.write_day(inbox, day)
        if rng.random() < 0.4:
            kind = rng.choice(bad_kinds)
            path = inbox / f"{day}-bad-{kind}"
            if kind == "random":
                path.with_suffix(".txt").write_bytes(bytes(rng.randrange(256) for _ in range(2000)))
            elif kind == "empty":
                path.with_suffix(".txt").write_bytes(b"")
            elif kind == "jsonl":
                path.with_suffix(".jsonl").write_text('{"text": "ok line from the soak test, long enough"}\n{broken\n[1, 2]\n')
            else:
                path.with_suffix(".txt").write_bytes("Заголовок\n\nТекст статьи о событиях в Минске и протестах.".encode("cp1251"))
        cmd = [sys.executable, "-m", "pipelines.cli", "run", "--input", str(inbox), "--text-column", "title", "--db", str(db)]
        killed = False
        if n % 3 == 2:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                proc.wait(timeout=rng.uniform(2, 25))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed, kills = True, kills + 1
        t = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        nights.append({"day": str(day), "killed_first": killed, "rc": done.returncode, "seconds": round(time.perf_counter() - t, 1)})
        print(nights[-1], flush=True)
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:])
            break

    # what the database must hold: every article and quarantine record the files give, once
    expected_articles, expected_quarantine = set(), set()
    for path in sorted(inbox.iterdir()):
        result = read_file(path, IngestOptions(text_column="title"))
        expected_articles |= {a.article_id for a in result.articles}
        expected_quarantine |= {q.quarantine_id(result.sha256) for q in result.quarantined}
    with duckdb.connect(str(db), read_only=True) as con:
        articles = {r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()}
        quarantine = {r[0] for r in con.execute("SELECT quarantine_id FROM quarantine").fetchall()}
        checks = {
            "articles_expected": len(expected_articles),
            "articles_found": len(articles),
            "articles_missing": len(expected_articles - articles),
            "articles_unexpected": len(articles - expected_articles),
            "quarantine_expected": len(expected_quarantine),
            "quarantine_found": len(quarantine),
            "quarantine_missing": len(expected_quarantine - quarantine),
            "duplicate_paragraph_ids": con.execute(
                "SELECT count(*) - count(DISTINCT paragraph_id) FROM paragraphs").fetchone()[0],
            "duplicate_assignments": con.execute(
                "SELECT count(*) - count(DISTINCT (paragraph_id, narrative_id, method)) FROM paragraph_narratives").fetchone()[0],
            "paragraphs_without_vector": con.execute(
                "SELECT count(*) FROM paragraphs p ANTI JOIN paragraph_embeddings e USING (text_hash)").fetchone()[0],
        }
    ok = (checks["articles_missing"] == checks["articles_unexpected"] == checks["quarantine_missing"] == 0
          and checks["duplicate_paragraph_ids"] == checks["duplicate_assignments"] == checks["paragraphs_without_vector"] == 0
          and all(n["rc"] == 0 for n in nights) and len(nights) == args.nights)
    summary = {"measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": f"{os.cpu_count()} cores",
               "nights": len(nights), "kills": kills, "seconds": round(time.perf_counter() - began, 1), "ok": ok, "checks": checks,
               "per_night": nights}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "per_night"}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
