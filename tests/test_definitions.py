import datetime as dt

import dagster as dg

from pipelines.definitions import defs, nightly


def test_definitions_load_with_jobs_schedule_checks():
    repo = defs.get_repository_def()
    assert {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()} >= {"articles", "quarantine", "paragraphs", "paragraph_embeddings"}
    assert {"narratives_job", "ingest_job"} <= {j.name for j in repo.get_all_jobs()}
    checks = {k.name for k in repo.asset_graph.asset_check_keys}
    assert {"paragraph_ids_unique", "every_paragraph_embedded"} <= checks
    for key in ("paragraphs", "paragraph_embeddings"):
        spec = repo.asset_graph.get(dg.AssetKey(key))
        assert isinstance(spec.partitions_def, dg.DailyPartitionsDefinition)
        assert spec.backfill_policy == dg.BackfillPolicy.single_run()


def test_nightly_schedule_targets_recent_days_in_one_run():
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.timezone.utc))
    request = nightly(context)
    assert request.tags["dagster/asset_partition_range_start"] == "2026-11-19"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-11-22"


def test_partitions_start_where_the_data_is(tmp_path):
    """The configured day wins; else the earliest publication day the published database holds; else 2000-01-01
    (no database yet). Either way the last partition is today (undated articles are filed under it)."""
    from assets.partitions import partitions_start
    from narrative_tracker import db
    from narrative_tracker.ingest.files import ingest_paths
    from narrative_tracker.settings import Settings
    from pipelines.definitions import build_definitions

    path = tmp_path / "desk.duckdb"
    assert partitions_start(Settings(db=str(path))) == dt.date(2000, 1, 1)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.csv").write_text("date,outlet,title,text\n2019-03-01,A,T,Some text about the weather in spring.\n"
                                 "2019-05-02,B,U,Other text about football and the league.\n", encoding="utf-8")
    with db.connection(path) as con:
        ingest_paths(con, [inbox])
    db.publish(path)
    assert partitions_start(Settings(db=str(path))) == dt.date(2019, 3, 1)
    configured = Settings(db=str(path), partitions_start=dt.date(2018, 12, 1))
    assert partitions_start(configured) == dt.date(2018, 12, 1)
    partitions = build_definitions(Settings(db=str(path))).resolve_job_def("daily_job").partitions_def
    assert partitions.get_first_partition_key() == "2019-03-01"
    assert partitions.get_last_partition_key() == dt.datetime.now(dt.timezone.utc).date().isoformat()


def test_schedule_and_sensor_stay_inside_the_partitions(tmp_path):
    """A database younger than the nightly look-back, and an ingest of days before the first partition: the
    requests start at the first partition (the sensor says why in its log) instead of failing to launch."""
    from narrative_tracker.settings import Settings
    from pipelines.definitions import after_ingest, build_definitions

    first = dt.date(2026, 11, 21)
    repository = build_definitions(Settings(db=str(tmp_path / "n.duckdb"), partitions_start=first)).get_repository_def()
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.timezone.utc),
                                        repository_def=repository)
    assert nightly(context).tags["dagster/asset_partition_range_start"] == "2026-11-21"
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(
            "articles", metadata={"first_partition": "2026-11-01", "last_partition": "2026-11-22", "new_articles": 3,
                                  "unprocessed_articles": 0}))
        [request] = after_ingest.evaluate_tick(
            dg.build_sensor_context(instance=instance, repository_def=repository)).run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "2026-11-21"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-11-22"


def test_narratives_run_builds_its_partitions_after_its_ingest(tmp_path):
    """The CLI's partitions reach back to the first day it processes (no reload needed); a configured start is kept,
    and the days before it are left out with a line saying so."""
    from narrative_tracker.settings import Settings
    from pipelines.run import _partitioned_from

    lines = []
    settings, defs, start = _partitioned_from(Settings(db=str(tmp_path / "n.duckdb")), dt.date(2020, 1, 5),
                                              dt.date(2020, 3, 1), lines.append)
    assert (settings.partitions_start, start, lines) == (dt.date(2020, 1, 5), dt.date(2020, 3, 1), [])
    assert defs.resolve_job_def("daily_job").partitions_def.get_first_partition_key() == "2020-01-05"
    configured = Settings(db=str(tmp_path / "n.duckdb"), partitions_start=dt.date(2020, 2, 1))
    settings, defs, start = _partitioned_from(configured, dt.date(2020, 1, 5), dt.date(2020, 1, 10), lines.append)
    assert start == dt.date(2020, 2, 1) and settings.partitions_start == dt.date(2020, 2, 1)
    assert "articles from 2020-01-10 to 2020-01-31 are before NARRATIVES_PARTITIONS_START (2020-02-01)" in lines[0]


