"""``narratives run`` as one function: the code location's jobs executed in this process, in order.

1. ``ingest_job`` reads the input files (skipped when no input is given: every day the database holds is
   re-processed instead);
2. when the inputs changed anything (``narrative_tracker.run_state``), ``daily_job`` rebuilds paragraphs,
   embeddings, narratives, trends and the published copy for the range of days they cover, in one run — or,
   with ``workers > 1`` on DuckLake + PostgreSQL, the daily assets over N ranges of days in N processes
   (``pipelines/parallel.py``) between the serial steps.

The CLI parses arguments and calls :func:`run_pipeline`; errors a user can fix are :class:`RunError` (one line,
an exit status). Every run is recorded in a Dagster instance that belongs to the database (:func:`dagster_instance`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

from narrative_tracker.settings import Settings

# The instance settings every instance the CLI creates gets (the same as the tracked .dagster_home/dagster.yaml,
# which `make dev` and `make demo` use; a test keeps the two equal).
INSTANCE_YAML = """# Dagster instance settings for this project (DAGSTER_HOME=.dagster_home, set by the Makefile).
telemetry:
  enabled: false
# DuckDB allows one writing process: every writing asset is in the "duckdb_writer" pool, limited to one
# step at a time across runs; queued runs (schedule + backfill + manual) start one after another.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 1
# The daemon frees the pool slots a run still holds 60 s after it ended (failed, canceled). Slots of a run whose
# process died while it was marked running are freed by the pool_slots sensor and by `narratives run`
# (pipelines/pools.py). A run may take a while to start on a busy machine (torch, the model): 10 minutes.
run_monitoring:
  enabled: true
  start_timeout_seconds: 600
  poll_interval_seconds: 30
  free_slots_after_run_end_seconds: 60
"""


class RunError(RuntimeError):
    """A run that cannot start or failed, with the CLI's exit status (2: bad request, 3: database locked, 1: failed)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What ``narratives run`` was asked to do (the database, model and codebook are in ``Settings``)."""

    inputs: tuple[str, ...] = ()
    ingest: dict = dataclasses.field(default_factory=dict)  # the ingest asset's config (columns, format, force, ...)
    all_days: bool = False
    force: bool = False
    workers: int = 1
    verbose: bool = False


def instance_home(settings: Settings) -> Path | None:
    """Where the Dagster instance of this database lives: ``DAGSTER_HOME`` when set, else beside the database
    (``data/x.duckdb`` -> ``data/x.dagster/``; a DuckLake catalog file likewise). A DuckLake on PostgreSQL has no
    file to sit beside: without ``DAGSTER_HOME`` its runs are not recorded (configure dagster-postgres, docs/deploy.md)."""
    from narrative_tracker.warehouse import from_setting

    if settings.dagster_home is not None:
        return settings.dagster_home
    if settings.run_history == "none":
        return None
    wh = from_setting(settings.db)
    if wh.kind == "ducklake-postgres":
        return None
    location = Path(wh.location)
    return location.with_name(location.name.split(".")[0] + ".dagster")


def dagster_instance(settings: Settings):
    """The Dagster instance the runs of this database are recorded in (created with ``INSTANCE_YAML``)."""
    import dagster as dg

    home = instance_home(settings)
    if home is None:
        return dg.DagsterInstance.ephemeral()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML, encoding="utf-8")
    return dg.DagsterInstance.from_config(str(home))


def run_tags(settings: Settings, start: dt.date | None = None, end: dt.date | None = None) -> dict[str, str]:
    """Tags of every run: the database it wrote (filter by it in the UI when several share one DAGSTER_HOME),
    and the range of days it covers."""
    from assets.resources import DATABASE_TAG, database_tag
    from pipelines.definitions import range_tags

    tags = {DATABASE_TAG: database_tag(str(settings.db))}
    return tags | (range_tags(start, end) if start is not None else {})


