"""The Dagster code location: the assets and checks of ``assets/``, the jobs, the schedules, the sensors.

Load it with ``dagster dev -w workspace.yaml`` (or ``make dev``). ``defs`` is built from the environment
(``narrative_tracker.settings``) at import; ``build_definitions(settings)`` builds the same location for given
settings (the CLI uses it, so its options and the environment meet in one ``Settings``). ``defs`` stays a plain
``Definitions`` rather than a lazy ``@dg.definitions`` function because scripts and tests call
``defs.resolve_job_def(...)`` on it directly.

Why not ``dg.load_from_defs_folder``: it finds the folder through the ``dg`` project file (``[tool.dg]`` in
pyproject.toml), which an installed wheel does not carry; ``load_assets_from_package_module`` (and its
asset-check twin) load every module of the same ``assets/`` package by import, so the installed package and the
checkout behave alike, and a new stage module is picked up without editing this file.
(``load_definitions_from_package_module`` would also do it but is a preview API in dagster 1.13.)
The daily assets (``@daily_asset`` in ``assets/``) are the exception: their pool follows the warehouse and their
partitions start at the database's first day (``assets/partitions.py``), both fixed when an asset is defined, so
``daily_assets(settings, partitions)`` defines them here. Nothing in ``assets/`` reads the settings itself.

What the UI offers, and why each selection is safe and ends published (docs/dagster.md, docs/ui.md):

- **No races.** On a DuckDB file (one writer) every run uses the in-process executor — the jobs and the implicit
  asset job the UI's asset pages launch (``Definitions(executor=...)``) — and every op that opens the file is in
  the ``duckdb_writer`` pool; the asset checks are evaluated inside their asset's step (``check_specs``), so no
  second op opens the file. On a DuckLake with a PostgreSQL catalog, runs use the multiprocess executor and the
  daily assets the ``lake_partitions`` pool, so ranges of days still run side by side.
- **Published.** ``published_database`` follows its upstream assets (``assets/publish.py``,
  ``publish_after_changes`` sensor, running by default); ``daily_report`` follows each publish.
- **Fast.** A range of days is one run per backfill stage (``BackfillPolicy.single_run()``), and each day keeps its
  own metadata and partition status.
- **Never stuck.** The ``pool_slots`` sensor frees the pool slots of runs whose process died
  (``pipelines/pools.py``) and says on a waiting run's log what it waits for.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

import dagster as dg

import assets
from assets.partitions import DailyAsset, daily_partitions, daily_pool, partitions_start
from assets.resources import DATABASE_TAG, database_tag, default_resources
from narrative_tracker import warehouse
from narrative_tracker.settings import Settings, load_settings
from pipelines.progress import progress_logger

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
NIGHTLY_LOOKBACK_DAYS = 2  # the nightly run also redoes the two days before yesterday (late arrivals)

# Every asset the jobs run: all but the weekly lake upkeep and the report (which follows publishing in the UI;
# `narratives report` writes it for the CLI).
PIPELINE = dg.AssetSelection.all() - dg.AssetSelection.assets("lake_maintenance", "daily_report")


def daily_executor(settings: Settings) -> dg.ExecutorDefinition:
    """The executor of every run: in process (one writer) on a DuckDB file or a file-catalog DuckLake; on DuckLake
    with a PostgreSQL catalog Dagster's multiprocess executor, ``NARRATIVES_MAX_CONCURRENT`` steps at a time
    (default 2). Parallel *days* come from several runs over ranges of days at once (a backfill with
    ``BackfillPolicy.multi_run``, or ``narratives run --workers N``); discovery, lineage, alerts and publishing
    cover every day and stay one step each, serialised in the ``duckdb_writer`` pool (limit 1)."""
    if warehouse.parse(settings.db, settings.lake_data_path).parallel:
        return dg.multiprocess_executor.configured({"max_concurrent": settings.max_concurrent})
    return dg.in_process_executor


def jobs(settings: Settings, partitions: dg.PartitionsDefinition) -> list:
    """The jobs; the executor of the writing ones follows the configured warehouse. Every run of them carries the
    database tag (``DATABASE_TAG``), whoever launches it."""
    executor = daily_executor(settings)
    tags = {DATABASE_TAG: database_tag(settings.db)}
    return [
        # Everything in one run. On a DuckDB file steps run one after the other in one process (one writer).
        dg.define_asset_job(
            "narratives_job",
            selection=PIPELINE,
            partitions_def=partitions,
            executor_def=executor,
            tags=tags,
            description="Everything for a range of days: ingest the configured inputs (NARRATIVES_INPUT), rebuild "
                        "paragraphs, embeddings and codebook detections of those days, rediscover narratives, "
                        "recompute trends and alerts, rebuild search, publish. The nightly schedule runs it.",
        ),
        dg.define_asset_job(
            "ingest_job",
            selection=dg.AssetSelection.assets("articles", "quarantine"),
            executor_def=dg.in_process_executor,
            tags=tags,
            description="Only read input files into articles / quarantine, and publish (the inbox sensor runs it; "
                        "give `paths` in the run config for other files). The after_ingest sensor then processes "
                        "the days they cover.",
        ),
        dg.define_asset_job(
            "daily_job",
            selection=PIPELINE - dg.AssetSelection.assets("articles", "quarantine"),
            partitions_def=partitions,
            executor_def=executor,
            tags=tags,
            description="Everything after ingest for a range of days, published at the end: the job to backfill "
                        "from the UI (a range is one run). The after_ingest sensor runs it over the days an ingest covered.",
        ),
        dg.define_asset_job(
            "lake_maintenance_job",
            selection=dg.AssetSelection.assets("lake_maintenance"),
            executor_def=dg.in_process_executor,
            tags=tags,
            description="DuckLake upkeep: flush inlined data, merge small files, expire snapshots older than the retention.",
        ),
    ]


lake_maintenance_weekly = dg.ScheduleDefinition(
    job_name="lake_maintenance_job", cron_schedule="0 5 * * 0", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Sundays 05:00 UTC, after the nightly run: compact the lake (no-op on a DuckDB file).",
)


def range_tags(start: dt.date, end: dt.date) -> dict[str, str]:
    """Run tags that make one run cover the partitions ``start``..``end``."""
    return {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}


def _first_partition(context) -> dt.date | None:
    """The first daily partition of the code location an evaluation context belongs to (None outside one)."""
    try:
        repository = context.repository_def
    except dg.DagsterInvariantViolationError:  # evaluated outside a code location (tests, scripts)
        return None
    partitions = repository.get_job("daily_job").partitions_def
    return dt.date.fromisoformat(partitions.get_first_partition_key()) if partitions else None


@dg.schedule(job_name="narratives_job", cron_schedule="0 2 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="02:00 UTC: ingest what arrived in NARRATIVES_INPUT, then process today, yesterday and the two "
                         "days before (late arrivals) in one run of narratives_job, published at the end. Stopped by "
                         "default: switch it on under Automation.")
def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    today = context.scheduled_execution_time.date()
    start = today - dt.timedelta(days=1 + NIGHTLY_LOOKBACK_DAYS)
    first = _first_partition(context)
    if first is not None and start < first <= today:  # a database younger than the look-back
        start = first
    return dg.RunRequest(run_key=f"nightly-{today.isoformat()}", tags=range_tags(start, today))


@dg.sensor(job_name="ingest_job", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Watches the folder NARRATIVES_INBOX: a file whose content is not ingested yet starts an "
                       "ingest_job run once it has been unchanged for NARRATIVES_INBOX_SETTLE_SECONDS (default 60), "
                       "whatever its modification time. Stopped by default.")
def inbox(context: dg.SensorEvaluationContext):
    """(see ``narrative_tracker.ingest.inbox``)"""
    from narrative_tracker.ingest import inbox as watcher
    from narrative_tracker.ingest.inputs import max_file_bytes

    settings = load_settings()  # read per tick: the daemon's environment
    if settings.inbox is None or not settings.inbox.is_dir():
        return dg.SkipReason("set NARRATIVES_INBOX to a folder to watch")
    folder, settle = str(settings.inbox), settings.inbox_settle_seconds
    db_path, cap = str(settings.db), max_file_bytes(settings.max_file_mb)
    scan = watcher.scan_inbox(folder, context.cursor, watcher.clock(), watcher.published_source_shas(db_path), settle, cap)
    context.update_cursor(scan.cursor)
    if not scan.take:
        waiting = f"; {len(scan.waiting)} waiting to settle ({settle:g} s)" if scan.waiting else ""
        return dg.SkipReason(f"no new files in {folder} ({scan.known} already ingested{waiting})")
    return dg.RunRequest(
        run_key=scan.run_key,
        run_config={"ops": {"ingest": {"config": {"paths": scan.take, "root": folder}}}},
        tags={"narratives/files": str(len(scan.take))},
    )


@dg.asset_sensor(asset_key=dg.AssetKey("articles"), job_name="daily_job", default_status=dg.DefaultSensorStatus.STOPPED,
                 description="After every ingest that added articles (or left articles of a killed run without "
                             "paragraphs): one daily_job run over the days the ingested files cover, late arrivals "
                             "for old days included. Stopped by default.")
def after_ingest(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    meta = asset_event.asset_materialization.metadata if asset_event.asset_materialization else {}
    first, last = meta.get("first_partition"), meta.get("last_partition")
    new, unprocessed = meta.get("new_articles"), meta.get("unprocessed_articles")
    if not first or not first.value or not ((new and new.value) or (unprocessed and unprocessed.value)):
        return dg.SkipReason("the ingest added no articles, and left none unprocessed")
    start, end = dt.date.fromisoformat(first.value), dt.date.fromisoformat(last.value)
    begins = _first_partition(context)
    if begins is not None and start < begins:
        context.log.warning(
            f"the ingest holds articles from {start}, before the first partition {begins}: reload the code location "
            "(Deployment -> Reload) so the partitions start there, then backfill daily_job over those days "
            "(or lower NARRATIVES_PARTITIONS_START)")
        if end < begins:
            return dg.SkipReason(f"every day of the ingest ({start}..{end}) is before the first partition {begins}: "
                                 "reload the code location, then backfill those days")
        start = begins
    return dg.RunRequest(run_key=f"after-ingest-{asset_event.run_id}", tags=range_tags(start, end))


publish_after_changes = dg.AutomationConditionSensorDefinition(
    "publish_after_changes",
    target=dg.AssetSelection.assets("published_database", "daily_report"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
    description="Publishes after any run that changed the working database without publishing (one asset, one day, "
                "a range from an asset page), once nothing upstream is running; then writes the daily report. "
                "Running by default: the published copy analysts open always ends up current.",
)


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Frees the pool slots (duckdb_writer, lake_partitions) held by runs whose process is gone "
                       "(killed, crashed, out of memory), marking those runs failed, so later runs never wait "
                       "forever; writes on each waiting run's log which run holds its pool. Running by default.")
def pool_slots(context: dg.SensorEvaluationContext):
    """See ``pipelines/pools.py``."""
    from pipelines import pools

    settings = load_settings()
    local = not warehouse.parse(settings.db, settings.lake_data_path).parallel
    freed = pools.release_dead_holders(context.instance, local=local, say=context.log.info)
    told = set((context.cursor or "").split(",")) - {""}
    now = set()
    for run, step_key, held in pools.waiting_steps(context.instance, local):
        key = f"{run.run_id}:{step_key}:{held[0].run_id}"
        now.add(key)
        if key not in told:  # once per waiting step and holder, on the waiting run's own log
            context.instance.report_engine_event(
                f"Step {step_key} waits for a slot: {'; '.join(h.describe() for h in held)}. To go on now, "
                f"{pools.HOW_TO_FREE}.", run)
    context.update_cursor(",".join(sorted(now)))
    return dg.SkipReason(f"freed {len(freed)} slot(s) of dead runs; {len(now)} step(s) waiting for a live run"
                         if freed or now else "no slot held by a dead run, no step waiting")


def daily_assets(settings: Settings, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The daily assets of every ``assets/`` module (``@daily_asset``), defined now with ``partitions`` and in the
    pool ``settings``' warehouse calls for: ``lake_partitions`` on DuckLake with a PostgreSQL catalog,
    ``duckdb_writer`` elsewhere."""
    found: dict[int, DailyAsset] = {}
    for module in pkgutil.iter_modules(assets.__path__):
        for value in vars(importlib.import_module(f"{assets.__name__}.{module.name}")).values():
            if isinstance(value, DailyAsset):
                found[id(value)] = value
    pool = daily_pool(settings)
    return [daily.build(pool, partitions) for daily in found.values()]


def build_definitions(settings: Settings, first_day: dt.date | None = None) -> dg.Definitions:
    """The code location configured by ``settings``: its resources, the executor of its runs, the pool of its daily
    assets, and daily partitions from ``first_day`` (default: ``assets.partitions.partitions_start(settings)``)."""
    partitions = daily_partitions(first_day or partitions_start(settings))
    return dg.Definitions(
        assets=[*dg.load_assets_from_package_module(assets), *daily_assets(settings, partitions)],
        asset_checks=dg.load_asset_checks_from_package_module(assets),
        jobs=jobs(settings, partitions),
        schedules=[nightly, lake_maintenance_weekly],
        sensors=[inbox, after_ingest, publish_after_changes, pool_slots],
        resources=default_resources(settings),
        executor=daily_executor(settings),  # also the implicit job behind the UI's asset pages
        # Dagster's console logger plus `progress` (pipelines/progress.py), which `narratives run` turns on
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    )


# The code location Dagster loads: resources configured by the environment when this module is imported.
defs = build_definitions(load_settings())
