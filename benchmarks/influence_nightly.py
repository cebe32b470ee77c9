"""The nightly update of the influence network and of the copy groups against a full rebuild, on EUvsDisinfo.

1. A base database: ``narratives run`` on every claim before the first night (the pipeline builds the network
   and the copy groups from scratch on the way). ``--base-from DB`` saves that run when a database ``narratives
   run`` built from the whole file is at hand: a copy of it loses the nights' claims and everything derived from
   them (its discovered narratives keep the clusters found with them, so the first night re-clusters), and the
   copy groups and the network are rebuilt from scratch on what is left.
2. Each night, as the nightly schedule would run it: that day's claims arrive, ``ingest_job`` reads them and
   ``daily_job`` processes the night's day and the three before — codebook detection, discovery over all days
   (which re-clusters, so discovered narratives change everywhere, not only on the new day), the copy groups and
   the influence network (``outlet_influence`` asset, incremental).
3. After each night, in this process: the network step alone, timed ``--repeats`` times, nightly update and full
   rebuild alternating (which goes first alternates too), each on a fresh copy of the night's database opened cold (the same functions, the same
   machine state, medians and a ratio from one run). The nightly side gets the previous night's network tables
   back first, so it does what the asset did that night. Two kinds of narratives:
   * ``pipeline``: the night's assignments as the pipeline left them, discovery's re-clustering included;
   * ``discovery_held``: the same night with the discovered narratives' assignments as they were the night
     before (what a discovery that keeps its clusters between re-clusterings would hand the network; the night's
     few new unclaimed texts stay unassigned), so only the codebook detection of the night changes cascades.
   ``churn`` says what discovery did that night: its lineage events, how many cascades (outlets and first days)
   changed among the discovered and the codebook narratives, how many edges the full rebuild shares with the
   previous night's network.
4. The same nights with EUvsDisinfo's own keyword tags as the narratives (every claim assigned to each of its tags:
   598 narratives, 35,000 adoptions — four times the pipeline's): the network alone, nightly update against a full
   rebuild after each night's claims arrive, timed the same way.

    python benchmarks/influence_nightly.py --nights 3 --repeats 3 --out benchmarks/results/influence_nightly.json
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _data import EUVSDISINFO, add_option, require  # noqa: E402
from corpus_days import DailyCorpus  # noqa: E402
from influence_prediction import machine  # noqa: E402

NETWORK_TABLES = ("narrative_cascades", "outlet_influence", "outlet_roles", "cascade_fingerprints", "influence_candidates")
COPY_TABLES = ("text_minhash", "text_copy_groups")
META_KEYS = ("influence_settings", "influence_changed_since_full", "syndication_settings")


def copy_db(working: Path, folder: Path, name: str) -> Path:
    """A copy of the working file as a published file ``name`` (``db.connect`` writes its own working copy)."""
    target = folder / f"{name}.duckdb"
    for stale in (target, folder / f"{name}.work.duckdb"):
        stale.unlink(missing_ok=True)
    shutil.copyfile(working, target)
    return target


@contextlib.contextmanager
def attached(con, previous: Path):
    """``previous`` attached read-only as ``prev`` for the block."""
    if "'" in str(previous):
        raise ValueError(f"a quote in {previous}: ATTACH takes no parameter, the path is a literal")
    con.execute(f"ATTACH '{previous}' AS prev (READ_ONLY)")  # our own temporary path, checked above
    try:
        yield
    finally:
        con.execute("DETACH prev")


def with_previous_tables(con, previous: Path) -> None:
    """Put the previous night's network and copy tables (and their pipeline_meta keys) back into ``con``."""
    with attached(con, previous):
        for table in NETWORK_TABLES + COPY_TABLES:
            con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM prev.{table}")  # noqa: S608
        con.execute("DELETE FROM pipeline_meta WHERE key IN (SELECT unnest($k))", {"k": list(META_KEYS)})
        con.execute("INSERT INTO pipeline_meta BY NAME SELECT * FROM prev.pipeline_meta WHERE key IN (SELECT unnest($k))",
                    {"k": list(META_KEYS)})