def run_pipeline(settings: Settings, options: RunOptions, say: Callable[[str], None] = print) -> int:
    """Ingest ``options.inputs`` and process the days they cover (or re-process every day without inputs).
    Returns the exit status (0 ok, 1 a failed ERROR check); raises :class:`RunError`."""
    import warnings

    warnings.filterwarnings("ignore", category=Warning, module="dagster")
    from narrative_tracker import run_state
    from narrative_tracker.db import DatabaseLockedError, connection
    from narrative_tracker.settings import apply_dagster_defaults
    from narrative_tracker.surfaces.summary import summary_text
    from narrative_tracker.warehouse import WarehouseError, from_setting
    from pipelines.definitions import build_definitions
    from pipelines.progress import step_count

    for path in options.inputs:
        if not Path(path).exists():
            raise RunError(f"input path does not exist: {path}", 2)
    try:
        parallel_ok = from_setting(settings.db).parallel
    except WarehouseError as exc:
        raise RunError(str(exc), 2) from None
    if options.workers > 1 and not parallel_ok:
        raise RunError("--workers needs DuckLake with a PostgreSQL catalog (ducklake:postgres:...); a DuckDB file "
                       "or a DuckLake catalog file has one writer", 2)
    apply_dagster_defaults()
    defs = build_definitions(settings)
    instance = dagster_instance(settings)
    console = {"console": {"config": {"log_level": "DEBUG" if options.verbose else "WARNING"}}}

    def loggers(job_name: str) -> dict:  # Dagster's console (warnings, or everything with --verbose) + step lines
        return console | {"progress": {"config": {"steps": step_count(defs.resolve_job_def(job_name))}}}

    config = {"ops": {"ingest": {"config": options.ingest | {"paths": list(options.inputs)}}}, "loggers": loggers("ingest_job")}
    began = time.perf_counter()
    db = str(settings.db)

    if not options.inputs:
        return _reprocess(settings, defs, instance, console, began, say)
    say(f"[1/2] ingest -> {from_setting(db).describe()}")
    try:
        _setup_lake(settings)
        ingest = execute(settings, defs.resolve_job_def("ingest_job"), instance, say, run_config=config, tags=run_tags(settings))
    except DatabaseLockedError as exc:
        raise RunError(str(exc), 3) from None
    except WarehouseError as exc:
        raise RunError(str(exc), 2) from None
    _raise_if_failed(ingest)
    meta = {e.asset_key.path[-1]: e.materialization.metadata for e in ingest.get_asset_materialization_events()}
    first, last = meta["articles"]["first_partition"].value, meta["articles"]["last_partition"].value
    t_ingest = time.perf_counter() - began
    if not first:
        say("      no articles in the input; nothing to process")  # (the ingest step published what it read)
        say(summary_text(db))
        return 0

    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    with connection(db) as con:  # the working file: ingest has just written it
        state = run_state.fingerprint(con, settings.codebook, settings.model, str(settings.heads), str(settings.stance_model))
        unchanged = state == run_state.last_complete(con)
        lo, hi = run_state.days_held(con)
        if options.all_days:
            start, end = min(start, lo), max(end, hi)
    if unchanged and not (options.force or options.all_days):
        say(f"      nothing new since the last complete run (ingest {t_ingest:.1f}s): no paragraphs, embeddings or "
            "narratives to redo. --force redoes them anyway.")
        say(summary_text(db, ingest_meta=meta))
        return 0
    settings, defs, start = _partitioned_from(settings, lo, start, say)
    if start > end:
        say(summary_text(db, ingest_meta=meta))
        return 0
    if options.workers > 1:
        return _run_parallel(settings, options, defs, config | {"loggers": console}, instance, start, end, state, began, say)
    runs = _process_days(settings, defs, instance, console, start, end, "[2/2] paragraphs, embeddings, narratives for", say)
    _mark_complete(db, state)
    embedded = [{e.asset_key.path[-1]: e.materialization.metadata for e in r.get_asset_materialization_events()}.get("paragraph_embeddings")
                for r in runs]
    texts = sum(m["run_texts_embedded"].value for m in embedded if m)
    seconds = sum(m["run_seconds"].value for m in embedded if m)
    checks: dict[str, tuple[bool, object]] = {}
    for r in runs:
        for c in r.get_asset_check_evaluations():
            checks[c.check_name] = (checks.get(c.check_name, (True,))[0] and c.passed, c.severity)
    say(f"      ingest {t_ingest:.1f}s; embedded {texts} new texts ({texts / seconds if seconds else 0:.1f}/s); checks: "
        + ", ".join(f"{n} {_verdict(p, sev)}" for n, (p, sev) in checks.items()))
    home = instance_home(settings)
    ids = ", ".join(r.run_id[:8] for r in [ingest, *runs][:4]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
    say(f"      done in {time.perf_counter() - began:.1f}s (runs {ids}" + (f" — recorded in {home})" if home else ")"))
    say(summary_text(db, ingest_meta=meta))
    # a failed ERROR check fails the command; WARN checks (recent alerts) only show
    import dagster as dg

    return 0 if all(p or sev == dg.AssetCheckSeverity.WARN for p, sev in checks.values()) else 1


def _process_days(settings: Settings, defs, instance, console: dict, start: dt.date, end: dt.date, title: str, say) -> list:
    """Paragraphs, embeddings and narratives for the days ``start``..``end``: one ``daily_job`` run over the range
    when its days with articles form one span (``parallel.active_spans``); otherwise the codebook once, each daily
    asset over every span in turn (all paragraphs, then all embeddings, then detection: the same order as one
    run), then the steps that cover every day once — the empty days between spans are never materialised.
    Returns the successful Dagster results; raises :class:`RunError` on a failed run."""
    from narrative_tracker import run_state
    from narrative_tracker.db import connection
    from pipelines import parallel
    from pipelines.progress import step_count

    with connection(str(settings.db)) as con:
        spans = parallel.active_spans(run_state.articles_per_day(con, start, end))
    job = defs.resolve_job_def("daily_job")
    if len(spans) <= 1:
        say(f"{title} {start} .. {end} ({(end - start).days + 1} daily partitions, one run)")
        result = execute(settings, job, instance, say, tags=run_tags(settings, start, end),
                         run_config={"loggers": console | {"progress": {"config": {"steps": step_count(job)}}}})
        _raise_if_failed(result)
        return [result]
    days = sum((b - a).days + 1 for a, b in spans)
    say(f"{title} {len(spans)} spans of days with articles ({', '.join(f'{a}..{b}' for a, b in spans)}; {days} daily "
        f"partitions — the {(end - start).days + 1 - days} empty days between them are skipped)")
    config = {"loggers": console | {"progress": {"config": {"steps": 0, "since": time.time()}}}}
    runs = [(parallel.BEFORE, spans[0][0], spans[-1][1]), *parallel.daily_runs(spans), (parallel.AFTER, spans[0][0], spans[-1][1])]
    results = []
    for assets, first, last in runs:
        results.append(execute_assets(settings, job, assets, config, instance, first, last, say))
        _raise_if_failed(results[-1])
    return results


def execute_assets(settings: Settings, job, assets: tuple[str, ...], run_config: dict, instance, first: dt.date,
                   last: dt.date, say: Callable[[str], None] = print):
    """One in-process run of ``job`` materialising ``assets`` over the days ``first``..``last`` (the result, also
    when it failed)."""
    import dagster as dg

    return execute(settings, job, instance, say, run_config=run_config, tags=run_tags(settings, first, last),
                   asset_selection=[dg.AssetKey(a) for a in assets])


def execute(settings: Settings, job, instance, say: Callable[[str], None], **kwargs):
    """``job.execute_in_process(**kwargs)`` in ``instance`` (the result, also when it failed) — after making sure no
    pool slot it needs is held by a run whose process is gone (freed, with a line saying so) and, while a live run
    holds one, saying which run and how to free it instead of waiting in silence (``pipelines/pools.py``)."""
    from narrative_tracker.warehouse import parse
    from pipelines import pools

    pools.wait_for_pools(instance, pools.job_pools(job), local=not parse(settings.db, settings.lake_data_path).parallel,
                         say=say)
    return job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)


