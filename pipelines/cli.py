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
import sys

from narrative_tracker import textsafe
from narrative_tracker.settings import enable_progress, load_settings
from pipelines.cli_args import COLUMN_OPTIONS, parser


def echo(text: object = "", err: bool = False, flush: bool = False) -> None:
    """Print one message for a terminal: every control character escaped (``textsafe.for_terminal``), so a title,
    outlet or label an input carried cannot move the cursor, recolour or retitle the analyst's terminal."""
    print(textsafe.for_terminal(str(text)), file=sys.stderr if err else sys.stdout, flush=flush)


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
    return run_pipeline(args.settings, options, say=lambda line: echo(line, flush=True))


def cmd_summary(args: argparse.Namespace) -> int:
    from narrative_tracker.surfaces.summary import summary_text

    echo(summary_text(args.db))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from narrative_tracker.evaluation import suite

    if args.stance_pairs:
        pairs = suite.evaluate_stance_pairs(args.stance_pairs, folds=args.folds, quiet=args.json,
                                            stance_model=str(args.settings.stance_model))
        echo(json.dumps(pairs, indent=2) if args.json else suite.format_stance_pairs(pairs, args.stance_pairs))
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
        heads=str(args.settings.heads), stance_model=str(args.settings.stance_model))
    result = suite.evaluate(request)
    echo(json.dumps(result, indent=2) if args.json else suite.format_result(result, request))
    return 0


def cmd_codebook(args: argparse.Namespace) -> int:
    from narrative_tracker.material import codebook_from_semeval, load_semeval
    from narrative_tracker.narratives.codebook_edit import write_codebook
    from narrative_tracker.outfiles import check_output

    check_output(args.out, args.db)  # never the database, a link or a folder
    loaded = write_codebook(args.out, codebook_from_semeval(load_semeval(args.folder)))  # validated, renamed into place
    echo(f"wrote {args.out}: {len(loaded.narratives)} narratives, {sum(len(n.examples) for n in loaded.narratives)} examples")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from narrative_tracker.db import connection
    from narrative_tracker.narratives.alerts import recent_alerts

    with connection(args.db, read_only=True) as con:
        rows = recent_alerts(con, args.since, args.limit)
    echo("\n".join(f"{day}  {kind:<8}  {nid:<22}  {message}" for day, kind, nid, message in rows) or "no alerts")
    return 0


