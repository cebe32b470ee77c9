"""The warehouse setting: DuckDB file, DuckLake (file catalog) and DuckLake on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import multiprocessing

import duckdb
import polars as pl
import pytest
from conftest import SAMPLE, run_stages

from narrative_tracker import db, schema, warehouse

DAYS = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))
_IGNORED = {"ingested_at", "embedded_at", "assigned_at", "created_at", "updated_at", "first_seen_at", "run_at"}
_TABLES = ("articles", "source_files", "paragraphs", "paragraph_embeddings", "codebook_examples", "narratives",
           "paragraph_narratives", "quarantine", "narrative_daily_counts", "daily_paragraph_counts", "pipeline_meta",
           "discovered_members", "alerts")


def table_contents(con, table: str) -> pl.DataFrame:
    """A table's rows in a canonical order, without wall-clock columns; vectors as lists (FLOAT[] on a lake)."""
    frame = con.execute(f"SELECT * FROM {table}").pl()  # noqa: S608 - fixed names
    frame = frame.drop([c for c in frame.columns if c in _IGNORED])
    frame = frame.with_columns([pl.col(c).arr.to_list() for c, t in frame.schema.items() if isinstance(t, pl.Array)])
    sortable = [c for c, t in frame.schema.items() if not isinstance(t, (pl.List, pl.Array, pl.Struct))]
    return frame.sort(sortable, nulls_last=True)


# ------------------------------------------------------------------------------------------- the setting
@pytest.mark.parametrize("url, message", [
    ("", "empty"),
    ("ducklake:", "needs a catalog"),
    ("ducklake:mysql:db=x", "unsupported DuckLake catalog"),
    ("postgres://u@h/db", "unsupported warehouse setting"),
    ("ducklake:postgres:host=127.0.0.1", "dbname"),
    ("ducklake:postgres:dbname=x port=abc", "port must be a number"),
    ("ducklake:postgres:dbname=x colour=blue", "unknown PostgreSQL connection keys"),
    ("ducklake:postgres:just words", "key=value"),
])
def test_a_bad_setting_is_refused_clearly(url, message):
    with pytest.raises(warehouse.WarehouseError, match=message):
        warehouse.parse(url)


def test_the_three_forms():
    assert warehouse.parse("data/n.duckdb").kind == "duckdb"
    lake = warehouse.parse("ducklake:data/n.ducklake")
    assert (lake.kind, lake.location, lake.parallel) == ("ducklake-file", "data/n.ducklake", False)
    pg = warehouse.parse("ducklake:postgres:dbname=lake host=10.0.0.5 password=secret", "s3://bucket/lake/")
    assert (pg.kind, pg.data_path, pg.parallel) == ("ducklake-postgres", "s3://bucket/lake/", True)
    assert "secret" not in pg.describe()


def test_a_missing_extension_wheel_is_named(monkeypatch):
    real = warehouse.importlib.util.find_spec
    monkeypatch.setattr(warehouse.importlib.util, "find_spec",
                        lambda name, *a: None if name == "duckdb_extension_ducklake" else real(name, *a))
    with pytest.raises(warehouse.WarehouseError, match=r"pip install duckdb-extension-ducklake==1\.5\.5"):
        db.connect("ducklake:postgres:dbname=x host=127.0.0.1")


def test_an_unreachable_server_is_named():
    port = __import__("narrative_tracker.pg_cluster", fromlist=["free_port"]).free_port()  # nothing listens there
    with pytest.raises(warehouse.WarehouseError, match="cannot reach the PostgreSQL catalog"):
        db.connect(f"ducklake:postgres:dbname=lake host=127.0.0.1 port={port} user=postgres connect_timeout=3")


def test_a_missing_catalog_database_is_named(pg):
    with pytest.raises(warehouse.WarehouseError, match="does not exist: create it first"):
        db.connect(f"ducklake:postgres:{pg.conninfo('no_such_db')}")


def test_a_lake_is_set_up_once_not_by_a_stage(lake_url):
    with pytest.raises(warehouse.WarehouseNotSetUp, match="narratives setup"):
        db.connect(lake_url)
    schema.setup(lake_url, dim=16)
    schema.setup(lake_url, dim=16)  # idempotent
    with db.connection(lake_url) as con:
        assert con.execute("SELECT value FROM pipeline_meta WHERE key = 'embedding_dim'").fetchall() == [("16",)]
        with pytest.raises(ValueError, match="16-dimensional"):
            schema.ensure_embedding_table(con, 32)


def test_lake_tables_have_the_file_tables_columns(lake_url, tmp_path):
    """Same tables, same columns, same types (except FLOAT[n] stored as FLOAT[]) on both backends."""
    schema.setup(tmp_path / "f.duckdb", dim=16)
    schema.setup(lake_url, dim=16)
    query = ("SELECT table_name, column_name, replace(data_type, '[16]', '[]') FROM information_schema.columns "
             "WHERE table_catalog = current_database() ORDER BY ALL")
    with db.connection(tmp_path / "f.duckdb") as f, db.connection(lake_url) as lake:
        assert f.execute(query).fetchall() == lake.execute(query).fetchall()