def hold_discovery(con, previous: Path) -> None:
    """The discovered narratives' assignments as they were in ``previous`` (the night before re-clustering)."""
    with attached(con, previous):
        con.execute("DELETE FROM paragraph_narratives WHERE method = 'discovered'")
        con.execute("INSERT INTO paragraph_narratives BY NAME SELECT * FROM prev.paragraph_narratives WHERE method = 'discovered'")


def network_ab(source: Path, work: Path, repeats: int, prepare_nightly, prepare_both=None) -> tuple[dict, set]:
    """The network step on copies of ``source`` opened cold: nightly update and full rebuild alternating ``repeats``
    times (``prepare_nightly(con)`` puts the previous night's network back first; ``prepare_both(con)`` changes the
    data for both sides). Returns the figures and the full rebuild's edges."""
    from narrative_tracker import db
    from narrative_tracker.network.influence import update_influence

    runs: dict[str, list] = {"nightly": [], "full": []}
    edges: set = set()
    load = []
    for rep in range(repeats):
        for side in ("nightly", "full") if rep % 2 == 0 else ("full", "nightly"):  # neither side always goes first
            with db.connection(copy_db(source, work, f"ab_{side}")) as con:
                if prepare_both:
                    prepare_both(con)
                if side == "nightly":
                    prepare_nightly(con)
                load.append(os.getloadavg()[0])
                runs[side].append(update_influence(con, full=side == "full"))
                if side == "full":
                    edges = set(con.execute("SELECT source, target FROM outlet_influence").fetchall())
    nightly, full = runs["nightly"][0], runs["full"][0]
    seconds = {side: [round(r.seconds, 3) for r in reports] for side, reports in runs.items()}
    median = {side: statistics.median(values) for side, values in seconds.items()}
    return {"nightly_mode": nightly.mode, "reason": nightly.reason or None, "changed": nightly.changed,
            "narratives": nightly.narratives, "adoptions": full.adoptions, "new_edges": nightly.new_edges,
            "edges_nightly": nightly.edges, "edges_full": full.edges,
            "nightly_seconds": seconds["nightly"], "full_seconds": seconds["full"],
            "nightly_median": median["nightly"], "full_median": median["full"],
            "ratio": round(median["nightly"] / median["full"], 3),
            "load_average": [round(min(load), 1), round(max(load), 1)]}, edges


def churn(con, previous: Path) -> dict:
    """What the night's discovery did to the cascades: its lineage events, and the narratives whose cascade
    (outlets and their first days) differs from the previous night's network, by origin."""
    import polars as pl

    from narrative_tracker.network.influence import adoptions

    keys = ["narrative_id", "outlet", "first_day"]
    now = adoptions(con, None).select(keys)
    with attached(con, previous):
        since = con.execute("SELECT max(run_at) FROM prev.narrative_lineage").fetchone()[0]
        events = dict(con.execute("SELECT event, count(*) FROM narrative_lineage WHERE $since IS NULL OR run_at > $since "
                                  "GROUP BY event ORDER BY event", {"since": since}).fetchall())
        was = con.execute("SELECT narrative_id, outlet, first_day FROM prev.narrative_cascades").pl()
        origin = pl.DataFrame(con.execute("SELECT narrative_id, any_value(origin) FROM (SELECT narrative_id, origin FROM narratives "
                                          "UNION ALL SELECT narrative_id, origin FROM prev.narratives) GROUP BY narrative_id").fetchall(),
                              schema={"narrative_id": pl.String, "origin": pl.String}, orient="row")
    size_now, size_was = now.group_by("narrative_id").len("now"), was.group_by("narrative_id").len("was")
    common = now.join(was, on=keys).group_by("narrative_id").len("common")
    per = (size_now.join(size_was, on="narrative_id", how="full", coalesce=True).join(common, on="narrative_id", how="left")
           .fill_null(0).join(origin, on="narrative_id", how="left")
           .with_columns(changed=(pl.col("common") != pl.col("now")) | (pl.col("common") != pl.col("was")),
                         jaccard=pl.col("common") / (pl.col("now") + pl.col("was") - pl.col("common"))))
    out = {"lineage_events": events}
    for kind in ("codebook", "discovered"):
        mine = per.filter(pl.col("origin") == kind)
        both = mine.filter((pl.col("now") > 0) & (pl.col("was") > 0))
        out[kind] = {"narratives": mine.height, "cascades_changed": int(mine["changed"].sum()),
                     "in_both_nights": both.height,
                     "mean_cascade_jaccard_in_both": round(float(both["jaccard"].mean()), 3) if both.height else None}
    return out