def cmd_narrative(args: argparse.Namespace) -> int:
    from narrative_tracker.db import connection, publish
    from narrative_tracker.narratives.decisions import list_narratives, promote_to_codebook, record_decision

    action = args.narrative_command
    if action == "list":
        with connection(args.db, read_only=True) as con:
            for nid, origin, status, size, label, terms, parent in list_narratives(con):
                echo(f"{nid:<24} {origin:<10} {status:<9} {size:>6}  {label}" + (f"  [{terms}]" if terms else "")
                      + (f"  (inside {parent})" if parent else ""))
        return 0
    try:
        with connection(args.db) as con:
            if action == "promote":
                examples = promote_to_codebook(con, args.narrative_id, args.new_id, args.label or None, args.codebook)
                echo(f"appended {args.new_id} to {args.codebook} with {len(examples)} examples; "
                      "run `narratives run --db DB` (no --input) to detect it on every day")
            else:
                value = {"rename": getattr(args, "label", None), "merge": getattr(args, "target", None)}.get(action)
                record_decision(con, args.narrative_id, action, value, args.note)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    publish(args.db)
    echo(f"{action} {args.narrative_id}: recorded and published; it is re-applied after every run")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from narrative_tracker.surfaces.report import write_report

    try:
        path = write_report(args.db, args.out, args.day, language=args.language)
    except OSError as exc:  # a full disk, a folder without write permission: the previous file is intact
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}", status=1) from None
    echo(f"report written: {path.resolve()}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from narrative_tracker.surfaces.search import SearchFilters, run_search

    filters = SearchFilters(args.outlet, args.date_from, args.date_to, args.limit)
    try:
        results = run_search(args.db, args.query, filters, mode=args.mode, model=args.model, precision=args.precision,
                             warn=lambda message: echo(f"narratives: {message}", err=True))
    except RuntimeError as exc:  # the keyword index is missing and only keyword search was asked for
        raise CommandError(str(exc)) from None
    for title, frame in results:
        echo(f"\n{title}: {frame.height} results")
        for row in frame.iter_rows(named=True):
            narratives = ", ".join(row["narratives"] or []) or "-"
            echo(f"  {row['score']:.3f}  {row['day']}  {row['outlet']}  [{narratives}]\n      {row['text'][:300]}")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from narrative_tracker import schema
    from narrative_tracker.embeddings.embed import make_embedder
    from narrative_tracker.warehouse import from_setting

    schema.setup(args.db, dim=make_embedder(args.model).dim)
    echo(f"{from_setting(args.db).describe()}: tables ready")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """SQL on the published database: read-only, and no file outside it can be read or written (COPY TO,
    read_text, read_csv, ATTACH, EXPORT, INSTALL/LOAD are refused; ``db.SANDBOX_CONFIG``)."""
    from narrative_tracker.db import connect_sandboxed

    con = connect_sandboxed(args.db)
    try:
        if args.statement is not None:
            return _run_sql(con, args.statement)
        echo(f"read-only SQL on {args.db} (files outside it cannot be read or written). End a statement with ';'. "
              "Ctrl-D quits.", err=True)
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
        echo(f"narratives: refused: {exc}. `narratives sql` reads only the database; to export, use "
              "`duckdb -readonly` yourself.", err=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - show DuckDB's own message
        echo(f"narratives: {exc}", err=True)
        return 1
    with pl.Config(tbl_rows=50, fmt_str_lengths=80, tbl_width_chars=200, tbl_hide_column_data_types=True):
        echo(frame)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from narrative_tracker.db import connection
    from narrative_tracker.narratives.review import export_review

    from narrative_tracker.outfiles import check_output

    check_output(args.out, args.db)  # before the database is opened: never the database, a link or a folder
    try:
        with connection(args.db, read_only=True) as con:
            count = export_review(con, args.out, args.limit, database=args.db)
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}", status=1) from None
    echo(f"wrote {count} assignments to {args.out}: fill correct_narrative / correct_stance, then "
          f"`narratives train --review {args.out}` (detection) and `narratives train-stance --pairs DIR --review {args.out}` (stance)")
    return 0


def cmd_train_stance(args: argparse.Namespace) -> int:
    from narrative_tracker.narratives.review import load_reviews

    if not args.pairs and args.no_labelled and not args.review and not args.semeval:
        raise CommandError("train-stance needs --pairs, --semeval, --review and/or the labelled paragraphs")
    try:
        if args.features:
            from narrative_tracker.evaluation.stance_eval import train_stance_model

            model = train_stance_model(args.pairs or None, False if args.no_labelled else (args.labelled or None),
                                       out_dir=args.out or None, version=args.version or None,
                                       extra=load_reviews(args.review) if args.review else None)
            echo(f"stance model {model.version}: {model.meta['class_counts']}")
            return 0
        from narrative_tracker.narratives.pair_training import TrainConfig, TrainPairRequest, train_request

        result = train_request(TrainPairRequest(
            pairs=args.pairs or None, semeval=tuple(args.semeval), corpus=args.corpus or None, labelled=False if args.no_labelled else (args.labelled or None),
            reviews=tuple(args.review), codebook=str(args.codebook) if args.codebook else None, out_dir=args.out or None,
            workdir=args.workdir or None, version=args.version or None,
            epochs=args.epochs if args.epochs is not None else TrainConfig.epochs, max_steps=args.max_steps, seed=args.seed,
            resume=args.resume))
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    dev = f"; dev macro-F1 {result.dev['macro_f1']:.3f}" if result.dev else ""
    echo(f"pair model {result.version}: {result.steps} steps{dev}; written to {result.out_dir}")
    return 0


def cmd_train_encoder(args: argparse.Namespace) -> int:
    from narrative_tracker.embeddings.tuning import EncoderConfig, EncoderRequest, train_request

    try:
        meta = train_request(EncoderRequest(
            corpus=args.corpus or None, semeval=tuple(args.semeval), codebook=str(args.codebook) if args.codebook else None,
            labelled=False if args.no_labelled else None, out_dir=args.out or None, workdir=args.workdir or None,
            version=args.version or None, epochs=args.epochs if args.epochs is not None else EncoderConfig.epochs,
            max_steps=args.max_steps, seed=args.seed, resume=args.resume))
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    echo(f"encoder {meta['version']}: {meta['steps']} steps; dev precision@1 {meta['dev_best_precision_at_1']} "
          f"(untuned {meta['dev_untuned_precision_at_1']}); use it with --model minilm-narratives")
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
    echo(f"heads {heads.key} for {heads.model}: " + ", ".join(
        f"{n} (threshold {heads.thresholds[i]:.2f})" for i, n in enumerate(heads.narrative_ids))
          + f"; written to {report.path}")
    return 0


COMMANDS = {"run": cmd_run, "summary": cmd_summary, "evaluate": cmd_evaluate, "train": cmd_train, "train-stance": cmd_train_stance,
            "train-encoder": cmd_train_encoder,
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
    from narrative_tracker.outfiles import OutputError
    from narrative_tracker.warehouse import WarehouseError
    from pipelines.run import RunError

    args = parser().parse_args(argv)
    if sys.stderr.isatty():
        enable_progress()  # progress bars on ingest and embedding
    # options given on the command line win over the environment (NARRATIVES_*), which wins over the defaults
    settings = load_settings().replace(db=getattr(args, "db", None), model=getattr(args, "model", None),
                                       precision=getattr(args, "precision", None), codebook=getattr(args, "codebook", None),
                                       heads=getattr(args, "heads", None), stance_model=getattr(args, "stance_model", None))
    args.settings = settings
    args.db, args.model, args.precision, args.codebook = str(settings.db), settings.model, settings.precision, settings.codebook
    try:
        if getattr(args, "reads_db", False):
            _require_database(args.db)
        return COMMANDS[args.command](args)
    except (CommandError, RunError) as exc:
        for line in str(exc).splitlines() or ["failed"]:
            echo(f"narratives: {line}", err=True)
        return exc.status
    except DatabaseLockedError as exc:  # one lock story for every command: which file, who, what to do
        echo(f"narratives: {exc}", err=True)
        return 3
    except (WarehouseError, OutputError) as exc:
        echo(f"narratives: {exc}", err=True)
        return 2
    except duckdb.Error as exc:  # e.g. a file that is not a narratives database
        echo(f"narratives: {args.db}: {str(exc).splitlines()[0]}", err=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