# ------------------------------------------------------------------------------------------- the stages
def test_stages_give_identical_tables_on_a_file_and_on_the_lake(lake_url, tmp_path, topic_embedder, tiny_codebook):
    from narrative_tracker.narratives.discover import HdbscanClusterer
    from narrative_tracker.narratives.alerts import compute_alerts
    from narrative_tracker.narratives.discovery_store import discover_narratives
    from test_identity import Identity

    schema.setup(lake_url, dim=topic_embedder.dim)
    results = {}
    for name, target in (("file", tmp_path / "f.duckdb"), ("lake", lake_url)):
        with db.connection(target) as con:
            run_stages(con, [SAMPLE], topic_embedder, tiny_codebook)
            run_stages(con, [SAMPLE], topic_embedder, tiny_codebook)  # a rerun adds nothing
            discover_narratives(con, topic_embedder.name, reducer=Identity(), clusterer=HdbscanClusterer(min_cluster_size=3, min_samples=2))
            compute_alerts(con)
            results[name] = {t: table_contents(con, t) for t in _TABLES + ("narrative_daily",)}
    for table in _TABLES + ("narrative_daily",):
        assert results["file"][table].equals(results["lake"][table]), table
    assert results["lake"]["paragraphs"].height == 80


# ------------------------------------------------------------------------------------------- concurrency
def _overwrite_days(url: str, data_path: str, start: dt.date, end: dt.date, rounds: int, queue) -> None:
    import os

    os.environ["NARRATIVES_LAKE_DATA_PATH"] = data_path
    from narrative_tracker import db as db_
    from narrative_tracker import warehouse as wh
    from narrative_tracker.paragraphs.split import build_paragraphs

    with db_.connection(url) as con:
        for _ in range(rounds):
            build_paragraphs(con, start, end)
    queue.put(wh.conflict_retries())


def _poll(url: str, data_path: str, stop, queue) -> None:
    import os

    os.environ["NARRATIVES_LAKE_DATA_PATH"] = data_path
    from narrative_tracker import db as db_

    seen, errors, polls = set(), [], 0
    with db_.connection(url, read_only=True) as con:
        queue.put("reading")
        while not stop.is_set():
            try:
                con.execute("BEGIN TRANSACTION")
                seen.add(con.execute(
                    "SELECT count(*), count(DISTINCT paragraph_id), (SELECT sum(paragraphs) FROM daily_paragraph_counts) "
                    "FROM paragraphs").fetchone())
                con.execute("COMMIT")
                polls += 1
            except Exception as exc:  # noqa: BLE001 - the test reports any error
                errors.append(repr(exc))
                break
    queue.put((sorted(seen, key=str), errors, polls))


