"""The Dagster UI as users drive it: ``dagster dev`` on loopback, and the GraphQL calls its pages send.

One real webserver + daemon (``pipelines/dagster_ui.py``) over a database of the sample corpus, ingested from the
UI. Then the three paths a desk takes, each run to completion by the daemon: (c) the job page's backfill of
``daily_job`` over three days, (a) an asset page's *Materialize* of one partition of ``paragraphs`` (which does
not include publishing: the ``publish_after_changes`` sensor must publish after it), and (b) a lineage selection
(``paragraphs`` and everything downstream) over three days. Each must succeed, end with the published copy
holding the days' rows exactly once, and show each day its own metadata.
"""

import datetime as dt

import duckdb
import pytest
from conftest import SAMPLE

from pipelines.dagster_ui import DagsterUI

pytestmark = pytest.mark.slow

DATABASE_TAG = "narratives/database"
DAILY = ["paragraphs", "paragraph_embeddings", "codebook_assignments"]
AFTER = ["discovered_narratives", "narrative_trends", "alerts", "search_index", "published_database"]


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui")
    env = {"NARRATIVES_DB": str(root / "desk.duckdb"), "NARRATIVES_INPUT": str(SAMPLE), "HF_HUB_OFFLINE": "1",
           "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1"}  # as `make dev` sets it
    with DagsterUI(root / "dagster_home", env) as session:
        session.db = root / "desk.duckdb"
        run = session.wait_run(session.launch_job("ingest_job"))  # the Launchpad: ingest NARRATIVES_INPUT
        assert run["status"] == "SUCCESS"
        assert {t["key"]: t["value"] for t in run["tags"]}[DATABASE_TAG] == str(session.db)
        session.reload()  # the code location's Reload: partitions now start at the database's first day
        yield session


