"""``narratives``: the command line, a thin layer over the Dagster job and the core library.

Every run goes through Dagster (``execute_in_process``), so it appears in the Dagster UI when
``DAGSTER_HOME`` points at an instance (``make dev`` uses ``.dagster_home``); without
``DAGSTER_HOME`` an ephemeral instance is used and nothing is recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import warnings
from pathlib import Path

from narrative_tracker.settings import Settings, enable_progress, load_settings

DEFAULT_DB_PATH = "NARRATIVES_DB or data/narratives.duckdb"
_COLUMN_OPTIONS = ("text", "title", "date", "outlet", "url", "author", "language", "id", "tags")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="narratives",
        description="Track propaganda narratives in news articles: ingest, clean, split and embed into DuckDB via Dagster.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="ingest input files and materialise every asset for every day present in them",
        description=(
            "Ingest the input files (format detected per file: text/markdown, HTML, CSV/TSV, JSON Lines/JSON, "
            "RSS/Atom), then rebuild paragraphs and embeddings for the whole range of publication days they "
            "cover, in one Dagster run. Unchanged files are skipped; nothing is ever inserted twice."
        ),
    )
    run.add_argument("--input", "-i", action="append", metavar="PATH",
                     help="file or directory to ingest; repeat for several. Without --input nothing is ingested: every day "
                          "the database holds is re-processed (after a codebook change). The sample: --input data/sample")
    run.add_argument("--db", default=None, metavar="PATH",
                     help=f"DuckDB database to write (default: {DEFAULT_DB_PATH}; created if missing)")
    run.add_argument("--model", default=None, metavar="NAME|PATH",
                     help="embedding model: all-MiniLM-L6-v2 (default, English), use-multilingual-v3 (16 languages, "
                          "English codebook matches Russian text) or a local sentence-transformers folder")
    run.add_argument("--precision", choices=("auto", "bf16", "fp32"), default=None,
                     help="embedding precision: auto = bf16 where the CPU has AMX / AVX-512 BF16 units, else fp32")
    run.add_argument("--codebook", default=None, metavar="PATH",
                     help="codebook YAML of known narratives (default: NARRATIVES_CODEBOOK or codebook/narratives.yaml)")
    run.add_argument("--all-days", action="store_true",
                     help="process every day in the database, not only the days present in the input "
                          "(after editing the codebook or the cleaning rules)")
    for name in _COLUMN_OPTIONS:
        run.add_argument(f"--{name}-column", metavar="NAME",
                         help=f"CSV/JSON column holding the article {name} (default: found by common names and aliases)")
    run.add_argument("--list-separator", default="+", metavar="SEP",
                     help="separator of multi-valued CSV cells such as outlets or tags (default: '+')")
    run.add_argument("--format", choices=["text", "html", "csv", "jsonl", "feed"],
                     help="read every file as this format instead of detecting it per file")
    run.add_argument("--workers", type=int, default=1, metavar="N",
                     help="write N ranges of days at once, each in its own process (DuckLake on PostgreSQL only; "
                          "discovery, alerts and publishing still run once, after them)")
    run.add_argument("--force", action="store_true",
                     help="re-parse files already ingested with the same options (still adds no duplicate rows)")
    run.add_argument("--verbose", "-v", action="store_true", help="show Dagster's own log lines")

    evaluate = sub.add_parser(
        "evaluate",
        help="measure codebook detection against hand-labelled paragraphs",
        description=(
            "Score a labelled paragraph set (CSV: id, split, source, text, narratives ;-separated) with the codebook "
            "and print precision / recall / F1 per narrative for the tune and test parts; --json for machines. "
            "--tune re-runs the documented grid search on the tune part and prints the settings it would choose."
        ),
    )
    evaluate.add_argument("--labelled", default="", metavar="CSV",
                          help="labelled paragraphs (default: tests/labelled/paragraphs.csv)")
    evaluate.add_argument("--codebook", default=None, metavar="PATH", help="codebook YAML (default: NARRATIVES_CODEBOOK or the bundled one)")
    evaluate.add_argument("--model", default=None, metavar="NAME|PATH",
                          help="embedding model: all-MiniLM-L6-v2 (default), use-multilingual-v3 or a local folder")
    evaluate.add_argument("--tune", action="store_true", help="also run the grid search and print the chosen settings")
    evaluate.add_argument("--discovery-db", default="", metavar="PATH",
                          help="also measure agreement (purity, NMI) of the discovered narratives in this database "
                               "with its articles' tags, e.g. EUvsDisinfo keywords")
    evaluate.add_argument("--documents", default="", metavar="TSV",
                          help="document-level labels in SemEval-2025 Task 10 format (file TAB narratives ;-separated); "
                               "scores the codebook assignments in --db aggregated per input file")
    evaluate.add_argument("--db", default=None, metavar="PATH", help="database for --documents")
    evaluate.add_argument("--semeval", default="", metavar="DIR",
                          help="k-fold cross-validate learning from labelled documents on a SemEval-2025 Task 10 folder "
                               "(coarse and fine samples-F1 for zero-shot, prototype and logistic-head methods)")
    evaluate.add_argument("--semeval-train", default="", metavar="DIR",
                          help="with --semeval: also train the heads on every document of this SemEval folder (e.g. the "
                               "English split) and score them on --semeval's (e.g. Russian): cross-lingual transfer")
    evaluate.add_argument("--folds", type=int, default=5, metavar="K", help="folds for --semeval and --stance-pairs (default 5)")
    evaluate.add_argument("--stance-pairs", default="", metavar="DIR",
                          help="score the stance model on FNC-1-format claim-text pairs (bodies.csv, stances.csv): per-class "
                               "P/R/F1, macro-F1 over the four FNC classes, FNC-1 weighted score; cross-validated by claim "
                               "when the shipped model was trained on that folder")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of tables")

    train_stance = sub.add_parser(
        "train-stance",
        help="train the per-pair stance model (asserts / reports / refutes / unrelated)",
        description="Train the stance head over frozen MiniLM pair features + generic cues on FNC-1-format pairs and the "
                    "tune part of the labelled paragraphs; writes stance_model.npz + .json (default: the shipped model folder).",
    )
    train_stance.add_argument("--pairs", default="", metavar="DIR", help="FNC-1-format folder (bodies.csv, stances.csv)")
    train_stance.add_argument("--labelled", default="", metavar="CSV", help="labelled paragraphs (default: tests/labelled/paragraphs.csv; tune part only)")
    train_stance.add_argument("--no-labelled", action="store_true", help="train on the pairs only")
    train_stance.add_argument("--out", default="", metavar="DIR", help="folder for the artifact (default: narrative_tracker/narratives/stance_artifact)")
    train_stance.add_argument("--review", action="append", default=[], metavar="CSV",
                              help="a review CSV filled by an analyst (`narratives review`); repeat for several")
    train_stance.add_argument("--version", default="", metavar="NAME", help="version string stored in the artifact (default: a timestamp)")

    review = sub.add_parser("review", help="export the least-certain assignments as a CSV for an analyst to label",
                            description="Write the codebook assignments whose detection or stance confidence is nearest 0.5 "
                                        "to a CSV; fill correct_narrative (yes/no) and correct_stance, then feed it back "
                                        "with `narratives train-stance --review FILE`.")
    review.add_argument("--db", default=str(DEFAULT_DB_PATH), metavar="PATH", help="DuckDB database (read-only)")
    review.add_argument("--out", default="data/review.csv", metavar="FILE", help="CSV to write (default data/review.csv)")
    review.add_argument("--limit", type=int, default=50, metavar="N", help="rows (default 50)")

    codebook = sub.add_parser("codebook", help="codebook tools: import a taxonomy as a codebook",
                              description="Codebook tools.")
    codebook_sub = codebook.add_subparsers(dest="codebook_command", required=True, metavar="ACTION")
    imp = codebook_sub.add_parser(
        "import-semeval",
        help="write a codebook from a SemEval-2025 Task 10 folder (taxonomy + explanations)",
        description="Write a codebook YAML with one narrative per coarse SemEval narrative; examples are its "
                    "subnarrative statements and the human explanations of labelled documents.",
    )
    imp.add_argument("folder", metavar="DIR", help="folder with subtask2_narratives.txt, subtask2_subnarratives.txt, labels.tsv")
    imp.add_argument("--out", required=True, metavar="FILE", help="codebook YAML to write")

    alerts = sub.add_parser("alerts", help="list spike and emerging-narrative alerts (read-only)",
                            description="List the alerts the last run computed, newest first.")
    alerts.add_argument("--db", default=None, metavar="PATH", help=f"DuckDB database (default: {DEFAULT_DB_PATH})")
    alerts.add_argument("--since", metavar="YYYY-MM-DD", help="only alerts on or after this day")
    alerts.add_argument("--limit", type=int, default=30, metavar="N", help="at most N alerts (default 30)")

    narrative = sub.add_parser("narrative", help="analyst decisions on narratives: list, rename, merge, reject, promote",
                               description="Decisions are stored in narrative_decisions and re-applied after every run.")
    nsub = narrative.add_subparsers(dest="narrative_command", required=True, metavar="ACTION")
    nlist = nsub.add_parser("list", help="list narratives with status and size")
    for p_ in (nlist,):
        p_.add_argument("--db", default=None, metavar="PATH", help="DuckDB database")
    for name, helptext in (("rename", "give a narrative a new label"), ("merge", "merge a discovered narrative into another"),
                           ("reject", "reject a discovered narrative (its paragraphs stay unassigned)"),
                           ("promote", "copy a discovered narrative into the codebook as a named narrative")):
        p_ = nsub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        p_.add_argument("narrative_id", metavar="ID", help="the narrative (e.g. d_1a2b3c4d5e)")
        if name == "rename":
            p_.add_argument("label", metavar="LABEL", help="the new label")
        if name == "merge":
            p_.add_argument("target", metavar="TARGET_ID", help="the narrative it merges into")
        if name == "promote":
            p_.add_argument("--id", required=True, dest="new_id", metavar="CODEBOOK_ID", help="lower_snake_case id for the codebook")
            p_.add_argument("--label", default="", metavar="LABEL", help="human label (default: its claim label)")
            p_.add_argument("--codebook", default=None, metavar="PATH", help="codebook YAML to add it to (default: NARRATIVES_CODEBOOK or the bundled one)")
        p_.add_argument("--note", metavar="TEXT", help="why (stored with the decision)")
        p_.add_argument("--db", default=None, metavar="PATH", help="DuckDB database")

    report = sub.add_parser("report", help="write the daily HTML report (self-contained, charts inlined)",
                            description="Write a self-contained HTML page for the week ending --day: alerts, top narratives "
                                        "with change and evidence paragraphs (outlet, date, link), charts.")
    report.add_argument("--db", default=None, metavar="PATH", help=f"DuckDB database (default: {DEFAULT_DB_PATH})")
    report.add_argument("--day", metavar="YYYY-MM-DD", help="last day of the report week (default: the latest publication day)")
    report.add_argument("--out", default="data/report.html", metavar="FILE", help="HTML file to write (default: data/report.html)")
    report.add_argument("--language", metavar="CODE", help="only paragraphs in this language (ISO 639-1, e.g. ru); default all")

    search = sub.add_parser("search", help="keyword (BM25) and semantic search over paragraphs",
                            description="Search paragraphs by keywords (BM25 full-text index) and by meaning (embedding "
                                        "similarity); filters by outlet and dates.")
    search.add_argument("query", metavar="TEXT", help="what to look for")
    search.add_argument("--mode", choices=["both", "keyword", "semantic"], default="both", help="which search (default both)")
    search.add_argument("--outlet", metavar="PATTERN", help="outlet filter, SQL ILIKE pattern, e.g. '%%sputnik%%'")
    search.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day")
    search.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day")
    search.add_argument("--limit", type=int, default=10, metavar="N", help="results per search (default 10)")
    search.add_argument("--model", default=None, metavar="NAME|PATH", help="the model the database was embedded with (default all-MiniLM-L6-v2)")
    search.add_argument("--db", default=None, metavar="PATH", help=f"DuckDB database (default: {DEFAULT_DB_PATH})")

    sql = sub.add_parser("sql", help="run SQL on the database read-only, files outside it out of reach",
                         description="Run one SQL statement on the published database and print the result; without a "
                                     "statement, read statements from the terminal. Read-only, and with DuckDB's external "
                                     "access disabled: COPY TO, read_text/read_csv of other files, ATTACH, EXPORT and "
                                     "extension installs are refused.")
    sql.add_argument("statement", nargs="?", metavar="SQL", help="the statement (omit to type statements, ';' ends each)")
    sql.add_argument("--db", default=None, metavar="PATH", help=f"DuckDB database (default: {DEFAULT_DB_PATH})")

    summary = sub.add_parser("summary", help="print what a database holds (read-only)",
                             description="Print articles, paragraphs, embeddings and quarantine counts of a database, read-only.")
    summary.add_argument("--db", default=None, metavar="PATH", help=f"DuckDB database (default: {DEFAULT_DB_PATH})")

    setup = sub.add_parser("setup", help="create or migrate the tables of a warehouse (DuckLake: before any concurrent run)",
                           description="Create or migrate every table, the embedding tables sized for the model included. "
                                       "`run` does it first; a DuckDB file does it whenever it is opened for writing.")
    setup.add_argument("--db", default=None, metavar="PATH",
                       help="DuckDB file, 'ducklake:<catalog>.ducklake' or 'ducklake:postgres:dbname=... host=...'")
    setup.add_argument("--model", default=None, metavar="PATH", help="the embedding model (default: the bundled all-MiniLM-L6-v2)")
    return parser


def _instance(settings: Settings):
    import dagster as dg

    if settings.dagster_home is not None:
        settings.dagster_home.mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.from_config(str(settings.dagster_home))
    return dg.DagsterInstance.ephemeral()


def _run_config(args: argparse.Namespace, log_level: str) -> dict:
    ingest = {"paths": [str(Path(p)) for p in args.input] if args.input else None,
              "list_separator": args.list_separator, "format": args.format, "force": args.force}
    for name in _COLUMN_OPTIONS:
        ingest[f"{name}_column"] = getattr(args, f"{name}_column")
    ingest = {k: v for k, v in ingest.items() if v is not None}
    return {"ops": {"ingest": {"config": ingest}}, "loggers": {"console": {"config": {"log_level": log_level}}}}


def cmd_run(args: argparse.Namespace) -> int:
    warnings.filterwarnings("ignore", category=Warning, module="dagster")
    import dagster as dg

    from narrative_tracker.db import DatabaseLockedError, publish
    from narrative_tracker.warehouse import WarehouseError, from_setting
    from pipelines.definitions import build_definitions, range_tags

    for path in args.input or []:
        if not Path(path).exists():
            print(f"narratives: input path does not exist: {path}", file=sys.stderr)
            return 2
    try:
        parallel_ok = from_setting(args.db).parallel
    except WarehouseError as exc:
        print(f"narratives: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1 and not parallel_ok:
        print("narratives: --workers needs DuckLake with a PostgreSQL catalog (ducklake:postgres:...); a DuckDB file "
              "or a DuckLake catalog file has one writer", file=sys.stderr)
        return 2
    defs = build_definitions(args.settings)
    instance = _instance(args.settings)
    log_level = "DEBUG" if args.verbose else "WARNING"
    began = time.perf_counter()
    config = _run_config(args, log_level)

    if not args.input:
        return _reprocess(args, defs, config, instance, began)
    print(f"[1/2] ingest -> {_shown(args.db)}", flush=True)
    try:
        _setup_lake(args)
        ingest = defs.resolve_job_def("ingest_job").execute_in_process(
            run_config=config,
            instance=instance,
            raise_on_error=False,
        )
    except DatabaseLockedError as exc:
        print(f"narratives: {exc}", file=sys.stderr)
        return 3
    except WarehouseError as exc:
        print(f"narratives: {exc}", file=sys.stderr)
        return 2
    if not ingest.success:
        return _failed(ingest)
    meta = {e.asset_key.path[-1]: e.materialization.metadata for e in ingest.get_asset_materialization_events()}
    first = meta["articles"]["first_partition"].value
    last = meta["articles"]["last_partition"].value
    t_ingest = time.perf_counter() - began
    if not first:
        print("      no articles in the input; nothing to process")
        publish(args.db)
        _print_summary(args.db, None, None)
        return 0

    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    state = _state(args)
    if state == _last_state(args.db) and not (args.force or args.all_days):
        print(f"      nothing new since the last complete run (ingest {t_ingest:.1f}s): no paragraphs, embeddings or "
              "narratives to redo. --force redoes them anyway.")
        publish(args.db)
        _print_summary(args.db, start, end, ingest_meta=meta)
        return 0
    if args.all_days:
        from narrative_tracker.db import connection

        with connection(args.db) as con:
            lo, hi = con.execute("SELECT min(partition_date), max(partition_date) FROM articles").fetchone()
        start, end = min(start, lo), max(end, hi)
    if args.workers > 1:
        return _run_parallel(args, defs, config, instance, start, end, state, began)
    print(f"[2/2] paragraphs, embeddings, narratives for {start} .. {end} ({(end - start).days + 1} daily partitions, one run)", flush=True)
    daily = defs.resolve_job_def("daily_job").execute_in_process(
        run_config={"loggers": config["loggers"]},
        instance=instance,
        tags=range_tags(start, end),
        raise_on_error=False,
    )
    if not daily.success:
        return _failed(daily)
    _save_state(args.db, state)
    publish(args.db)  # the daily job published already; this adds the run state
    emb = {e.asset_key.path[-1]: e.materialization.metadata for e in daily.get_asset_materialization_events()}["paragraph_embeddings"]
    checks = [(c.check_name, c.passed, c.severity) for c in daily.get_asset_check_evaluations()]
    total = time.perf_counter() - began
    def verdict(passed: bool, severity) -> str:
        return "passed" if passed else ("WARNING" if severity == dg.AssetCheckSeverity.WARN else "FAILED")

    print(
        f"      ingest {t_ingest:.1f}s; embedded {emb['texts_embedded'].value} new texts "
        f"({emb['texts_per_second'].value}/s); checks: "
        + ", ".join(f"{n} {verdict(p, sev)}" for n, p, sev in checks)
    )
    print(f"      done in {total:.1f}s (runs {ingest.run_id[:8]}, {daily.run_id[:8]}"
          + (f" — recorded in {args.settings.dagster_home})" if args.settings.dagster_home else ")"))
    _print_summary(args.db, start, end, ingest_meta=meta)
    # a failed ERROR check fails the command; WARN checks (recent alerts) only show
    return 0 if all(p or sev == dg.AssetCheckSeverity.WARN for _, p, sev in checks) else 1


def _selected(config: dict, assets: tuple[str, ...]) -> dict:
    """The run config with op config only for the selected assets."""
    return {k: v for k, v in config.items() if k != "ops"} | {"ops": {k: v for k, v in config["ops"].items() if k in assets}}


def _run_parallel(args, defs, config: dict, instance, start: dt.date, end: dt.date, state: str, began: float) -> int:
    """``--workers N``: the cross-partition steps once in this process, the daily assets in N worker processes."""
    import dagster as dg

    from narrative_tracker.db import connection
    from pipelines import parallel
    from pipelines.definitions import range_tags

    with connection(args.db) as con:
        weights = dict(con.execute("SELECT partition_date, count(*) FROM articles WHERE partition_date BETWEEN $s AND $e GROUP BY ALL",
                                   {"s": start, "e": end}).fetchall())
    ranges = parallel.split_days(start, end, args.workers, weights)
    print(f"[2/2] {start} .. {end}: codebook, then {len(ranges)} workers over ranges of days "
          f"({', '.join(f'{a}..{b}' for a, b in ranges)}), then discovery, trends, alerts, search, publish", flush=True)
    job = defs.resolve_job_def("narratives_job")

    def serial(assets: tuple[str, ...]):
        return job.execute_in_process(run_config=_selected(config, assets), instance=instance, tags=range_tags(start, end),
                                      asset_selection=[dg.AssetKey(k) for k in assets], raise_on_error=False)

    before = serial(parallel.BEFORE)
    if not before.success:
        return _failed(before)
    results = parallel.run_workers(args.settings, _selected(config, parallel.WORKER_ASSETS), ranges)
    for r in results:
        print(f"      worker {r.start}..{r.end}: {'ok' if r.success else 'FAILED'} in {r.seconds:.1f}s, "
              f"{r.conflict_retries} conflict retries{(' — ' + r.error) if r.error else ''}")
    if not all(r.success for r in results):
        return 1
    after = serial(parallel.AFTER)
    if not after.success:
        return _failed(after)
    _save_state(args.db, state)
    print(f"      done in {time.perf_counter() - began:.1f}s")
    _print_summary(args.db, start, end)
    return 0


def _reprocess(args: argparse.Namespace, defs, config: dict, instance, began: float) -> int:
    """``narratives run`` without ``--input``: ingest nothing, redo every day the database holds (after a codebook
    or cleaning change). The bundled sample is never ingested unless named with ``--input``."""
    from narrative_tracker.db import connection, publish, working_path
    from narrative_tracker.warehouse import is_lake_url
    from pipelines.definitions import range_tags

    if not is_lake_url(args.db) and not Path(args.db).exists() and not working_path(args.db).exists():
        print(f"narratives: no database at {args.db} to re-process, and no --input given. Give the files to ingest "
              "with --input PATH (the bundled sample corpus: --input data/sample).", file=sys.stderr)
        return 2
    with connection(args.db) as con:
        start, end = con.execute("SELECT min(partition_date), max(partition_date) FROM articles").fetchone()
    if start is None:
        print(f"      {args.db} holds no articles; nothing to re-process (give --input PATH to ingest files)")
        publish(args.db)
        return 0
    print(f"[1/1] no --input: re-processing every day {args.db} holds, {start} .. {end} (nothing is ingested)", flush=True)
    daily = defs.resolve_job_def("daily_job").execute_in_process(
        run_config={"loggers": config["loggers"]}, instance=instance, tags=range_tags(start, end), raise_on_error=False,
    )
    if not daily.success:
        return _failed(daily)
    _save_state(args.db, _state(args))
    publish(args.db)
    print(f"      done in {time.perf_counter() - began:.1f}s")
    _print_summary(args.db, start, end)
    return 0


def _state(args: argparse.Namespace) -> str:
    """What a complete run depends on: the articles present, the codebook, the model."""
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.db import connection
    from narrative_tracker.models import stable_hash

    with connection(args.db) as con:  # the working file: ingest has just written it
        count, latest = con.execute("SELECT count(*), max(ingested_at) FROM articles").fetchone()
    return stable_hash(str(count), str(latest), load_codebook(args.codebook, model=args.model or None).fingerprint, args.model or "default")


def _last_state(db_path: str) -> str | None:
    from narrative_tracker.db import connection

    with connection(db_path) as con:
        row = con.execute("SELECT value FROM pipeline_meta WHERE key = 'last_complete_run'").fetchone()
    return row[0] if row else None


def _save_state(db_path: str, state: str) -> None:
    from narrative_tracker.db import connection, set_meta

    with connection(db_path) as con:
        set_meta(con, "last_complete_run", state)


def _failed(result) -> int:
    """Print why a Dagster run failed; exit status 3 when a database lock stopped it, else 1."""
    locked = False
    for event in result.all_events:
        if event.is_step_failure:
            err = event.step_failure_data.error
            chain = [e for e in (err, err.cause if err else None) if e is not None]
            lock = next((e for e in chain if e.cls_name == "DatabaseLockedError"), None)
            if lock is not None:
                locked = True
                print(f"narratives: {lock.message.removeprefix('narrative_tracker.db.DatabaseLockedError: ').strip()}", file=sys.stderr)
            else:
                print(f"narratives: step {event.step_key} failed: {err.cause.message if err.cause else err.message}", file=sys.stderr)
    return 3 if locked else 1


def _print_summary(db_path: str, start: dt.date | None, end: dt.date | None, ingest_meta: dict | None = None) -> None:
    import polars as pl

    from narrative_tracker.surfaces.summary import database_summary

    summary = database_summary(db_path)
    with pl.Config(tbl_hide_column_data_types=True, tbl_hide_dataframe_shape=True, fmt_str_lengths=70, tbl_rows=20, tbl_width_chars=160):
        if ingest_meta:
            a, q = ingest_meta["articles"], ingest_meta["quarantine"]
            print(
                f"\nThis run: {a['files_seen'].value} paths seen = {a['files_ingested'].value} ingested + "
                f"{a['files_quarantined'].value} quarantined + {a['files_skipped'].value} skipped "
                f"({a['files_unchanged'].value} unchanged{''.join(f', {n} {r}' for r, n in a['skip_reasons'].value.items() if not r.startswith('unchanged'))}); "
                f"{a['records_seen'].value} records = {a['articles_parsed'].value} articles "
                f"({a['new_articles'].value} new, {a['articles_parsed'].value - a['new_articles'].value} already present) "
                f"+ {q['quarantined_this_run'].value} quarantined ({q['new_records'].value} new)."
            )
        print(f"\nDatabase {db_path}: " + ", ".join(f"{v} {k}" for k, v in summary["counts"].items()))
        print("\nArticles:")
        print(summary["articles"])
        if summary["narratives"].height:
            print("\nNarratives (paragraphs, articles, outlets; the strongest evidence paragraph):")
            for row in summary["narratives"].iter_rows(named=True):
                print(f"  [{row['origin']}] {row['narrative_id']} — {row['label']}: "
                      f"{row['paragraphs']} paragraphs, {row['articles']} articles, {row['outlets']} outlets")
                if row["evidence"]:
                    text = row["evidence"]
                    print(f"      “{text[:220]}{'…' if len(text) > 220 else ''}” ({row['evidence_outlet'] or 'unknown outlet'}, {row['evidence_day']})")
        if summary["quarantine"].height:
            print("\nQuarantine (reason, records):")
            print(summary["quarantine"])
        print(f"\nAnalyse it (runs never wait for it): {_analyse_hint(db_path)}    (tables: articles, paragraphs, narratives, paragraph_narratives; views: narrative_daily, narrative_outlets, narrative_first_seen)")


def _analyse_hint(db_path: str) -> str:
    from narrative_tracker.warehouse import is_lake_url

    if is_lake_url(db_path):
        return f"narratives sql --db '{db_path}'  (the lake attached read-only)"
    return f"duckdb -readonly {db_path}  (the published copy)"


def _shown(path: str) -> str:
    from narrative_tracker.warehouse import from_setting

    return from_setting(path).describe()


def _setup_lake(args: argparse.Namespace) -> None:
    """DuckLake: create / migrate the tables once, before any stage (the stages never run DDL there)."""
    from narrative_tracker import db
    from narrative_tracker.embeddings.embed import make_embedder
    from narrative_tracker.warehouse import is_lake_url

    if is_lake_url(args.db):
        dim = make_embedder(args.model, precision=args.precision).dim
        db.setup(args.db, dim=dim)


def _missing_db(path: str) -> bool:
    """True (after saying so) when there is no published database at ``path``."""
    from narrative_tracker.warehouse import WarehouseError, from_setting

    try:
        wh = from_setting(path)
    except WarehouseError as exc:
        print(f"narratives: {exc}", file=sys.stderr)
        return True
    if wh.kind == "ducklake-postgres":
        return False  # connecting says clearly when the server or the tables are missing
    if Path(wh.location).exists():
        return False
    print(f"narratives: no database at {path}; run `narratives run` first", file=sys.stderr)
    return True


def cmd_summary(args: argparse.Namespace) -> int:
    if _missing_db(args.db):
        return 2
    _print_summary(args.db, None, None)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.embeddings.embed import make_embedder
    from narrative_tracker.evaluation.evaluate import (
        DEFAULT_LABELLED,
        calibration_table,
        evaluate_paragraphs,
        evaluate_stance,
        tune_detection,
    )

    if args.stance_pairs:
        from narrative_tracker.evaluation.stance_eval import evaluate_stance_pairs

        pairs = evaluate_stance_pairs(args.stance_pairs, folds=args.folds, quiet=args.json)
        if args.json:
            print(json.dumps(pairs, indent=2))
            return 0
        print(f"stance on {args.stance_pairs} ({pairs['pairs']} pairs, {pairs['mode']}): macro-F1 {pairs['macro_f1']:.3f}, "
              f"FNC-1 score {pairs['fnc_score']:.3f}, accuracy {pairs['accuracy']:.3f}")
        print(f"  {'class':<12}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}")
        for name, row in pairs["per_class"].items():
            print(f"  {name:<12}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>9}")
        return 0
    embedder = make_embedder(args.model, precision=args.precision)
    codebook = load_codebook(args.codebook, model=embedder.name)
    labelled = args.labelled or DEFAULT_LABELLED
    result = {"codebook": codebook.path, "labelled": str(labelled), "model": embedder.name,
              "parts": evaluate_paragraphs(codebook, embedder, labelled)}
    if args.tune:
        result["tuned"] = tune_detection(codebook, embedder, labelled)
    if args.discovery_db:
        from narrative_tracker.db import connection
        from narrative_tracker.evaluation.evaluate import discovery_agreement_db

        with connection(args.discovery_db, read_only=True) as con:
            result["discovery"] = discovery_agreement_db(con)
    if args.documents:
        from narrative_tracker.db import connection
        from narrative_tracker.evaluation.evaluate import evaluate_documents

        with connection(args.db, read_only=True) as con:
            result["documents"] = evaluate_documents(con, args.documents)
    if args.semeval:
        from narrative_tracker.evaluation.semeval import cross_validate, load_semeval

        result["semeval_cv"] = cross_validate(load_semeval(args.semeval), embedder, folds=args.folds)
        if args.semeval_train:
            from narrative_tracker.evaluation.semeval import transfer

            result["semeval_transfer"] = transfer(load_semeval(args.semeval_train), load_semeval(args.semeval), embedder)
    result["stance"] = evaluate_stance(labelled)
    result["calibration"] = calibration_table(codebook, embedder, labelled)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"codebook {codebook.path}\nlabelled {labelled}\nmodel    {embedder.name}\n")
    for part, table in result["parts"].items():
        print(f"{part} ({table['paragraphs']} paragraphs): macro-F1 {table['macro_f1']:.3f}")
        print(f"  {'narrative':<22}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}")
        for name in codebook.ids + ["micro"]:
            row = table[name]
            print(f"  {name:<22}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>9}")
        print()
    if args.tune:
        print("grid search on the tune part chose:", json.dumps(result["tuned"]))
    stance = result["stance"]["test"]
    print(f"stance on the test part ({stance['pairs']} paragraph-narrative pairs): accuracy {stance['accuracy']:.3f}")
    for name in ("asserts", "reports", "refutes"):
        row = stance[name]
        print(f"  {name:<22}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>9}")
    if result["calibration"]:
        cal = result["calibration"]
        print(f"\ncalibrated confidence on the test part (Brier {cal['brier']:.4f}): "
              + ", ".join(f"{b['bin']}: {b['mean_confidence']:.2f} vs {b['observed_rate']:.2f} (n={b['pairs']})" for b in cal["bins"]))
    if args.discovery_db:
        print(f"\ndiscovery vs tags in {args.discovery_db}:", json.dumps(result["discovery"]))
    if args.documents:
        docs = result["documents"]
        print(f"\ndocuments ({docs['documents']}, {docs['documents_in_database']} in the database): "
              f"samples-F1 {docs['samples_f1']:.3f}, macro-F1 {docs['macro_f1']:.3f}")
    if args.semeval:
        print(f"\nSemEval {args.folds}-fold cross-validation ({result['semeval_cv']['documents']} documents), samples-F1:")
        for method in ("zero_shot", "prototype", "logistic"):
            row = result["semeval_cv"][method]
            print(f"  {method:<12} coarse {row['coarse_samples_f1']:.3f}   fine {row['fine_samples_f1']:.3f}")
        if args.semeval_train:
            t = result["semeval_transfer"]
            print(f"trained on {args.semeval_train} ({t['train_documents']} documents), scored on {args.semeval} "
                  f"({t['test_documents']}):")
            for method in ("prototype", "logistic"):
                print(f"  {method:<12} coarse {t[method]['coarse_samples_f1']:.3f}   fine {t[method]['fine_samples_f1']:.3f}")
    return 0


def cmd_codebook(args: argparse.Namespace) -> int:
    from narrative_tracker.narratives.codebook_edit import write_codebook
    from narrative_tracker.evaluation.semeval import codebook_from_semeval, load_semeval

    book = codebook_from_semeval(load_semeval(args.folder))
    loaded = write_codebook(args.out, book)  # temporary file, validated, renamed into place
    print(f"wrote {args.out}: {len(loaded.narratives)} narratives, {sum(len(n.examples) for n in loaded.narratives)} examples")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from narrative_tracker.db import connection

    with connection(args.db, read_only=True) as con:
        rows = con.execute(
            "SELECT day, kind, narrative_id, message FROM alerts WHERE $since IS NULL OR day >= $since::DATE "
            "ORDER BY day DESC, kind, narrative_id LIMIT $limit",
            {"since": args.since, "limit": args.limit},
        ).fetchall()
    if not rows:
        print("no alerts")
    for day, kind, nid, message in rows:
        print(f"{day}  {kind:<8}  {nid:<22}  {message}")
    return 0


def cmd_narrative(args: argparse.Namespace) -> int:
    from narrative_tracker.db import connection, publish
    from narrative_tracker.narratives.decisions import promote_to_codebook, record_decision

    try:
        if args.narrative_command == "list":
            with connection(args.db, read_only=True) as con:
                for row in con.execute(
                    "SELECT narrative_id, origin, coalesce(status, 'active'), paragraphs, label, array_to_string(terms, ', ') "
                    "FROM narratives ORDER BY origin, paragraphs DESC, narrative_id"
                ).fetchall():
                    print(f"{row[0]:<24} {row[1]:<10} {row[2]:<9} {row[3]:>6}  {row[4]}" + (f"  [{row[5]}]" if row[5] else ""))
            return 0
        with connection(args.db) as con:
            if args.narrative_command == "rename":
                record_decision(con, args.narrative_id, "rename", args.label, args.note)
            elif args.narrative_command == "merge":
                record_decision(con, args.narrative_id, "merge", args.target, args.note)
            elif args.narrative_command == "reject":
                record_decision(con, args.narrative_id, "reject", None, args.note)
            elif args.narrative_command == "promote":
                from narrative_tracker.narratives.codebook import codebook_path

                path = codebook_path(args.codebook)
                examples = promote_to_codebook(con, args.narrative_id, args.new_id, args.label or None, path)
                print(f"appended {args.new_id} to {path} with {len(examples)} examples; "
                      "run `narratives run --db DB` (no --input) to detect it on every day")
    except ValueError as exc:  # a lock (DatabaseLockedError) goes to main(): exit status 3, like every command
        print(f"narratives: {exc}", file=sys.stderr)
        return 2
    publish(args.db)
    print(f"{args.narrative_command} {args.narrative_id}: recorded and published; it is re-applied after every run")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from narrative_tracker.surfaces.report import write_report

    if _missing_db(args.db):
        return 2
    day = dt.date.fromisoformat(args.day) if args.day else None
    path = write_report(args.db, args.out, day, language=args.language)
    print(f"report written: {path.resolve()}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from narrative_tracker.db import connection
    from narrative_tracker.surfaces.search import SearchFilters, keyword_search, semantic_search

    filters = SearchFilters(args.outlet, dt.date.fromisoformat(args.date_from) if args.date_from else None,
                            dt.date.fromisoformat(args.date_to) if args.date_to else None, args.limit)
    results = []
    with connection(args.db, read_only=True) as con:
        if args.mode in ("both", "keyword"):
            try:
                results.append(("keyword (BM25)", keyword_search(con, args.query, filters)))
            except RuntimeError as exc:
                print(f"narratives: {exc}", file=sys.stderr)
                if args.mode == "keyword":
                    return 2
        if args.mode in ("both", "semantic"):
            from narrative_tracker.embeddings.embed import make_embedder

            results.append(("semantic (cosine)", semantic_search(con, make_embedder(args.model, precision=args.precision), args.query, filters)))
    for title, frame in results:
        print(f"\n{title}: {frame.height} results")
        for row in frame.iter_rows(named=True):
            narratives = ", ".join(row["narratives"] or []) or "-"
            print(f"  {row['score']:.3f}  {row['day']}  {row['outlet']}  [{narratives}]\n      {row['text'][:300]}")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from narrative_tracker import db
    from narrative_tracker.embeddings.embed import make_embedder
    from narrative_tracker.warehouse import WarehouseError

    try:
        db.setup(args.db, dim=make_embedder(args.model).dim)
    except WarehouseError as exc:
        print(f"narratives: {exc}", file=sys.stderr)
        return 2
    print(f"{_shown(args.db)}: tables ready")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """SQL on the published database: read-only, and no file outside it can be read or written (COPY TO,
    read_text, read_csv, ATTACH, EXPORT, INSTALL/LOAD are refused; ``db.SANDBOX_CONFIG``)."""
    from narrative_tracker.db import connect_sandboxed

    if _missing_db(args.db):
        return 2
    con = connect_sandboxed(args.db)
    try:
        if args.statement is not None:
            return _run_sql(con, args.statement)
        print(f"read-only SQL on {args.db} (files outside it cannot be read or written). End a statement with ';'. "
              "Ctrl-D quits.", file=sys.stderr)
        buffer: list[str] = []
        while True:
            try:
                line = input("sql> " if not buffer else " ..> ")
            except EOFError:
                break
            buffer.append(line)
            if line.rstrip().endswith(";"):
                _run_sql(con, "\n".join(buffer))
                buffer = []
        return 0
    finally:
        con.close()


def _run_sql(con, statement: str) -> int:
    import duckdb
    import polars as pl

    try:
        frame = con.execute(statement).pl()
    except duckdb.PermissionException as exc:
        print(f"narratives: refused: {exc}. `narratives sql` reads only the database; to export, use "
              "`duckdb -readonly` yourself.", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - show DuckDB's own message
        print(f"narratives: {exc}", file=sys.stderr)
        return 1
    with pl.Config(tbl_rows=50, fmt_str_lengths=80, tbl_width_chars=200, tbl_hide_column_data_types=True):
        print(frame)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from narrative_tracker.db import connection
    from narrative_tracker.narratives.review import export_review

    with connection(args.db, read_only=True) as con:
        count = export_review(con, args.out, args.limit)
    print(f"wrote {count} assignments to {args.out}: fill correct_narrative / correct_stance, then "
          f"`narratives train-stance --pairs DIR --review {args.out}`")
    return 0


def cmd_train_stance(args: argparse.Namespace) -> int:
    from narrative_tracker.evaluation.stance_eval import train_stance_model

    if not args.pairs and args.no_labelled and not args.review:
        print("narratives: train-stance needs --pairs and/or the labelled paragraphs", file=sys.stderr)
        return 2
    try:
        extra = None
        if args.review:
            from narrative_tracker.narratives.review import load_review

            extra = ([], [], [])
            for path in args.review:
                for have, more in zip(extra, load_review(path)):
                    have.extend(more)
        model = train_stance_model(args.pairs or None, False if args.no_labelled else (args.labelled or None),
                                   out_dir=args.out or None, version=args.version or None, extra=extra)
    except (FileNotFoundError, ValueError) as exc:
        print(f"narratives: {exc}", file=sys.stderr)
        return 2
    print(f"stance model {model.version}: {model.meta['class_counts']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if sys.stderr.isatty():
        enable_progress()  # progress bars on ingest and embedding
    # options given on the command line win over the environment (NARRATIVES_*), which wins over the defaults
    settings = load_settings().replace(db=getattr(args, "db", None), model=getattr(args, "model", None),
                                       precision=getattr(args, "precision", None), codebook=getattr(args, "codebook", None))
    args.settings = settings
    args.db, args.model, args.precision, args.codebook = str(settings.db), settings.model, settings.precision, settings.codebook
    commands = {"run": cmd_run, "summary": cmd_summary, "evaluate": cmd_evaluate, "train-stance": cmd_train_stance, "review": cmd_review,
                "codebook": cmd_codebook, "alerts": cmd_alerts, "narrative": cmd_narrative, "report": cmd_report, "search": cmd_search,
                "sql": cmd_sql, "setup": cmd_setup}
    from narrative_tracker.db import DatabaseLockedError

    try:
        return commands[args.command](args)
    except DatabaseLockedError as exc:  # one lock story for every command: which file, who, what to do
        print(f"narratives: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