def test_no_two_ops_can_open_a_duckdb_file_at_once(tmp_path):
    """On a DuckDB file every run — the jobs and the implicit job behind the UI's asset pages — executes in process,
    every op that opens the database is in the single-writer pool, and the checks run inside their asset's step
    (no separate check op). On a PostgreSQL DuckLake runs use the multiprocess executor."""
    from narrative_tracker.settings import Settings
    from pipelines.definitions import build_definitions

    defs = build_definitions(Settings(db=str(tmp_path / "n.duckdb")))
    repository = defs.get_repository_def()
    jobs = [*repository.get_all_jobs()]
    assert "__ASSET_JOB" in {j.name for j in jobs}
    for job in jobs:
        assert job.executor_def is dg.in_process_executor, job.name
    for node in repository.asset_graph.asset_nodes:
        needs_db = "db" in node.assets_def.required_resource_keys
        if needs_db and node.key.to_user_string() != "daily_report":  # the report reads only the published copy
            assert node.pools == {"duckdb_writer"}, node.key
    assert not [c for c in repository.asset_checks_defs_by_key.values() if "db" in c.required_resource_keys]
    lake = build_definitions(Settings(db="ducklake:postgres:dbname=lake host=localhost", partitions_start=dt.date(2024, 1, 1)))
    assert lake.resolve_job_def("__ASSET_JOB").executor_def.name == "multiprocess"


def test_published_database_follows_a_run_that_did_not_publish():
    """The publish condition (assets/publish.py) on a stand-in graph: materialising one day of a daily asset alone
    requests a publish; a run that published itself requests nothing; nothing while upstream is still running."""
    from assets.publish import PUBLISH_AFTER_CHANGES

    days = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_offset=1)

    @dg.asset(partitions_def=days)
    def paragraphs():
        return None

    @dg.asset(deps=[paragraphs], automation_condition=PUBLISH_AFTER_CHANGES)
    def published_database():
        return None

    assets = [paragraphs, published_database]
    with dg.instance_for_test() as instance:
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance)
        assert result.total_requested == 0  # nothing changed yet
        dg.materialize(assets, instance=instance, partition_key="2026-01-05", selection=[paragraphs])
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=result.cursor)
        assert result.get_requested_partitions(published_database.key) == {None}
        dg.materialize(assets, instance=instance, partition_key="2026-01-06")  # a run that publishes itself
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=result.cursor)
        assert result.total_requested == 0


def test_instance_config_turns_telemetry_off_and_serialises_writers():
    import yaml
    from conftest import REPO

    from pipelines.run import INSTANCE_YAML

    config = yaml.safe_load((REPO / ".dagster_home" / "dagster.yaml").read_text())
    assert config["telemetry"]["enabled"] is False
    assert config["concurrency"]["pools"]["default_limit"] == 1
    # the instances the CLI creates beside a database get the same settings
    assert yaml.safe_load(INSTANCE_YAML) == config


def test_each_database_has_its_own_dagster_instance_and_runs_are_tagged_with_it(tmp_path):
    from narrative_tracker.settings import load_settings
    from assets.resources import DATABASE_TAG
    from pipelines.run import dagster_instance, instance_home, run_tags

    a = load_settings({"NARRATIVES_DB": str(tmp_path / "a.duckdb")})
    b = load_settings({"NARRATIVES_DB": str(tmp_path / "sub" / "b.duckdb")})
    assert instance_home(a) == tmp_path / "a.dagster"
    assert instance_home(b) == tmp_path / "sub" / "b.dagster"
    assert instance_home(load_settings({"NARRATIVES_DB": "ducklake:" + str(tmp_path / "c.ducklake")})) == tmp_path / "c.dagster"
    shared = load_settings({"NARRATIVES_DB": str(tmp_path / "a.duckdb"), "DAGSTER_HOME": str(tmp_path / "home")})
    assert instance_home(shared) == tmp_path / "home"
    instance = dagster_instance(a)
    assert (tmp_path / "a.dagster" / "dagster.yaml").exists() and instance.get_settings("telemetry")["enabled"] is False
    assert run_tags(a)[DATABASE_TAG] != run_tags(b)[DATABASE_TAG]


def test_daily_job_leaves_ingest_out():
    job = defs.resolve_job_def("daily_job")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert "articles" not in keys and {"paragraphs", "alerts", "discovered_narratives"} <= keys


