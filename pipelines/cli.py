"""``narratives``: the command line. Each command parses its arguments (``pipelines/cli_args.py``) and calls one
function of the core (or ``pipelines.run.run_pipeline`` for ``run``); this module only turns results into text
and errors into one line on stderr with an exit status:

- 0 ok; 1 failed (a failed check, a failed step, a bad statement); 2 a bad request (missing database or input,
  bad option or URL); 3 the database is locked by another process.

Every run goes through Dagster (``execute_in_process``) and is recorded in the instance that belongs to its
database (``pipelines.run.dagster_instance``: ``DAGSTER_HOME`` when set, else ``<db>.dagster/`` beside it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from narrative_tracker.settings import enable_progress, load_settings
from pipelines.cli_args import COLUMN_OPTIONS, parser


class CommandError(RuntimeError):
    """A request the user can fix: printed as one line, exit status ``status``."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import RunOptions, run_pipeline

    ingest = {"list_separator": args.list_separator, "format": args.format, "force": args.force}
    ingest |= {f"{name}_column": getattr(args, f"{name}_column") for name in COLUMN_OPTIONS}
    options = RunOptions(inputs=tuple(args.input or ()), ingest={k: v for k, v in ingest.items() if v is not None},
                         all_days=args.all_days, force=args.force, workers=args.workers, verbose=args.verbose)
    return run_pipeline(args.settings, options, say=lambda line: print(line, flush=True))


def cmd_summary(args: argparse.Namespace) -> int:
    from narrative_tracker.surfaces.summary import summary_text

    print(summary_text(args.db))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from narrative_tracker.evaluation import suite

    if args.stance_pairs:
        pairs = suite.evaluate_stance_pairs(args.stance_pairs, folds=args.folds, quiet=args.json)
        print(json.dumps(pairs, indent=2) if args.json else suite.format_stance_pairs(pairs, args.stance_pairs))
        return 0
    if args.semeval_train and len(args.semeval) != 1:
        print("narratives: --semeval-train scores one --semeval folder", file=sys.stderr)
        return 2
    request = suite.EvaluationRequest(
        model=args.model, precision=args.precision, codebook=args.codebook, labelled=args.labelled or None, tune=args.tune,
        discovery_db=args.discovery_db,
        discovery_since=dt.date.fromisoformat(args.discovery_since).isoformat() if args.discovery_since else None,
        documents=args.documents, db=args.db, semeval=args.semeval[0] if len(args.semeval) == 1 else "",
        semeval_joint=tuple(args.semeval) if len(args.semeval) > 1 else (), semeval_train=args.semeval_train, folds=args.folds,
        heads=str(args.settings.heads))
    result = suite.evaluate(request)
    print(json.dumps(result, indent=2) if args.json else suite.format_result(result, request))
    return 0


def cmd_codebook(args: argparse.Namespace) -> int:
    from narrative_tracker.material import codebook_from_semeval, load_semeval
    from narrative_tracker.narratives.codebook_edit import write_codebook

    loaded = write_codebook(args.out, codebook_from_semeval(load_semeval(args.folder)))  # validated, renamed into place
    print(f"wrote {args.out}: {len(loaded.narratives)} narratives, {sum(len(n.examples) for n in loaded.narratives)} examples")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from narrative_tracker.db import connection
    from narrative_tracker.narratives.alerts import recent_alerts

    with connection(args.db, read_only=True) as con:
        rows = recent_alerts(con, args.since, args.limit)
    print("\n".join(f"{day}  {kind:<8}  {nid:<22}  {message}" for day, kind, nid, message in rows) or "no alerts")
    return 0


