"""User mistakes get one line and exit status 2, never a traceback (issue 27, defect 11); ``--out`` never
destroys the database and writes atomically (defect 5)."""

import hashlib
import os
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES, REPO

from narrative_tracker import db
from narrative_tracker.ingest.files import ingest_paths

ARTICLE = "Jan 5, 2022\n\nA headline of the analyst's own\n\nA paragraph of the analyst's own corpus about the events of the week.\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A published database with one article (and its working copy), and another DuckDB file; built once."""
    folder = tmp_path_factory.mktemp("template")
    (folder / "in").mkdir()
    (folder / "in" / "a.txt").write_text(ARTICLE)
    with db.connection(folder / "small.duckdb") as con:
        ingest_paths(con, [folder / "in"])
    db.publish(folder / "small.duckdb")
    with db.connection(folder / "other.duckdb"):
        pass
    db.publish(folder / "other.duckdb")
    return folder


@pytest.fixture
def small_db(template, tmp_path):
    for name in ("small.duckdb", "small.work.duckdb", "other.duckdb"):
        shutil.copyfile(template / name, tmp_path / name)
    return tmp_path / "small.duckdb"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


class _Done:
    def __init__(self, returncode, stderr):
        self.returncode, self.stderr = returncode, stderr


@pytest.fixture
def cli(capsys):
    """``narratives ARGS`` in this process (argparse's exit included): status and stderr."""
    from pipelines.cli import main

    def run(*args):
        try:
            status = main(list(args))
        except SystemExit as exit_:
            status = exit_.code
        return _Done(status, capsys.readouterr().err)

    return run


def _one_line(proc, status=2):
    assert proc.returncode == status, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1 and proc.stderr.startswith("narratives: "), proc.stderr
    return proc.stderr


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("args, words", [
    (["report", "--day", "yesterday"], "--day"),
    (["report", "--day", "2022-02-30"], "--day"),
    (["search", "riots", "--mode", "keyword", "--from", "2022-13-01"], "--from"),
    (["search", "riots", "--mode", "keyword", "--to", "soon"], "--to"),
    (["alerts", "--since", "nope"], "--since"),
    (["alerts", "--limit", "-3"], "--limit"),
    (["review", "--limit", "0"], "--limit"),
    (["search", "riots", "--limit", "many"], "--limit"),
    (["report", "--nonsense"], "unrecognized"),
    (["narrative", "rename", "d_x"], "LABEL"),
    (["no-such-command"], "invalid choice"),
])
def test_a_bad_argument_is_one_line(small_db, cli, args, words):
    err = _one_line(cli(*args, "--db", str(small_db)) if args[0] != "no-such-command" else cli(*args))
    assert words in err


def test_an_input_that_does_not_exist_is_one_line(tmp_path):
    err = _one_line(_cli("run", "--db", str(tmp_path / "n.duckdb"), "--input", str(tmp_path / "missing")))
    assert "missing" in err


@pytest.mark.parametrize("command", ["report", "review"])
@pytest.mark.parametrize("target", ["published", "wal", "working", "working wal", "other database", "directory", "link"])
def test_out_never_touches_a_database(small_db, tmp_path, cli, command, target):
    work = db.working_path(small_db)
    other = tmp_path / "other.duckdb"
    link = tmp_path / "link.html"
    link.symlink_to(tmp_path / "elsewhere.html")
    out = {"published": small_db, "wal": small_db.with_name(small_db.name + ".wal"), "working": work,
           "working wal": work.with_name(work.name + ".wal"), "other database": other, "directory": tmp_path, "link": link}[target]
    before = {p: _sha(p) for p in (small_db, work, other)}
    listing = sorted(os.listdir(tmp_path))
    err = _one_line(cli(command, "--db", str(small_db), "--out", str(out)))
    assert "--out" in err
    assert {p: _sha(p) for p in before} == before
    assert sorted(os.listdir(tmp_path)) == listing  # nothing written anywhere, no temporary file left
    assert not (tmp_path / "elsewhere.html").exists()


def test_codebook_import_never_overwrites_the_database(small_db, cli):
    before = _sha(small_db)
    _one_line(cli("codebook", "import-semeval", str(FIXTURES / "semeval2025-task10-en"), "--out", str(small_db)))
    assert _sha(small_db) == before


@pytest.mark.parametrize("command", ["report", "review"])
def test_out_is_written_atomically(small_db, tmp_path, monkeypatch, command):
    from narrative_tracker.narratives.review import export_review
    from narrative_tracker.surfaces.report import write_report

    out = tmp_path / "out" / "file"
    out.parent.mkdir()
    out.write_text("the previous version\n")

    def crash(fd):  # the disk fills up, or the machine stops, after the bytes were handed over and before the rename
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="No space"):
        if command == "report":
            write_report(small_db, out)
        else:
            with db.connection(small_db, read_only=True) as con:
                export_review(con, out)
    assert out.read_text() == "the previous version\n"
    assert os.listdir(out.parent) == ["file"]  # the temporary file is gone too


def test_a_good_out_is_written_with_nothing_beside_it(small_db, tmp_path):
    out = tmp_path / "reports" / "week.html"
    proc = _cli("report", "--db", str(small_db), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert os.listdir(out.parent) == ["week.html"] and out.read_text().startswith("<!doctype html>")
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