def test_span_and_worker_runs_cover_every_asset_of_the_daily_job():
    """`narratives run` over several spans of days (or with --workers) materialises the daily job's assets in three
    selections: before, per range of days, after. An asset in none of them would never run there."""
    from pipelines import parallel

    keys = {k.to_user_string() for k in defs.resolve_job_def("daily_job").asset_layer.executable_asset_keys}
    assert set(parallel.BEFORE) | set(parallel.WORKER_ASSETS) | set(parallel.AFTER) == keys


def test_a_scheduled_run_without_configured_input_fails_clearly(tmp_path, monkeypatch):
    """The nightly run with NARRATIVES_INPUT unset must not ingest the bundled sample into the database."""
    monkeypatch.delenv("NARRATIVES_INPUT", raising=False)
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.timezone.utc))
    request = nightly(context)
    database = tmp_path / "n.duckdb"
    result = defs.resolve_job_def("ingest_job").execute_in_process(
        run_config={"resources": {"db": {"config": {"path": str(database)}}}}, tags=request.tags, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert "no input configured: set NARRATIVES_INPUT" in message and "data/sample" in message
    assert not database.exists()  # nothing was written


def test_narratives_run_prints_one_line_per_step_with_k_of_n(capsys):
    import dagster as dg

    from pipelines.progress import progress_logger, step_count

    @dg.asset
    def first():
        return 1

    @dg.asset
    def second(first):
        return first + 1

    job = dg.Definitions(assets=[first, second], loggers={"progress": progress_logger}).resolve_implicit_global_asset_job_def()
    assert step_count(job) == 2
    result = job.execute_in_process(run_config={"loggers": {"progress": {"config": {"steps": 2}}}})
    assert result.success
    lines = [line.strip() for line in capsys.readouterr().err.splitlines() if line.strip().startswith("[")]
    assert [line.split("] ", 1)[1].split(" in ")[0] for line in lines] == ["first …", "first done", "second …", "second done"]
    assert lines[1].endswith("(1 of 2)") and lines[3].endswith("(2 of 2)")


def test_the_daily_assets_pool_follows_the_settings_given_not_the_environment(tmp_path, monkeypatch):
    """The pool is chosen by build_definitions(settings): one DuckDB writer on a file, lake_partitions on a
    PostgreSQL DuckLake (nothing connects: defining the location opens no database)."""
    from narrative_tracker.settings import Settings
    from pipelines.definitions import build_definitions

    monkeypatch.setenv("NARRATIVES_DB", "ducklake:postgres:dbname=from_env host=nowhere")  # must not matter
    daily = ("paragraphs", "paragraph_embeddings", "codebook_assignments")
    pools = {}
    for name, db in (("file", str(tmp_path / "n.duckdb")), ("lake", "ducklake:postgres:dbname=lake host=localhost")):
        graph = build_definitions(Settings(db=db, lake_retention_days=3)).get_repository_def().asset_graph
        pools[name] = {key: graph.get(dg.AssetKey(key)).pools for key in (*daily, "discovered_narratives")}
        assert all(isinstance(graph.get(dg.AssetKey(k)).partitions_def, dg.DailyPartitionsDefinition) for k in daily)
    assert pools["file"] == {key: {"duckdb_writer"} for key in (*daily, "discovered_narratives")}
    assert pools["lake"] == {**{key: {"lake_partitions"} for key in daily}, "discovered_narratives": {"duckdb_writer"}}
    assert not (tmp_path / "n.duckdb").exists()


def test_lake_maintenance_keeps_the_retention_of_the_settings_given(tmp_path, monkeypatch):
    """The weekly maintenance takes NARRATIVES_LAKE_RETENTION_DAYS from the Settings build_definitions got (the db
    resource), not from the environment at import; a run's config can still override it."""
    from assets.resources import NarrativeDB
    from narrative_tracker.settings import Settings
    from pipelines.definitions import build_definitions

    monkeypatch.delenv("NARRATIVES_LAKE_DATA_PATH", raising=False)
    monkeypatch.setenv("NARRATIVES_LAKE_RETENTION_DAYS", "11")  # must not matter
    url = f"ducklake:{tmp_path / 'n.ducklake'}"
    NarrativeDB(path=url).setup()  # the lake's tables, as the ingest step makes them
    job = build_definitions(Settings(db=url, lake_retention_days=3)).resolve_job_def("lake_maintenance_job")
    for run_config, expected in (({}, 3), ({"ops": {"lake_maintenance": {"config": {"retention_days": 0}}}}, 0)):
        result = job.execute_in_process(run_config=run_config)
        [materialization] = result.asset_materializations_for_node("lake_maintenance")
        assert materialization.metadata["retention_days"].value == expected
