"""A warehouse setting is data, never SQL (issue 27, defect 3): a DuckLake PostgreSQL URL holding a quote was pasted
into the ATTACH statement, and with it a read-only `narratives sql` session wrote a file and attached the lake
read-write. Settings are now validated strictly (no quote outside a libpq-quoted value, no backslash, no control
character) and every literal of the statement is escaped (``warehouse.sql_string``); ATTACH takes no bound
parameters in DuckDB 1.5 (`ATTACH $1` is a syntax error)."""

import duckdb
import pytest

from narrative_tracker import schema, warehouse
from pipelines.cli import main

ESCAPES = [
    "application_name=x'AS/**/lake;COPY(SELECT(42))TO('{out}');--",
    "application_name=x'(READ_ONLY/**/false);COPY(SELECT(42))TO('{out}');--",
    "dbname='a''b'",
    "application_name='x\\'';COPY(SELECT(42))TO('{out}');--'",
    "application_name=x\\';",
    "application_name=x\x00",
    "application_name=x\x1b[2J",
]


@pytest.mark.parametrize("extra", ESCAPES)
def test_a_setting_that_would_leave_its_literal_is_refused(extra, tmp_path):
    url = "ducklake:postgres:dbname=lake host=127.0.0.1 " + extra.format(out=tmp_path / "pwned.csv")
    with pytest.raises(warehouse.WarehouseError):
        warehouse.parse(url)


@pytest.mark.parametrize("data_path", ["/tmp/x'y/", "/tmp/x\x00/", "/tmp/x\x1b/"])
def test_a_data_path_that_would_leave_its_literal_is_refused(data_path):
    with pytest.raises(warehouse.WarehouseError):
        warehouse.parse("ducklake:data/lake.ducklake", data_path)


def test_every_literal_reads_back_as_given():
    """A libpq-quoted value (spaces inside) survives: the statement's literal is escaped, and DuckDB reads it back
    as exactly the connection string that was given."""
    wh = warehouse.parse("ducklake:postgres:dbname='my lake' host=127.0.0.1 options='-c search_path=x'", "/data/my lake/")
    statement = warehouse.attach_statement(wh, read_only=True)
    literals = statement.split("ATTACH ", 1)[1]
    target = literals.split(" AS lake", 1)[0]
    assert duckdb.execute(f"SELECT {target}").fetchone()[0] == "ducklake:postgres:dbname='my lake' host=127.0.0.1 options='-c search_path=x'"
    assert warehouse.sql_string("it's") == "'it''s'"
    with pytest.raises(warehouse.WarehouseError):
        warehouse.sql_string("x\x00")


@pytest.mark.slow
def test_read_only_sql_cannot_be_escaped_through_the_url(lake_url, tmp_path, capsys):
    """The audit's case, on a real lake: with the fix the URL is refused (exit 2) before anything is attached."""
    schema.setup(lake_url, dim=16)
    out = tmp_path / "pwned.csv"
    for extra in ESCAPES[:2]:
        status = main(["sql", "SELECT 1 AS one", "--db", f"{lake_url} {extra.format(out=out)}"])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1, err
        assert not out.exists()
    assert main(["sql", "SELECT count(*) AS n FROM articles", "--db", lake_url]) == 0  # the plain URL still works
    assert main(["sql", "CREATE TABLE t (i INTEGER)", "--db", lake_url]) == 1  # and stays read-only
    assert "read-only" in capsys.readouterr().err.lower()
