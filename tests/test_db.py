"""Schema management: tables, migrations of older databases, parameterised queries."""

import duckdb

from narrative_tracker import db


def test_old_database_gets_new_columns_and_views(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as old:  # a paragraph_narratives table from before stance existed
        old.execute(
            "CREATE TABLE paragraph_narratives (paragraph_id VARCHAR NOT NULL, narrative_id VARCHAR NOT NULL, "
            "partition_date DATE NOT NULL, score DOUBLE NOT NULL, method VARCHAR NOT NULL, model VARCHAR NOT NULL, "
            "assigned_at TIMESTAMP NOT NULL)"
        )
        old.execute("INSERT INTO paragraph_narratives VALUES ('p', 'n', DATE '2022-01-05', 0.5, 'codebook', 'm', now())")
    with db.connection(path) as con:
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'paragraph_narratives'").fetchall()]
        assert "stance" in columns and "evidence" in columns
        assert con.execute("SELECT count(*) FROM paragraph_narratives").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM narrative_daily").fetchone()[0] == 0


def test_statements_split_and_run_script_passes_only_used_parameters(con):
    assert db.statements("SELECT 1;\n-- comment\nSELECT $x;\n") == ["SELECT 1", "SELECT $x"]
    db.run_script(con, "delete_assignments", {"start": "2000-01-01", "end": "2000-01-02", "method": "codebook", "unused": 1})