def _partitioned_from(settings: Settings, held: dt.date | None, start: dt.date, say: Callable[[str], None]):
    """Settings and code location whose daily partitions reach back to ``start`` (the first day this run processes)
    and the earliest day held — or begin at ``NARRATIVES_PARTITIONS_START`` when that is set, with ``start`` moved
    up to it (saying which days that leaves out). Returns ``(settings, definitions, start)``; the settings carry the
    first day, so worker processes build the same partitions."""
    import dataclasses

    from pipelines.definitions import build_definitions

    first = settings.partitions_start
    if first is None:
        first = min(d for d in (held, start) if d is not None)
    elif start < first:
        say(f"      articles from {start} to {first - dt.timedelta(days=1)} are before NARRATIVES_PARTITIONS_START "
            f"({first}): those days are held but not processed; set it earlier to process them")
        start = first
    settings = dataclasses.replace(settings, partitions_start=first)
    return settings, build_definitions(settings), start


def _verdict(passed: bool, severity) -> str:
    import dagster as dg

    return "passed" if passed else ("WARNING" if severity == dg.AssetCheckSeverity.WARN else "FAILED")


def _mark_complete(db: str, state: str) -> None:
    from narrative_tracker import run_state
    from narrative_tracker.db import connection, publish

    with connection(db) as con:
        run_state.mark_complete(con, state)
    publish(db)  # the daily job published already; this adds the run state


