"""Soak test: many nights of real data with crashes and bad files mixed in; at the end nothing may be lost
or duplicated.

Each night: that day's EUvsDisinfo rows go into an inbox as CSV, sometimes with a bad file beside them
(random bytes, an empty file, broken JSON Lines, a cp1251 text); `narratives run` processes the inbox. On
every third night the run is killed with SIGKILL after a random delay, then run again. At the end the
published database must hold exactly the expected articles and quarantine records, no duplicated
paragraph or assignment, and a vector for every paragraph.

    python benchmarks/soak.py --nights 30 --out benchmarks/results/soak.json

``--via sensor`` delivers the nights through the inbox sensor instead (``benchmarks/inbox_tick.py``: the real
sensor at a simulated clock, then the ingest and downstream runs it starts): half the nights' files arrive
with a preserved modification time older than everything delivered before (``cp -p`` from an archive, or
``mv`` from a staging folder), one night in five the day's file is half-written at the first tick and
finished before the next, and on every third night the run started by the sensor is killed with SIGKILL.
The simulated clock advances 24 h a night; ticks are ``settle + 1`` s apart; after the last night one more
tick (a day later) takes whatever a killed run left. The same end checks apply.

    python benchmarks/soak.py --via sensor --nights 30 --out benchmarks/results/soak_sensor.json
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

from _data import EUVSDISINFO, add_option, require  # noqa: E402
from corpus_days import DailyCorpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--start", default="2020-09-01")
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=None, help="default: benchmarks/results/soak.json (soak_sensor.json with --via sensor)")
    parser.add_argument("--via", choices=("cli", "sensor"), default="cli", help="deliver nights by `narratives run` or the inbox sensor")
    args = parser.parse_args()
    require(EUVSDISINFO, args.corpus)
    args.out = args.out or str(REPO / "benchmarks/results" / ("soak_sensor.json" if args.via == "sensor" else "soak.json"))

    import duckdb

    from narrative_tracker.ingest.formats import IngestOptions, read_file

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
        if args.via == "cli":
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
        if args.via == "sensor":
            nights.append(_sensor_night(rng, corpus, inbox, work, db, env, n, day, kill=n % 3 == 2))
            kills += nights[-1]["killed"]
            print(nights[-1], flush=True)
            if nights[-1]["rc"] != 0:
                break
            continue
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

    if args.via == "sensor" and len(nights) == args.nights:  # a day later: whatever a killed run left is taken
        last = _tick(inbox, work, db, env, _night_clock(args.nights), None)
        nights.append({"day": "catch-up", "killed": False, "rc": last["rc"], "taken": last.get("taken", 0), "ticks": [last]})
        print(nights[-1], flush=True)
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
            "articles_without_paragraphs": con.execute(
                "SELECT count(*) FROM articles a ANTI JOIN paragraphs p USING (article_id)").fetchone()[0],
            "paragraphs_without_vector": con.execute(
                "SELECT count(*) FROM paragraphs p ANTI JOIN paragraph_embeddings e USING (text_hash)").fetchone()[0],
        }
    ok = (checks["articles_missing"] == checks["articles_unexpected"] == checks["quarantine_missing"] == 0
          and checks["duplicate_paragraph_ids"] == checks["duplicate_assignments"] == checks["paragraphs_without_vector"] == 0
          and checks["articles_without_paragraphs"] == 0
          and all(n["rc"] == 0 for n in nights) and len([n for n in nights if n["day"] != "catch-up"]) == args.nights)
    summary = {"measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": f"{os.cpu_count()} cores",
               "via": args.via, "nights": len([n for n in nights if n["day"] != "catch-up"]), "kills": kills, "seconds": round(time.perf_counter() - began, 1), "ok": ok, "checks": checks,
               "per_night": nights}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "per_night"}, indent=2))
    return 0 if ok else 1


SETTLE = 60.0
CLOCK0 = 1_800_000_000.0  # the simulated clock of night 0, 02:00 (2027-01-15); the data are from 2020


def _night_clock(n: int) -> float:
    return CLOCK0 + n * 86_400


def _tick(inbox: Path, work: Path, db: Path, env: dict, clock: float, kill_after: float | None) -> dict:
    """A sensor tick and its runs: in this process (the model stays loaded), or — when it is to be killed — in a
    child process that gets SIGKILL after ``kill_after`` seconds."""
    if kill_after is None:
        from inbox_tick import tick

        return tick(str(inbox), str(db), str(work / "cursor.json"), clock, SETTLE)
    cmd = [sys.executable, str(REPO / "benchmarks/inbox_tick.py"), "--inbox", str(inbox), "--db", str(db),
           "--cursor", str(work / "cursor.json"), "--clock", str(clock), "--settle", str(SETTLE)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return {"rc": 0, "killed": True}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    result["rc"] = proc.returncode
    if proc.returncode != 0:
        result["stderr"] = err[-2000:]
    return result


def _sensor_night(rng: random.Random, corpus, inbox: Path, work: Path, db: Path, env: dict, n: int, day: dt.date, kill: bool) -> dict:
    """Deliver one night's files to the inbox the ways files really arrive, and let the sensor take them."""
    import shutil

    staging = work / "staging"
    staging.mkdir(exist_ok=True)
    path = corpus.write_day(staging, day)
    how = "fresh"
    if n % 2 == 1:  # an archive copy: its time is the publication day, older than everything delivered before
        stamp = dt.datetime.combine(day, dt.time(12), dt.timezone.utc).timestamp()
        os.utime(path, (stamp, stamp))
        how = "cp -p" if n % 4 == 1 else "mv"
    half = n % 5 == 3 and path.stat().st_size > 200
    clock, ticks, killed = _night_clock(n), [], False
    target = inbox / path.name
    if half:  # the writer is still at it at the first tick: cut in the middle of a row
        data = path.read_bytes()
        target.write_bytes(data[: len(data) // 2 + 7])
        how = "half-written"
    elif how == "cp -p":
        subprocess.run(["cp", "-p", str(path), str(target)], check=True)
    else:
        shutil.move(path, target) if how == "mv" else shutil.copyfile(path, target)
    for step in range(4):
        ticks.append(_tick(inbox, work, db, env, clock + step * (SETTLE + 1), rng.uniform(2, 25) if kill and step == 1 else None))
        killed |= ticks[-1].get("killed", False)
        if half and step == 0:
            target.write_bytes(path.read_bytes())  # the writer finishes before the next tick
        if ticks[-1]["rc"] != 0 or (step >= 1 and not ticks[-1].get("taken") and "waiting" not in (ticks[-1].get("skip") or "")):
            break
    if path.exists():
        path.unlink()
    return {"day": str(day), "delivered": how, "killed": killed, "rc": max(t["rc"] for t in ticks),
            "taken": sum(t.get("taken", 0) for t in ticks), "ticks": ticks}


if __name__ == "__main__":
    sys.exit(main())