class _Value:  # the shape of a Dagster metadata value, for a base that was cut rather than run
    def __init__(self, value):
        self.value = value


def cut_base(full: Path, db_path: Path, first_night: dt.date) -> dict:
    """The base from a whole-file database: the nights' articles and what derives from them deleted, the copy groups
    and the network rebuilt from scratch (what the pipeline's first run would have done with them)."""
    from narrative_tracker import db, schema
    from narrative_tracker.network.influence import update_influence
    from narrative_tracker.network.syndication import update_copies

    shutil.copyfile(full, db_path)
    db.working_path(db_path).unlink(missing_ok=True)
    with db.connection(db_path) as con:
        for table in ("paragraph_narratives", "paragraphs", "articles"):
            con.execute(f"DELETE FROM {table} WHERE partition_date >= $d", {"d": first_night})  # noqa: S608 - fixed names
        schema.refresh_daily_counts(con)
        update_copies(con, rebuild=True)
        report = update_influence(con, full=True)
    return {"outlet_influence": {"mode": _Value(report.mode), "seconds": _Value(round(report.seconds, 3)),
                                 "dagster/row_count": _Value(report.edges)}}


def tag_nights(corpus: DailyCorpus, nights: list[dt.date], folder: Path, repeats: int) -> list[dict]:
    """Step 4 of the module docstring: claims as articles (every outlet of a claim), one paragraph each, assigned to
    each of its keyword tags; the network updated night by night, each night timed against a full rebuild."""
    import polars as pl

    from narrative_tracker import db
    from narrative_tracker.network.influence import update_influence

    def load(con, days: list[str]) -> None:
        rows = [r | {"day": d} for d in days for r in corpus.by_day[d]]
        frame = pl.DataFrame({
            "article_id": [r["id"] for r in rows],
            "outlets": [[o.strip() for o in r["outlets"].split("+") if o.strip()] for r in rows],
            "day": [dt.date.fromisoformat(r["day"]) for r in rows],
            "title": [r["title"] for r in rows],
            "tags": [sorted({t.strip() for t in r["keywords"].split("+") if t.strip()}) for r in rows],
        }, schema={"article_id": pl.String, "outlets": pl.List(pl.String), "day": pl.Date, "title": pl.String,
                   "tags": pl.List(pl.String)})
        with db.staged(con, staged_claims=frame):
            con.execute("""
                INSERT INTO articles (article_id, outlet, outlets, title, date_source, partition_date, published_date, body,
                                      source_path, source_sha256, source_format, ingested_at)
                SELECT article_id, outlets[1], outlets, title, 'metadata', day, day, title, 'posts.csv', 'tags', 'csv', now()
                FROM staged_claims;
                INSERT INTO paragraphs (paragraph_id, article_id, partition_date, position, block_index, kind, text, text_hash, word_count)
                SELECT article_id || '-0000', article_id, day, 0, 0, 'body', title, md5(title), 1 FROM staged_claims;
                INSERT INTO narratives (narrative_id, label, origin, paragraphs, created_at, updated_at)
                SELECT DISTINCT 'tag:' || tag, tag, 'codebook', 0, now(), now() FROM (SELECT unnest(tags) AS tag FROM staged_claims)
                WHERE 'tag:' || tag NOT IN (SELECT narrative_id FROM narratives);
                INSERT INTO paragraph_narratives (paragraph_id, narrative_id, partition_date, score, method, stance, model, assigned_at)
                SELECT article_id || '-0000', 'tag:' || unnest(tags), day, 1.0, 'codebook', 'asserts', 'tags', now() FROM staged_claims;
            """)

    path = folder / "tags.duckdb"
    for stale in (path, db.working_path(path)):
        stale.unlink(missing_ok=True)
    out = []
    with db.connection(path) as con:
        load(con, [d for d in sorted(corpus.by_day) if d < nights[0].isoformat()])
        first = update_influence(con)
        out.append({"first_build_seconds": round(first.seconds, 3), "edges": first.edges})
        for day in nights:
            load(con, [day.isoformat()])
            con.execute("CHECKPOINT")  # the night's claims in, last night's network still stored: what the asset finds
            shutil.copyfile(db.working_path(path), folder / "tags_night.duckdb")
            row, _ = network_ab(folder / "tags_night.duckdb", folder, repeats, prepare_nightly=lambda con: None)
            out.append({"day": day.isoformat()} | row)
            print(json.dumps(out[-1]), flush=True)
            update_influence(con)  # on to the next night
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--nights", type=int, default=3, help="the last N days with claims are replayed as nights")
    parser.add_argument("--since", help="only claims from this day on (default: the whole file)")
    parser.add_argument("--base-from", help="a database `narratives run --input <corpus> --text-column title` built from the "
                                            "whole file: the base is cut from a copy of it instead of built")
    parser.add_argument("--repeats", type=int, default=3, help="times each night's network step is timed, each way")
    parser.add_argument("--work", help="folder for the databases (default: a temporary one)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "influence_nightly.json"))
    args = parser.parse_args(argv)
    corpus_path = require(EUVSDISINFO, args.corpus)

    import dagster as dg

    from narrative_tracker import db
    from narrative_tracker.network.syndication import SyndicationSettings, update_copies
    from pipelines.definitions import defs, range_tags

    SyndicationSettings().bands()  # import datasketch and fit its bands now, not inside the first timed call
    corpus = DailyCorpus(corpus_path)
    days = sorted(dt.date.fromisoformat(d) for d in corpus.by_day)
    if args.since:
        days = [d for d in days if d >= dt.date.fromisoformat(args.since)]
    nights = days[-args.nights:]
    work = Path(args.work or tempfile.mkdtemp(prefix="influence-nightly-"))
    work.mkdir(parents=True, exist_ok=True)
    inbox, db_path = work / "inbox", work / "pipeline.duckdb"
    inbox.mkdir(exist_ok=True)
    base_csv = work / "base.csv"
    with open(base_csv, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=corpus.header)
        writer.writeheader()
        for day in days:
            if day < nights[0]:
                writer.writerows(corpus.by_day[day.isoformat()])

    resources = {"db": {"config": {"path": str(db_path)}}}
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    instance = dg.DagsterInstance.ephemeral()
    ingest_job, daily_job = defs.resolve_job_def("ingest_job"), defs.resolve_job_def("daily_job")

    def run(paths: list[Path], start: dt.date, end: dt.date) -> dict:
        ingest_job.execute_in_process(
            run_config={"ops": {"ingest": {"config": {"paths": [str(p) for p in paths], "text_column": "title"}}},
                        "resources": resources} | quiet, instance=instance)
        daily = daily_job.execute_in_process(
            run_config={"resources": resources | {"embedding_model": {"config": {}}}} | quiet,
            instance=instance, tags=range_tags(start, end))
        return {e.asset_key.path[-1]: e.materialization.metadata for e in daily.get_asset_materialization_events()}

    began = time.perf_counter()
    if args.base_from:
        base_meta = cut_base(Path(args.base_from), db_path, nights[0])
    else:
        base_meta = run([base_csv], days[0], nights[0] - dt.timedelta(days=1))
    base_seconds = time.perf_counter() - began
    working = db.working_path(db_path)
    previous = copy_db(working, work, "previous")
    per_night = []
    for day in nights:
        corpus.write_day(inbox, day)
        began = time.perf_counter()
        meta = run([inbox / f"{day}.csv"], day - dt.timedelta(days=3), day)
        night_seconds = time.perf_counter() - began
        asset = meta["outlet_influence"]
        # the same night's network step again, in this process: nightly update vs full rebuild on the same data
        with db.connection(copy_db(working, work, "churn")) as con:
            what_changed = churn(con, previous)
        network, edges_now = network_ab(working, work, args.repeats, lambda con: with_previous_tables(con, previous))
        held, _ = network_ab(working, work, args.repeats, lambda con: with_previous_tables(con, previous),
                             prepare_both=lambda con: hold_discovery(con, previous))
        with db.connection(previous) as con:
            edges_before = set(con.execute("SELECT source, target FROM outlet_influence").fetchall())
        what_changed["edges"] = {"previous_night": len(edges_before), "tonight_full_rebuild": len(edges_now),
                                 "shared": len(edges_before & edges_now),
                                 "jaccard": round(len(edges_before & edges_now) / max(len(edges_before | edges_now), 1), 3)}
        with db.connection(copy_db(working, work, "ab_nightly")) as con:
            with_previous_tables(con, previous)
            copies_nightly = update_copies(con)
        with db.connection(copy_db(working, work, "ab_full")) as con:
            copies_full = update_copies(con, rebuild=True)
        row = {
            "day": day.isoformat(), "claims": len(corpus.by_day[day.isoformat()]), "pipeline_night_seconds": round(night_seconds, 1),
            "asset": {"mode": asset["mode"].value, "seconds": asset["seconds"].value,
                      "changed_narratives": asset["changed_narratives"].value, "narratives": asset["narratives"].value,
                      "share_of_night": round(asset["seconds"].value / night_seconds, 4)},
            "churn": what_changed,
            "network": network,
            "network_discovery_held": held,
            "copies": {"indexed_nightly": copies_nightly.indexed, "indexed_full": copies_full.indexed,
                       "nightly_seconds": round(copies_nightly.seconds, 3), "full_seconds": round(copies_full.seconds, 3),
                       "ratio": round(copies_nightly.seconds / copies_full.seconds, 3)},
        }
        per_night.append(row)
        print(json.dumps(row, default=str), flush=True)
        previous = copy_db(working, work, "previous")
    tags = tag_nights(corpus, nights, work, args.repeats)
    ratios = [n["network"]["ratio"] for n in per_night]
    held = [n["network_discovery_held"]["ratio"] for n in per_night]
    tag_ratios = [n["ratio"] for n in tags[1:]]
    summary = {
        "measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": (f"narratives run --input {args.corpus} --text-column title --db {args.base_from} && " if args.base_from else "")
                   + f"python benchmarks/influence_nightly.py --nights {args.nights} --repeats {args.repeats}" + (f" --since {args.since}" if args.since else "")
                   + (f" --base-from {args.base_from}" if args.base_from else "") + f" --out {args.out}",
        "corpus": str(corpus_path), "since": args.since,
        "base": {"claims_before": nights[0].isoformat(), "seconds": round(base_seconds, 1),
                 "how": f"cut from {args.base_from}" if args.base_from else "narratives run on the claims before",
                 "network_mode": base_meta["outlet_influence"]["mode"].value,
                 "network_seconds": base_meta["outlet_influence"]["seconds"].value,
                 "edges": base_meta["outlet_influence"]["dagster/row_count"].value},
        "repeats": args.repeats,
        "target": "nightly update <= 10 % of a full rebuild",
        "network_ratio_median": statistics.median(ratios), "network_ratio_max": max(ratios), "met": max(ratios) <= 0.10,
        "discovery_held_ratio_median": statistics.median(held), "discovery_held_ratio_max": max(held),
        "discovery_held_met": max(held) <= 0.10,
        "tags_network_ratio_median": statistics.median(tag_ratios), "tags_network_ratio_max": max(tag_ratios),
        "tags_met": max(tag_ratios) <= 0.10,
        "network_step_share_of_night": [n["asset"]["share_of_night"] for n in per_night],
        "copies_ratio_median": statistics.median(n["copies"]["ratio"] for n in per_night),
        "per_night": per_night,
        "tags_per_night": tags,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "per_night"}, indent=2, default=str))
    return summary


if __name__ == "__main__":
    main()