def _reprocess(settings: Settings, defs, instance, console: dict, began: float, say) -> int:
    """No inputs: ingest nothing, redo every day the database holds (after a codebook or cleaning change).
    The bundled sample is never ingested unless named."""
    from narrative_tracker import run_state
    from narrative_tracker.db import connection, publish, working_path
    from narrative_tracker.surfaces.summary import summary_text
    from narrative_tracker.warehouse import is_lake_url

    db = str(settings.db)
    if not is_lake_url(db) and not Path(db).exists() and not working_path(db).exists():
        raise RunError(f"no database at {db} to re-process, and no --input given. Give the files to ingest "
                       "with --input PATH (the bundled sample corpus: --input data/sample).", 2)
    with connection(db) as con:
        start, end = run_state.days_held(con)
        state = run_state.fingerprint(con, settings.codebook, settings.model, str(settings.heads), str(settings.stance_model))
    if start is None:
        say(f"      {db} holds no articles; nothing to re-process (give --input PATH to ingest files)")
        publish(db)
        return 0
    settings, defs, start = _partitioned_from(settings, start, start, say)
    _process_days(settings, defs, instance, console, start, end, f"[1/1] no --input: re-processing every day {db} holds,", say)
    _mark_complete(db, state)
    say(f"      done in {time.perf_counter() - began:.1f}s")
    say(summary_text(db))
    return 0


def _run_parallel(settings: Settings, options: RunOptions, defs, config: dict, instance, start: dt.date, end: dt.date,
                  state: str, began: float, say) -> int:
    """``workers > 1``: the cross-partition steps once in this process, the daily assets in N worker processes."""
    from narrative_tracker import run_state
    from narrative_tracker.db import connection
    from narrative_tracker.surfaces.summary import summary_text
    from pipelines import parallel

    db = str(settings.db)
    with connection(db) as con:
        plans = parallel.plan_workers(run_state.articles_per_day(con, start, end), options.workers)
    shares = "; ".join(", ".join(f"{a}..{b}" for a, b in plan) for plan in plans)
    say(f"[2/2] {start} .. {end}: codebook, then {len(plans)} workers over the days holding articles "
        f"({shares}), then discovery, trends, alerts, search, publish")
    job = defs.resolve_job_def("narratives_job")

    def serial(assets: tuple[str, ...]):
        return execute_assets(settings, job, assets, _selected(config, assets), instance, start, end, say)

    _raise_if_failed(serial(parallel.BEFORE))
    results = parallel.run_workers(settings, _selected(config, parallel.WORKER_ASSETS), plans)
    for r in results:
        say(f"      worker {r.start}..{r.end}: {'ok' if r.success else 'FAILED'} in {r.seconds:.1f}s, "
            f"{r.conflict_retries} conflict retries{(' — ' + r.error) if r.error else ''}")
    if not all(r.success for r in results):
        return 1
    _raise_if_failed(serial(parallel.AFTER))
    with connection(db) as con:
        run_state.mark_complete(con, state)
    say(f"      done in {time.perf_counter() - began:.1f}s")
    say(summary_text(db))
    return 0


def _selected(config: dict, assets: tuple[str, ...]) -> dict:
    """The run config with op config only for the selected assets."""
    return {k: v for k, v in config.items() if k != "ops"} | {"ops": {k: v for k, v in config["ops"].items() if k in assets}}


def _setup_lake(settings: Settings) -> None:
    """DuckLake: create / migrate the tables once, before any stage (the stages never run DDL there)."""
    from narrative_tracker import schema
    from narrative_tracker.embeddings.embed import make_embedder
    from narrative_tracker.warehouse import is_lake_url

    if is_lake_url(settings.db):
        schema.setup(settings.db, dim=make_embedder(settings.model, device=settings.device, precision=settings.precision).dim)


def _raise_if_failed(result) -> None:
    """Raise :class:`RunError` saying why a Dagster run failed (status 3 when a database lock stopped it)."""
    if result.success:
        return
    messages, locked = [], False
    for event in result.all_events:
        if event.is_step_failure:
            err = event.step_failure_data.error
            chain = [e for e in (err, err.cause if err else None) if e is not None]
            lock = next((e for e in chain if e.cls_name == "DatabaseLockedError"), None)
            if lock is not None:
                locked = True
                messages.append(lock.message.removeprefix("narrative_tracker.db.DatabaseLockedError: ").strip())
            else:
                messages.append(f"step {event.step_key} failed: {err.cause.message if err.cause else err.message}".strip())
    raise RunError("\n".join(messages) or "the Dagster run failed", 3 if locked else 1)
