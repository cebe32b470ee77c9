"""`narratives run --workers 2` on DuckLake with a real PostgreSQL catalog: two worker processes share the spans of
days holding articles and end with the tables one process gives on a DuckDB file."""

import numpy as np
import pytest

from pipelines.cli import main

pytestmark = pytest.mark.slow

CLAIMS = """date,outlet,title,text
2019-03-01,Outlet A,Foreign hand,The protests were organised by foreign intelligence services to weaken the country.
2019-03-01,Outlet B,Weather,Rain is expected in the capital on Sunday with temperatures near ten degrees.
2019-03-02,Outlet A,Agents,Western embassies paid the organisers of the riots and told them what to chant.
2019-03-03,Outlet C,Markets,The central bank left its key rate unchanged and the currency held steady.
2020-03-02,Outlet A,Terrorists,Militants trained abroad infiltrated the crowds and attacked police stations.
2020-03-02,Outlet C,Football,The national team won the friendly match two to one after extra time.
2020-03-04,Outlet B,Peacekeepers,The allied troops arrived at the request of the president to protect key facilities.
"""


def _tables(con):
    rows = [con.execute(q).fetchall() for q in (
        "SELECT paragraph_id, partition_date, text FROM paragraphs ORDER BY ALL",
        "SELECT paragraph_id, narrative_id, stance FROM paragraph_narratives WHERE method = 'codebook' ORDER BY ALL",
        "SELECT c.* FROM narrative_daily_counts c JOIN narratives n USING (narrative_id) WHERE n.origin = 'codebook' ORDER BY ALL",
    )]
    embedded = con.execute("SELECT text_hash, embedding FROM paragraph_embeddings ORDER BY text_hash").fetchall()
    return rows, [h for h, _ in embedded], np.array([v for _, v in embedded], dtype=np.float32)


def test_two_workers_on_the_lake_give_the_tables_of_one_process_on_a_file(tmp_path, lake_url, capsys):
    from narrative_tracker import db

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "claims.csv").write_text(CLAIMS, encoding="utf-8")
    assert main(["run", "--input", str(inbox), "--db", lake_url, "--workers", "2"]) == 0
    out = capsys.readouterr().out
    # two spans (2019-03-01..03 and 2020-03-02..04, a year apart), shared by two workers, no empty day in between
    assert "then 2 workers over the days holding articles (2019-03-01..2019-03-0" in out, out
    workers = [line for line in out.splitlines() if line.strip().startswith("worker ")]
    assert len(workers) == 2 and all(": ok in " in w for w in workers), workers
    file_db = tmp_path / "one.duckdb"
    assert main(["run", "--input", str(inbox), "--db", str(file_db)]) == 0
    with db.connection(lake_url, read_only=True) as lake, db.connection(file_db, read_only=True) as one:
        (lake_rows, lake_hashes, lake_vectors), (file_rows, file_hashes, file_vectors) = _tables(lake), _tables(one)
    assert lake_rows[0] and lake_rows[1], "paragraphs and codebook assignments to compare"
    assert lake_rows == file_rows and lake_hashes == file_hashes
    # bf16 vectors differ in their last bits when other texts share their batch (docs/deploy.md)
    assert np.allclose(lake_vectors, file_vectors, atol=5e-3)