def cmd_narrative(args: argparse.Namespace) -> int:
    from narrative_tracker.db import connection, publish
    from narrative_tracker.narratives.decisions import list_narratives, promote_to_codebook, record_decision

    action = args.narrative_command
    if action == "list":
        with connection(args.db, read_only=True) as con:
            for nid, origin, status, size, label, terms, parent in list_narratives(con):
                print(f"{nid:<24} {origin:<10} {status:<9} {size:>6}  {label}" + (f"  [{terms}]" if terms else "")
                      + (f"  (inside {parent})" if parent else ""))
        return 0
    try:
        with connection(args.db) as con:
            if action == "promote":
                examples = promote_to_codebook(con, args.narrative_id, args.new_id, args.label or None, args.codebook)
                print(f"appended {args.new_id} to {args.codebook} with {len(examples)} examples; "
                      "run `narratives run --db DB` (no --input) to detect it on every day")
            else:
                value = {"rename": getattr(args, "label", None), "merge": getattr(args, "target", None)}.get(action)
                record_decision(con, args.narrative_id, action, value, args.note)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    publish(args.db)
    print(f"{action} {args.narrative_id}: recorded and published; it is re-applied after every run")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from narrative_tracker.surfaces.report import write_report

    path = write_report(args.db, args.out, dt.date.fromisoformat(args.day) if args.day else None, language=args.language)
    print(f"report written: {path.resolve()}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from narrative_tracker.surfaces.search import SearchFilters, run_search

    filters = SearchFilters(args.outlet, dt.date.fromisoformat(args.date_from) if args.date_from else None,
                            dt.date.fromisoformat(args.date_to) if args.date_to else None, args.limit)
    try:
        results = run_search(args.db, args.query, filters, mode=args.mode, model=args.model, precision=args.precision,
                             warn=lambda message: print(f"narratives: {message}", file=sys.stderr))
    except RuntimeError as exc:  # the keyword index is missing and only keyword search was asked for
        raise CommandError(str(exc)) from None
    for title, frame in results:
        print(f"\n{title}: {frame.height} results")
        for row in frame.iter_rows(named=True):
            narratives = ", ".join(row["narratives"] or []) or "-"
            print(f"  {row['score']:.3f}  {row['day']}  {row['outlet']}  [{narratives}]\n      {row['text'][:300]}")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from narrative_tracker import schema
    from narrative_tracker.embeddings.embed import make_embedder
    from narrative_tracker.warehouse import from_setting

    schema.setup(args.db, dim=make_embedder(args.model).dim)
    print(f"{from_setting(args.db).describe()}: tables ready")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """SQL on the published database: read-only, and no file outside it can be read or written (COPY TO,
    read_text, read_csv, ATTACH, EXPORT, INSTALL/LOAD are refused; ``db.SANDBOX_CONFIG``)."""
    from narrative_tracker.db import connect_sandboxed

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
                return 0
            buffer.append(line)
            if line.rstrip().endswith(";"):
                _run_sql(con, "\n".join(buffer))
                buffer = []
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
          f"`narratives train --review {args.out}` (detection) and `narratives train-stance --pairs DIR --review {args.out}` (stance)")
    return 0


def cmd_train_stance(args: argparse.Namespace) -> int:
    from narrative_tracker.evaluation.stance_eval import train_stance_model
    from narrative_tracker.narratives.review import load_reviews

    if not args.pairs and args.no_labelled and not args.review:
        raise CommandError("train-stance needs --pairs and/or the labelled paragraphs")
    try:
        model = train_stance_model(args.pairs or None, False if args.no_labelled else (args.labelled or None),
                                   out_dir=args.out or None, version=args.version or None,
                                   extra=load_reviews(args.review) if args.review else None)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    print(f"stance model {model.version}: {model.meta['class_counts']}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from narrative_tracker.narratives.heads import TrainRequest, train_request

    request = TrainRequest(model=args.model, precision=args.precision, codebook=args.codebook,
                           labelled=False if args.no_labelled else (args.labelled or None), semeval=tuple(args.semeval),
                           reviews=tuple(args.review), db=args.db if args.decisions else None, out_dir=args.out or None,
                           version=args.version or None)
    try:
        report = train_request(request)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    heads = report.heads
    print(f"heads {heads.key} for {heads.model}: " + ", ".join(
        f"{n} (threshold {heads.thresholds[i]:.2f})" for i, n in enumerate(heads.narrative_ids))
          + f"; written to {report.path}")
    return 0


COMMANDS = {"run": cmd_run, "summary": cmd_summary, "evaluate": cmd_evaluate, "train": cmd_train, "train-stance": cmd_train_stance,
            "review": cmd_review, "codebook": cmd_codebook, "alerts": cmd_alerts, "narrative": cmd_narrative,
            "report": cmd_report, "search": cmd_search, "sql": cmd_sql, "setup": cmd_setup}


def _require_database(path: str) -> None:
    """Reading commands: a missing database (or a bad URL) is a one-line error, not a DuckDB traceback."""
    from pathlib import Path

    from narrative_tracker.warehouse import from_setting

    wh = from_setting(path)  # WarehouseError on a bad URL
    if wh.kind != "ducklake-postgres" and not Path(wh.location).exists():  # PostgreSQL: connecting says what is missing
        raise CommandError(f"no database at {path}; run `narratives run` first")


def main(argv: list[str] | None = None) -> int:
    import duckdb

    from narrative_tracker.db import DatabaseLockedError
    from narrative_tracker.warehouse import WarehouseError
    from pipelines.run import RunError

    args = parser().parse_args(argv)
    if sys.stderr.isatty():
        enable_progress()  # progress bars on ingest and embedding
    # options given on the command line win over the environment (NARRATIVES_*), which wins over the defaults
    settings = load_settings().replace(db=getattr(args, "db", None), model=getattr(args, "model", None),
                                       precision=getattr(args, "precision", None), codebook=getattr(args, "codebook", None),
                                       heads=getattr(args, "heads", None))
    args.settings = settings
    args.db, args.model, args.precision, args.codebook = str(settings.db), settings.model, settings.precision, settings.codebook
    try:
        if getattr(args, "reads_db", False):
            _require_database(args.db)
        return COMMANDS[args.command](args)
    except (CommandError, RunError) as exc:
        for line in str(exc).splitlines() or ["failed"]:
            print(f"narratives: {line}", file=sys.stderr)
        return exc.status
    except DatabaseLockedError as exc:  # one lock story for every command: which file, who, what to do
        print(f"narratives: {exc}", file=sys.stderr)
        return 3
    except WarehouseError as exc:
        print(f"narratives: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:  # e.g. a file that is not a narratives database
        print(f"narratives: {args.db}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
