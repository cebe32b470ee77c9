"""End to end: the real CLI, real Dagster runs, the real model, a real DuckDB file."""

import datetime as dt

import duckdb
import pytest

from conftest import FIXTURES, SAMPLE
from pipelines.cli import main

pytestmark = pytest.mark.slow


def _counts(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM paragraphs), "
            "(SELECT count(*) FROM paragraph_embeddings), (SELECT count(*) FROM quarantine)"
        ).fetchone()


def test_sample_corpus_end_to_end_and_rerun_adds_nothing(tmp_path, capsys):
    db = tmp_path / "n.duckdb"
    assert main(["run", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "every_paragraph_embedded passed" in out and "New Eastern Outlook" in out
    articles, paragraphs, embeddings, quarantined = _counts(db)
    assert (articles, paragraphs, embeddings, quarantined) == (5, 80, 80, 0)
    with duckdb.connect(str(db), read_only=True) as con:
        outlets = {r[0] for r in con.execute("SELECT outlet FROM articles WHERE outlet IS NOT NULL").fetchall()}
        assert outlets == {"New Eastern Outlook", "Rossa Primavera News Agency"}
        dated = con.execute("SELECT count(*) FROM articles WHERE date_source = 'text'").fetchone()[0]
        assert dated == 4
        junk = con.execute(
            "SELECT count(*) FROM paragraphs WHERE text IN ('0 0', 'Leave a Reply', 'Similar Posts', 'Article Categories:') "
            "OR text LIKE 'Photo:%' OR text LIKE 'Source:%' OR text LIKE 'By %' OR text LIKE '* %' OR text LIKE 'Your email address%'"
        ).fetchone()[0]
        assert junk == 0
        headline_as_paragraph = con.execute(
            "SELECT count(*) FROM paragraphs p JOIN articles a USING (article_id) WHERE p.text = a.title"
        ).fetchone()[0]
        assert headline_as_paragraph == 0

    assert main(["run", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "embedded 0 new texts" in out and "5 unchanged" in out
    assert _counts(db) == (articles, paragraphs, embeddings, quarantined)

    assert main(["run", "--db", str(db), "--force"]) == 0
    assert _counts(db) == (articles, paragraphs, embeddings, quarantined)


def test_mixed_formats_and_bad_files_in_one_run(tmp_path, capsys):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in sorted((FIXTURES).rglob("*")):
        if path.is_file():
            (inbox / f"{path.parent.name}-{path.name}").write_bytes(path.read_bytes())
    (inbox / "broken.txt").write_bytes(b"\x00\x01\x02binary")
    db = tmp_path / "m.duckdb"
    assert main(["run", "--db", str(db), "--input", str(inbox), "--input", str(SAMPLE)]) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        formats = {r[0] for r in con.execute("SELECT DISTINCT source_format FROM articles").fetchall()}
        assert formats == {"text", "html", "csv", "jsonl", "feed"}
        assert con.execute("SELECT count(*) FROM quarantine WHERE reason = 'binary file'").fetchone()[0] == 1
        missing = con.execute(
            "SELECT count(*) FROM paragraphs p LEFT JOIN paragraph_embeddings e USING (text_hash) WHERE e.text_hash IS NULL"
        ).fetchone()[0]
        assert missing == 0
    before = _counts(db)
    assert main(["run", "--db", str(db), "--input", str(inbox), "--input", str(SAMPLE)]) == 0
    assert _counts(db) == before


def test_cli_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ["--input", "--db", "--model", "--text-column", "--title-column", "--date-column", "--outlet-column",
                   "--list-separator", "--format", "--force"]:
        assert option in out


def test_missing_input_is_an_error(tmp_path, capsys):
    assert main(["run", "--db", str(tmp_path / "x.duckdb"), "--input", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
