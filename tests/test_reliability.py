"""Crashes and concurrent readers: a killed run loses nothing and duplicates nothing; an analyst's open
session never blocks a run and sees a consistent snapshot."""

import os
import signal
import subprocess
import sys

import duckdb
import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

STATE = (
    "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM paragraphs), (SELECT count(DISTINCT paragraph_id) FROM paragraphs), "
    "(SELECT count(*) FROM paragraph_embeddings), "
    "(SELECT count(*) FROM paragraph_narratives WHERE method = 'codebook'), "
    "(SELECT count(DISTINCT (paragraph_id, narrative_id)) FROM paragraph_narratives WHERE method = 'codebook'), "
    "(SELECT count(*) FROM narratives WHERE origin = 'discovered')"
)


def _cli(*args, **kwargs):
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore")
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def _state(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(STATE).fetchone()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "ref.duckdb"
    proc = _cli("run", "--input", str(REPO / "data/sample"), "--db", str(path))
    assert proc.wait(timeout=600) == 0, proc.stdout.read()
    return _state(path)


@pytest.mark.parametrize("kill_after", [8.0, 25.0])
def test_kill_9_then_rerun_equals_a_clean_run(tmp_path, reference, kill_after):
    path = tmp_path / "crash.duckdb"
    proc = _cli("run", "--input", str(REPO / "data/sample"), "--db", str(path))
    try:
        proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)  # wherever it is: ingest, a DuckDB write, embedding, clustering
        proc.wait()
    if path.exists():  # a published file is always whole: it opens and its tables read (embeddings may not exist yet)
        with duckdb.connect(str(path), read_only=True) as con:
            for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                con.execute(f"SELECT count(*) FROM {table}").fetchone()  # names from the catalog, not from input
    again = _cli("run", "--input", str(REPO / "data/sample"), "--db", str(path))
    assert again.wait(timeout=600) == 0, again.stdout.read()
    state = _state(path)
    assert state == reference
    assert state[1] == state[2] and state[4] == state[5]  # no duplicated paragraphs or assignments


def test_open_reader_does_not_block_a_run_and_keeps_its_snapshot(tmp_path, reference):
    path = tmp_path / "shared.duckdb"
    first = _cli("run", "--db", str(path), "--input", str(REPO / "data/sample/000_c0d7018fb3238484.txt"))
    assert first.wait(timeout=600) == 0, first.stdout.read()
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(path)!r}, read_only=True)\n"
         "print(con.execute('SELECT count(*) FROM articles').fetchone()[0], flush=True)\n"
         "sys.stdin.readline()\n"
         "print(con.execute('SELECT count(*) FROM articles').fetchone()[0], flush=True)\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert reader.stdout.readline().strip() == "1"
    second = _cli("run", "--input", str(REPO / "data/sample"), "--db", str(path))  # the whole sample, while the analyst's session is open
    assert second.wait(timeout=600) == 0, second.stdout.read()
    reader.stdin.write("\n")
    reader.stdin.flush()
    assert reader.stdout.readline().strip() == "1"  # the session still sees its snapshot
    reader.wait(timeout=30)
    # a new session sees the new data. (Discovered clusters are left out of this comparison: this database was
    # built in two runs, and a text's vector differs in the 7th digit with the batch it was embedded in, which
    # UMAP can amplify on a 30-text corpus. The same input run the same way gives identical clusters.)
    assert _state(path)[:6] == reference[:6]
