"""Analyst commands cannot reach outside the database; a locked database gets one clear story from every
command; a run without --input re-processes the database and never ingests the bundled sample."""

import hashlib
import subprocess
import sys
import time

import duckdb
import pytest
from conftest import REPO

from narrative_tracker import db
from narrative_tracker.ingest.files import ingest_paths
from pipelines.cli import main

ARTICLE = "Jan 5, 2022\n\nA headline of the analyst's own\n\nA paragraph of the analyst's own corpus about the events of the week.\n"


@pytest.fixture
def small_db(tmp_path):
    """A published database with one article (no model needed)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(ARTICLE)
    path = tmp_path / "small.duckdb"
    with db.connection(path) as con:
        ingest_paths(con, [tmp_path / "in"])
    db.publish(path)
    return path


def test_sql_reads_the_database(small_db, capsys):
    assert main(["sql", "SELECT count(*) AS n FROM articles", "--db", str(small_db)]) == 0
    assert "│ 1 │" in capsys.readouterr().out


@pytest.mark.parametrize("statement", [
    "COPY articles TO '{out}'",
    "COPY (SELECT 1) TO '{out}' (FORMAT csv)",
    "EXPORT DATABASE '{dir}'",
    "SELECT content FROM read_text('{secret}')",
    "SELECT * FROM read_csv('{secret}')",
    "ATTACH '{other}' AS other",
    "SET enable_external_access = true",
])
def test_sql_cannot_reach_files_outside_the_database(small_db, tmp_path, capsys, statement):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-e41b private line\n")
    out, other = tmp_path / "out.csv", tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    sql = statement.format(out=out, dir=tmp_path / "export", secret=secret, other=other)
    assert main(["sql", sql, "--db", str(small_db)]) == 1
    captured = capsys.readouterr()
    assert "SECRET-e41b" not in captured.out + captured.err
    assert not out.exists() and not (tmp_path / "export").exists()
    assert "disabled by configuration" in captured.err or "configuration has been locked" in captured.err
    if "disabled" in captured.err:
        assert "refused" in captured.err and "reads only the database" in captured.err


def test_interactive_sql_is_sandboxed_too(small_db, tmp_path):
    out = tmp_path / "out.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sql", "--db", str(small_db)], cwd=REPO, text=True, capture_output=True,
        input=f"SELECT count(*) AS n\nFROM articles;\nCOPY articles TO '{out}';\n", timeout=120,
    )
    assert proc.returncode == 0
    assert "│ 1 │" in proc.stdout and "refused" in proc.stderr and not out.exists()


def _hold(path):
    """A second process that holds ``path`` open for writing until killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time\ncon = duckdb.connect({str(path)!r})\nprint('holding', flush=True)\ntime.sleep(300)\n"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_command_meeting_a_locked_working_file_says_which_and_what_to_do(small_db, tmp_path, capsys):
    work = db.working_path(small_db)
    with db.connection(small_db):  # make sure the working file exists
        pass
    before = _digest(small_db)
    holder = _hold(work)
    try:
        (tmp_path / "more").mkdir()
        (tmp_path / "more" / "b.txt").write_text(ARTICLE.replace("own", "other"))
        commands = [
            ["run", "--input", str(tmp_path / "more"), "--db", str(small_db)],
            ["run", "--db", str(small_db)],
            ["narrative", "rename", "foreign_hand", "New label", "--db", str(small_db)],
        ]
        for argv in commands:
            assert main(argv) == 3, argv
            err = capsys.readouterr().err
            assert f"{work} is locked by another process (PID {holder.pid}" in err, argv
            assert "Wait for that run to finish" in err and f"The published copy {small_db} is unchanged" in err, argv
            assert "Traceback" not in err
        assert _digest(small_db) == before  # the published copy is intact
        assert main(["summary", "--db", str(small_db)]) == 0  # readers of the published copy are not blocked
    finally:
        holder.kill()
        holder.wait()


def test_a_published_file_opened_for_writing_elsewhere_is_explained(small_db, capsys):
    holder = _hold(small_db)
    try:
        for argv in (["summary", "--db", str(small_db)], ["sql", "SELECT 1", "--db", str(small_db)],
                     ["report", "--db", str(small_db), "--out", str(small_db.parent / "r.html")]):
            assert main(argv) == 3, argv
            err = capsys.readouterr().err
            assert f"{small_db} is locked by another process (PID {holder.pid}" in err
            assert "opened the published database for writing" in err and "duckdb -readonly" in err
    finally:
        holder.kill()
        holder.wait()


def test_run_without_input_and_without_a_database_says_what_to_give(tmp_path, capsys):
    assert main(["run", "--db", str(tmp_path / "none.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "no --input given" in err and "--input data/sample" in err
    assert not (tmp_path / "none.duckdb").exists() and not db.working_path(tmp_path / "none.duckdb").exists()


@pytest.mark.slow
def test_run_without_input_reprocesses_the_database_and_never_ingests_the_sample(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(ARTICLE)
    path = tmp_path / "analyst.duckdb"
    assert main(["run", "--input", str(tmp_path / "in"), "--db", str(path)]) == 0
    with duckdb.connect(str(path), read_only=True) as con:
        before = con.execute("SELECT article_id FROM articles ORDER BY 1").fetchall()
        last = con.execute("SELECT max(ingested_at) FROM source_files").fetchone()
    capsys.readouterr()
    time.sleep(0.01)
    assert main(["run", "--db", str(path)]) == 0
    assert "no --input: re-processing every day" in capsys.readouterr().out
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT article_id FROM articles ORDER BY 1").fetchall() == before
        assert con.execute("SELECT count(*) FROM articles WHERE source_path LIKE '%data/sample%'").fetchone()[0] == 0
        assert con.execute("SELECT max(ingested_at) FROM source_files").fetchone() == last  # nothing was read
        assert con.execute("SELECT count(*) FROM paragraphs p ANTI JOIN paragraph_embeddings e USING (text_hash)").fetchone()[0] == 0


@pytest.mark.parametrize("command", [["summary"], ["alerts"], ["narrative", "list"], ["narrative", "reject", "d_0000000000"],
                                     ["report"], ["search", "anything", "--mode", "keyword"], ["sql", "SELECT 1"], ["review"]])
def test_every_reading_command_on_a_missing_database_says_so_in_one_line(tmp_path, capsys, command):
    missing = tmp_path / "nowhere.duckdb"
    assert main([*command, "--db", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"narratives: no database at {missing}; run `narratives run` first"]
    assert not missing.exists()


def test_a_file_that_is_not_a_narratives_database_is_one_line_too(tmp_path, capsys):
    import duckdb

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    assert main(["alerts", "--db", str(other)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"narratives: {other}: ") and "alerts" in err[0]
