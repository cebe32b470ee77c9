"""Schema management: tables, migrations of older databases, parameterised queries."""

import duckdb

from narrative_tracker import db, schema


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


def test_schema_2_database_gets_claim_labels_and_unknown_stance(tmp_path):
    """A database written before claim labels: stance was NOT NULL and narratives had no claim_label."""
    path = tmp_path / "v2.duckdb"
    with duckdb.connect(str(path)) as old:
        old.execute("CREATE TABLE paragraph_narratives (paragraph_id VARCHAR NOT NULL, narrative_id VARCHAR NOT NULL, "
                    "partition_date DATE NOT NULL, score DOUBLE NOT NULL, method VARCHAR NOT NULL, stance VARCHAR NOT NULL, "
                    "model VARCHAR NOT NULL, assigned_at TIMESTAMP NOT NULL)")
        old.execute("CREATE TABLE narratives (narrative_id VARCHAR PRIMARY KEY, label VARCHAR NOT NULL, origin VARCHAR NOT NULL, "
                    "paragraphs INTEGER NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)")
        old.execute("INSERT INTO narratives VALUES ('d_1', 'ablyazov / tokayev', 'discovered', 1, now(), now())")
    with db.connection(path) as con:
        con.execute("INSERT INTO paragraph_narratives (paragraph_id, narrative_id, partition_date, score, method, stance, model, assigned_at) "
                    "VALUES ('p', 'd_1', DATE '2022-01-05', 0.5, 'discovered', NULL, 'm', now())")
        assert con.execute("SELECT label, claim_label FROM narratives").fetchall() == [("ablyazov / tokayev", None)]
        assert con.execute("SELECT value FROM pipeline_meta WHERE key = 'schema_version'").fetchone()[0] == schema.SCHEMA_VERSION
    with db.connection(path) as con:  # the migration runs again on every open without harm
        assert con.execute("SELECT count(*) FROM paragraph_narratives WHERE stance IS NULL").fetchone()[0] == 1


def test_statements_split_and_run_script_passes_only_used_parameters(con):
    assert db.statements("SELECT 1;\n-- comment\nSELECT $x;\n") == ["SELECT 1", "SELECT $x"]
    # a comment ending in ';' inside a statement (a column's note) does not cut it; '--' in a literal is kept
    ddl = "CREATE TABLE t (\n  a INT,  -- first;\n  b VARCHAR DEFAULT '--;'\n);\nSELECT 2;"
    assert db.statements(ddl) == ["CREATE TABLE t (\n  a INT,\n  b VARCHAR DEFAULT '--;'\n)", "SELECT 2"]
    for statement in db.statements(ddl):
        con.execute(statement)
    db.run_script(con, "delete_assignments", {"start": "2000-01-01", "end": "2000-01-02", "method": "codebook", "unused": 1})


def test_schema_2_paragraphs_get_a_language_column_filled_from_their_article(tmp_path):
    path = tmp_path / "v2.duckdb"
    with db.connection(path) as con:  # build a current database, then take it back to schema 2
        con.execute("INSERT INTO articles (article_id, date_source, partition_date, language, body, source_path, source_sha256, "
                    "source_format, ingested_at) VALUES ('a1', 'none', DATE '2022-01-05', 'ru', 'Текст', 'f', 's', 'text', now())")
        con.execute("ALTER TABLE paragraphs DROP COLUMN language")
        con.execute("INSERT INTO paragraphs VALUES ('a1-0000', 'a1', DATE '2022-01-05', 0, 0, 'body', 'Текст', 'h', 1)")
    with db.connection(path) as con:
        assert con.execute("SELECT paragraph_id, language FROM paragraphs").fetchall() == [("a1-0000", "ru")]
        assert con.execute("SELECT value FROM pipeline_meta WHERE key = 'schema_version'").fetchone() == (schema.SCHEMA_VERSION,)
