"""DuckDB file vs DuckLake on PostgreSQL, with 1 and 2 workers: `narratives run` on the EUvsDisinfo corpus.

For each configuration a fresh warehouse gets one full `narratives run` in its own process (the DuckDB file:
one worker, as it has one writer; DuckLake on a throwaway PostgreSQL cluster: `--workers 1` and `--workers 2`,
each worker a contiguous range of days of about equal article counts). Recorded: wall time, the rows of every
table (the configurations must agree), conflict retries (printed by each worker), the per-asset step time from
the Dagster instance (a temporary DAGSTER_HOME per configuration), the load average before and after, and a
reader polling the warehouse every 0.2 s during the run (it must never error; on a lake it attaches read-only,
on a file it opens the published copy once there is one).

    nice -n 10 python benchmarks/lake_scaling.py [--corpus posts.csv] [--rows N] [--out benchmarks/results/lake_scaling.json]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import multiprocessing
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _data import EUVSDISINFO, add_option, require  # noqa: E402

DAILY = ("articles", "paragraphs", "paragraph_embeddings", "codebook_assignments")
TABLES = ("articles", "paragraphs", "paragraph_embeddings", "narratives", "paragraph_narratives", "narrative_daily_counts", "alerts")


def _reader(url: str, stop, out) -> None:
    """Poll counts until told to stop; record how many polls succeeded, how many found nothing yet, errors."""
    import duckdb

    from narrative_tracker import db, warehouse

    polls, waiting, errors, last = 0, 0, [], None
    con = None
    while not stop.is_set():
        try:
            if con is None:
                if warehouse.is_lake_url(url):
                    con = db.connect(url, read_only=True)
                elif Path(url).exists():
                    con = duckdb.connect(url, read_only=True)
            if con is None:
                waiting += 1
            else:
                last = con.execute("SELECT (SELECT count(*) FROM paragraphs), (SELECT count(*) FROM paragraph_narratives)").fetchone()
                polls += 1
        except warehouse.WarehouseNotSetUp:
            waiting += 1
        except Exception as exc:  # noqa: BLE001 - the benchmark reports every reader error
            if "does not exist" in str(exc) and polls == 0:
                waiting += 1  # tables not created yet
            else:
                errors.append(repr(exc)[:300])
            if con is not None:
                con.close()
                con = None
        time.sleep(0.2)
    if con is not None:
        con.close()
    out.put({"polls": polls, "waiting_for_tables": waiting, "errors": errors, "last_seen": last})


def _step_seconds(home: Path) -> dict[str, float]:
    """Total seconds per asset step over every run recorded in the instance at ``home``."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home)
    instance = dg.DagsterInstance.get()
    totals: dict[str, float] = {}
    for record in instance.get_run_records():
        for stat in instance.get_run_step_stats(record.dagster_run.run_id):
            if stat.start_time and stat.end_time:
                totals[stat.step_key] = round(totals.get(stat.step_key, 0.0) + stat.end_time - stat.start_time, 1)
    instance.dispose()
    os.environ.pop("DAGSTER_HOME", None)
    return totals