def published(ui, sql: str, params=None):
    with duckdb.connect(str(ui.db), read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def day_counts(ui, table: str, days: list[str]) -> dict[str, int]:
    rows = published(ui, f"SELECT partition_date::VARCHAR, count(*) FROM {table} WHERE partition_date IN "  # noqa: S608 (fixed names)
                          "(SELECT unnest($d::DATE[])) GROUP BY 1", {"d": days})
    return {d: dict(rows).get(d, 0) for d in days}


def day_metadata(ui, asset: str, days: list[str]) -> dict[str, dict]:
    return {d: ui.materializations(asset, partitions=[d], limit=1)[0]["metadata"] for d in days}


def assert_no_duplicates(ui):
    assert published(ui, "SELECT count(*) - count(DISTINCT paragraph_id) FROM paragraphs") == [(0,)]
    assert published(ui, "SELECT count(*) - count(DISTINCT (paragraph_id, narrative_id, method)) FROM paragraph_narratives") == [(0,)]
    assert published(ui, "SELECT count(*) - count(DISTINCT (text_hash, model)) FROM paragraph_embeddings") == [(0,)]


def test_partitions_start_at_the_first_day_of_the_database(ui):
    keys = ui.partition_keys("paragraphs")
    assert keys[0] == "2021-01-06"  # the sample's earliest article, not 2000-01-01
    assert keys[-1] == dt.datetime.now(dt.timezone.utc).date().isoformat()  # undated articles are filed under today


def test_job_backfill_of_daily_job_is_one_run_and_publishes(ui):
    days = ["2022-01-08", "2022-01-09", "2022-01-10"]
    backfill = ui.wait_backfill(ui.launch_backfill(["codebook", *DAILY, *AFTER], days, job="daily_job"))
    assert backfill["status"] == "COMPLETED_SUCCESS"
    [run] = backfill["runs"]  # the whole range, every asset, one run
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["status"] == "SUCCESS" and run["jobName"] == "daily_job"
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (days[0], days[-1])
    assert tags[DATABASE_TAG] == str(ui.db)

    paragraphs = day_counts(ui, "paragraphs", days)
    assert paragraphs["2022-01-08"] > 0 and paragraphs["2022-01-09"] == 0 and paragraphs["2022-01-10"] > 0
    meta = day_metadata(ui, "paragraphs", days)
    assert {d: m["dagster/row_count"] for d, m in meta.items()} == paragraphs  # each day its own count
    articles = dict(published(ui, "SELECT partition_date::VARCHAR, count(*) FROM articles GROUP BY 1"))
    assert {d: m["articles"] for d, m in meta.items()} == {d: articles.get(d, 0) for d in days}
    assigned = {d: dict(published(ui, "SELECT narrative_id, count(*) FROM paragraph_narratives WHERE method = 'codebook' "
                                      "AND partition_date = $d::DATE GROUP BY 1", {"d": d})) for d in days}
    assert {d: m["assignments"] for d, m in day_metadata(ui, "codebook_assignments", days).items()} == assigned
    assert assigned["2022-01-08"], "the sample's 8 January articles carry codebook narratives"
    unembedded = published(ui, "SELECT count(*) FROM paragraphs p LEFT JOIN paragraph_embeddings e USING (text_hash) "
                               "WHERE e.text_hash IS NULL AND p.partition_date BETWEEN '2022-01-08' AND '2022-01-10'")
    assert unembedded == [(0,)]
    assert_no_duplicates(ui)


def test_one_partition_from_the_asset_page_is_published_by_the_sensor(ui):
    run = ui.wait_run(ui.launch_assets(["paragraphs"], [("paragraphs", "paragraph_ids_unique")], partition="2021-01-06"))
    assert run["status"] == "SUCCESS" and run["jobName"] == "__ASSET_JOB"
    assert {t["key"]: t["value"] for t in run["tags"]}[DATABASE_TAG] == str(ui.db)  # UI runs carry the tag too
    # the run did not publish; publish_after_changes does, in a run of its own once this one has finished
    publish = ui.wait_materialized("published_database", after=run["endTime"], timeout=900)
    assert publish["runId"] != run["runId"]
    by = {t["key"]: t["value"] for t in ui.run(publish["runId"])["tags"]}
    assert by["dagster/sensor_name"] == "publish_after_changes" and by[DATABASE_TAG] == str(ui.db)
    held = day_counts(ui, "paragraphs", ["2021-01-06"])
    assert held["2021-01-06"] > 0
    assert day_metadata(ui, "paragraphs", ["2021-01-06"])["2021-01-06"]["dagster/row_count"] == held["2021-01-06"]
    assert_no_duplicates(ui)


def test_lineage_selection_over_three_days_completes_and_publishes(ui):
    days = ["2021-01-06", "2021-01-07", "2021-01-08"]
    before = published(ui, "SELECT count(*) FROM paragraph_narratives WHERE partition_date = '2021-01-06'")
    assert before == [(0,)]  # the asset page materialised only its paragraphs
    backfill = ui.wait_backfill(ui.launch_backfill([*DAILY, *AFTER, "daily_report"], days))
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert all(r["status"] == "SUCCESS" for r in backfill["runs"])
    assert len(backfill["runs"]) <= 3  # the range's daily assets in one run, then the assets over every day
    ranged = [r for r in backfill["runs"] if {t["key"] for t in r["tags"]} >= {"dagster/asset_partition_range_start"}]
    assert len(ranged) == 1
    assert day_counts(ui, "paragraph_narratives", days)["2021-01-06"] > 0
    meta = day_metadata(ui, "paragraph_embeddings", days)
    embedded = day_counts(ui, "paragraphs", days)
    assert {d: m["dagster/row_count"] for d, m in meta.items()} == embedded and embedded["2021-01-07"] == 0
    assert all(m["missing"] == 0 for m in meta.values())
    report = ui.materializations("daily_report", limit=1)[0]["metadata"]
    assert report["report"].endswith(".html") and report["day"]
    assert_no_duplicates(ui)