def test_two_processes_overwrite_different_days_and_a_reader_sees_only_committed_states(lake_url, hash_embedder):
    from narrative_tracker.ingest.files import ingest_paths
    from narrative_tracker.paragraphs.split import build_paragraphs

    import os

    data_path = os.environ["NARRATIVES_LAKE_DATA_PATH"]
    schema.setup(lake_url, dim=hash_embedder.dim)
    with db.connection(lake_url) as con:
        ingest_paths(con, [SAMPLE])
        build_paragraphs(con, *DAYS)
        expected = table_contents(con, "paragraphs")
        days = sorted(d for (d,) in con.execute("SELECT DISTINCT partition_date FROM articles").fetchall())
    assert len(days) >= 3 and expected.height == 80
    split = days[len(days) // 2]
    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    writers = [ctx.Process(target=_overwrite_days, args=(lake_url, data_path, DAYS[0], split - dt.timedelta(days=1), 4, queue)),
               ctx.Process(target=_overwrite_days, args=(lake_url, data_path, split, DAYS[1], 4, queue))]
    reader = ctx.Process(target=_poll, args=(lake_url, data_path, stop, queue))
    reader.start()
    assert queue.get(timeout=120) == "reading"  # the reader is attached before the writers start
    for p in writers:
        p.start()
    for p in writers:
        p.join(180)
        assert p.exitcode == 0
    stop.set()
    reader.join(60)
    assert reader.exitcode == 0
    results = [queue.get(timeout=5) for _ in range(3)]
    polled = next(r for r in results if isinstance(r, tuple))
    retries = sum(r for r in results if isinstance(r, int))
    seen, errors, polls = polled
    assert errors == [] and polls > 5
    # every state a reader saw is a committed one: all 80 paragraphs, no duplicate, counts matching the rows
    assert seen == [(80, 80, 80)], seen
    with db.connection(lake_url) as con:
        assert table_contents(con, "paragraphs").equals(expected)
        assert con.execute("SELECT sum(paragraphs) FROM daily_paragraph_counts").fetchone()[0] == 80
    print(f"conflict retries: {retries}")


def test_overwrite_retries_a_conflict_and_stays_idempotent(lake_url):
    """Two connections delete-then-insert different keys of one table at once: DuckLake refuses one commit;
    ``db.overwrite`` runs that transaction again and both writes land exactly once."""
    schema.setup(lake_url)
    a, b = db.connect(lake_url), db.connect(lake_url)
    try:
        for con, key in ((a, "a"), (b, "b")):
            db.set_meta(con, key, "0")
        a.execute("BEGIN TRANSACTION")
        db.set_meta(a, "a", "1")
        attempts = []

        def write_b():
            attempts.append(1)
            db.set_meta(b, "b", "1")
            if len(attempts) == 1:
                a.execute("COMMIT")  # a commits first: b's first commit conflicts

        before = warehouse.conflict_retries()
        db.overwrite(b, write_b)
        assert len(attempts) == 2 and warehouse.conflict_retries() == before + 1
        rows = sorted(a.execute("SELECT key, value FROM pipeline_meta WHERE key IN ('a', 'b')").fetchall())
        assert rows == [("a", "1"), ("b", "1")]
    finally:
        a.close()
        b.close()


def test_file_catalog_lake_and_maintenance(tmp_path, hash_embedder, monkeypatch):
    from narrative_tracker.maintenance import maintain

    monkeypatch.delenv("NARRATIVES_LAKE_DATA_PATH", raising=False)
    url = f"ducklake:{tmp_path / 'n.ducklake'}"
    schema.setup(url, dim=hash_embedder.dim)
    with db.connection(url) as con:
        run_stages(con, [SAMPLE], hash_embedder)
        run_stages(con, [SAMPLE], hash_embedder)
        before = table_contents(con, "paragraphs")
        report = maintain(con, retention_days=0)
        assert report.snapshots_after < report.snapshots_before
        assert table_contents(con, "paragraphs").equals(before)
    with pytest.raises(ValueError, match="DuckLake"):
        maintain(duckdb.connect(), 7)


def test_analyst_sql_on_a_lake_reads_the_lake_and_nothing_else(lake_url, hash_embedder):
    schema.setup(lake_url, dim=hash_embedder.dim)
    with db.connection(lake_url) as con:
        run_stages(con, [SAMPLE], hash_embedder)
    con = db.connect_sandboxed(lake_url)
    try:
        assert con.execute("SELECT count(*) FROM paragraphs").fetchone()[0] == 80  # Parquet under the data path
        with pytest.raises(duckdb.Error, match="Permission"):
            con.execute("SELECT * FROM read_csv('/etc/passwd')")
        with pytest.raises(duckdb.Error):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()


def test_workers_share_the_spans_of_days_with_articles_and_a_day_costs_something_of_its_own():
    from pipelines.parallel import DAY_WEIGHT, plan_workers

    d = dt.date(2021, 1, 1)
    day = lambda n: d + dt.timedelta(days=n)  # noqa: E731
    # 100 articles on day 0, then one a day on days 1..40, then a year of nothing, then one day with 5 articles
    per_day = {day(0): 100, **{day(n): 1 for n in range(1, 41)}, day(400): 5}
    plans = plan_workers(per_day, 2)
    assert [p[0][0] for p in plans] == [day(0), plans[1][0][0]] and plans[-1][-1] == (day(400), day(400))
    processed = [sum((b - a).days + 1 for a, b in p) for p in plans]
    assert sum(processed) == 42  # the 359 empty days between the spans are given to nobody
    # the day cost moves the cut: 100 articles on day 0 alone would be half the work by articles, not with DAY_WEIGHT
    assert DAY_WEIGHT > 0 and plans[0] != [(day(0), day(0))]
    work = [sum(per_day.get(a + dt.timedelta(days=i), 0) + DAY_WEIGHT for a, b in p for i in range((b - a).days + 1)) for p in plans]
    assert abs(work[0] - work[1]) <= 100 + DAY_WEIGHT  # no better cut exists than one day's work away
    assert plan_workers({}, 3) == []
    assert plan_workers({day(0): 3}, 4) == [[(day(0), day(0))]]


def test_days_are_split_into_contiguous_ranges_of_about_equal_work():
    from pipelines.parallel import split_days

    start, end = dt.date(2021, 1, 1), dt.date(2021, 1, 10)
    even = split_days(start, end, 3)
    assert even == [(dt.date(2021, 1, 1), dt.date(2021, 1, 4)), (dt.date(2021, 1, 5), dt.date(2021, 1, 7)),
                    (dt.date(2021, 1, 8), dt.date(2021, 1, 10))]
    # nine articles on the first day, one on each other: the first worker gets that day alone
    weights = {start + dt.timedelta(days=i): (9 if i == 0 else 1) for i in range(10)}
    assert split_days(start, end, 2, weights) == [(start, start), (dt.date(2021, 1, 2), end)]
    assert split_days(start, start, 4) == [(start, start)]  # never an empty range
    with pytest.raises(ValueError):
        split_days(start, end, 0)
