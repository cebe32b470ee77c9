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


def test_partitions_include_today_for_undated_articles():
    from assets.partitions import daily_partitions

    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert daily_partitions.get_last_partition_key() == today
    assert daily_partitions.get_first_partition_key() == "2000-01-01"


def test_instance_config_turns_telemetry_off_and_serialises_writers():
    import yaml
    from conftest import REPO

    config = yaml.safe_load((REPO / ".dagster_home" / "dagster.yaml").read_text())
    assert config["telemetry"]["enabled"] is False
    assert config["concurrency"]["pools"]["default_limit"] == 1


def test_daily_job_leaves_ingest_out():
    job = defs.resolve_job_def("daily_job")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert "articles" not in keys and {"paragraphs", "alerts", "discovered_narratives"} <= keys


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