def run_config(name: str, url: str, workers: int, corpus: Path, tmp: Path, env: dict) -> dict:
    from narrative_tracker import db

    home = tmp / f"dagster-{name}"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    reader = ctx.Process(target=_reader, args=(url, stop, out), daemon=True)
    reader.start()
    command = [sys.executable, "-m", "pipelines.cli", "run", "--input", str(corpus), "--text-column", "title", "--db", url]
    if workers > 1:
        command += ["--workers", str(workers)]
    load_before = os.getloadavg()
    began = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env | {"DAGSTER_HOME": str(home)}, cwd=REPO)
    seconds = time.perf_counter() - began
    load_after = os.getloadavg()
    time.sleep(1.0)
    stop.set()
    polled = out.get(timeout=60)
    reader.join(30)
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: narratives run failed: {proc.stderr[-3000:]}")
    workers_out = re.findall(r"worker (\S+): (ok|FAILED) in ([\d.]+)s, (\d+) conflict retries", proc.stdout)
    with db.connection(url, read_only=True) as con:
        rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608 - fixed names
        rows["codebook_assignments"] = con.execute("SELECT count(*) FROM paragraph_narratives WHERE method = 'codebook'").fetchone()[0]
        rows["discovered_assignments"] = rows["paragraph_narratives"] - rows["codebook_assignments"]
    return {
        "config": name, "workers": workers, "wall_seconds": round(seconds, 1), "rows": rows,
        "conflict_retries": sum(int(w[3]) for w in workers_out),
        "worker_ranges": [{"days": w[0], "seconds": float(w[2]), "conflict_retries": int(w[3])} for w in workers_out],
        "step_seconds": _step_seconds(home), "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in load_after], "reader": polled,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--rows", type=int, default=0, help="only the first N rows (0: all)")
    parser.add_argument("--configs", default="file-1,lake-1,lake-2")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "lake_scaling.json"))
    args = parser.parse_args(argv)
    require(EUVSDISINFO, args.corpus)
    from narrative_tracker import pg_cluster

    with open(args.corpus, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if args.rows:
        rows = rows[: args.rows + 1]
    results = []
    with tempfile.TemporaryDirectory(prefix="lake-bench-") as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "posts.csv"
        with open(corpus, "w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows(rows)
        env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NARRATIVES_PROGRESS": "0",
                            "PYTHONPATH": str(REPO)}
        with pg_cluster.running(tmp / "pg") as pg:
            for name in args.configs.split(","):
                backend, workers = name.split("-")
                if backend == "file":
                    url = str(tmp / f"{name}.duckdb")
                else:
                    pg.createdb(name.replace("-", "_"))
                    url = f"ducklake:postgres:{pg.conninfo(name.replace('-', '_'))}"
                    env["NARRATIVES_LAKE_DATA_PATH"] = str(tmp / f"{name}-files") + "/"
                    os.environ["NARRATIVES_LAKE_DATA_PATH"] = env["NARRATIVES_LAKE_DATA_PATH"]
                print(f"{name}: running", flush=True)
                results.append(run_config(name, url, int(workers), corpus, tmp, env))
                print(json.dumps(results[-1]), flush=True)
    base = results[0]["wall_seconds"]
    for r in results:
        r["vs_first_config"] = round(r["wall_seconds"] / base, 3)
    report = {
        "benchmark": "lake_scaling", "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (load averages before/after each configuration below)",
        "corpus": Path(args.corpus).name, "articles": len(rows) - 1,
        # the daily stages must agree exactly; discovery (UMAP + HDBSCAN over all vectors) may differ when bf16
        # vectors differ in the last bits because the workers batch other texts together
        "daily_rows_agree": all({k: v for k, v in r["rows"].items() if k in DAILY} == {k: v for k, v in results[0]["rows"].items() if k in DAILY}
                                for r in results),
        "all_rows_agree": all(r["rows"] == results[0]["rows"] for r in results),
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    Path(args.out).with_suffix(".md").write_text(render(report))
    print(json.dumps({k: v for k, v in report.items() if k != "results"}, indent=2))
    return report


def render(report: dict) -> str:
    """The results as a markdown table (benchmarks/results/lake_scaling.md, quoted in docs/deploy.md)."""
    lines = [f"Measured {report['date']} on {report['machine']}; {report['corpus']}, {report['articles']} articles "
             "(`nice -n 10 python benchmarks/lake_scaling.py`).", "",
             "| configuration | wall s | vs file | paragraphs | embeddings | codebook rows | discovered rows | narratives "
             "| conflict retries | reader polls / errors | load avg before → after |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        rows = r["rows"]
        lines.append(
            f"| {r['config']} | {r['wall_seconds']} | {r['vs_first_config']} | {rows['paragraphs']} | {rows['paragraph_embeddings']} "
            f"| {rows['codebook_assignments']} | {rows['discovered_assignments']} | {rows['narratives']} | {r['conflict_retries']} "
            f"| {r['reader']['polls']} / {len(r['reader']['errors'])} | {r['load_average_before'][0]} → {r['load_average_after'][0]} |")
    lines += ["", "Step seconds (summed over runs; on lake-2 the daily steps of both workers are added):", "",
              "| step | " + " | ".join(r["config"] for r in report["results"]) + " |",
              "|---|" + "---|" * len(report["results"])]
    steps = sorted({k for r in report["results"] for k in r["step_seconds"]})
    for step in steps:
        lines.append(f"| {step} | " + " | ".join(str(r["step_seconds"].get(step, "")) for r in report["results"]) + " |")
    for r in report["results"]:
        for w in r["worker_ranges"]:
            lines.append(f"\n{r['config']} worker {w['days']}: {w['seconds']} s, {w['conflict_retries']} conflict retries")
    lines.append(f"\nDaily tables agree across configurations: {report['daily_rows_agree']}; all tables: {report['all_rows_agree']}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
