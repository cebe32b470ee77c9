"""Memory is bounded per field (issue 27, defect 8): one 10 MB text field once took 2.5 GB, so a file near the 50 MB
cap would have needed ~11 GB. Now an article over textsafe.MAX_ARTICLE_CHARS is quarantined before its text is
split, and a paragraph over textsafe.MAX_PARAGRAPH_CHARS is split at sentence ends: a generated 49 MB file goes
through ingest and the paragraphs stage (where a file's fields live in memory) under 1 GB of peak RSS, measured on
the process that did the work. (A whole `narratives run` also holds the model, Dagster and discovery: 1.6 GB on
the 5-file sample already, docs/security.md.)"""

import json
import sys

import duckdb
import pytest
from conftest import REPO
from hostile_cases import big_jsonl, peak_rss

from narrative_tracker import textsafe

LIMIT_MB = 1024

STAGES = r"""
import datetime as dt, json, sys
from narrative_tracker import db
from narrative_tracker.ingest.files import ingest_paths
from narrative_tracker.paragraphs.split import build_paragraphs
with db.connection(sys.argv[1]) as con:
    report = ingest_paths(con, [sys.argv[2]])
    paragraphs = build_paragraphs(con, dt.date(2000, 1, 1), dt.date(2030, 1, 1))
print(json.dumps({"articles": report.articles_new, "quarantine": dict(report.quarantine_reasons),
                  "split": getattr(paragraphs, "long_blocks_split", None)}))
"""


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    path = folder / "inbox" / "big.jsonl"
    path.parent.mkdir()
    counts = big_jsonl(path)
    assert 45 * 2**20 < path.stat().st_size < 50 * 2**20
    return path, counts


def _check_database(database, counts):
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT locator, reason FROM quarantine").fetchall() == [("line 2", "article over size cap")]
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == counts["ordinary"] + counts["long"]
        longest = con.execute("SELECT max(length(text)) FROM paragraphs").fetchone()[0]
        assert longest <= textsafe.MAX_PARAGRAPH_CHARS
        pieces = con.execute("SELECT count(*) FROM paragraphs p JOIN articles a USING (article_id) WHERE a.title = 'Long 0'").fetchone()[0]
        assert pieces >= 900_000 // textsafe.MAX_PARAGRAPH_CHARS  # split, not cut: the whole text is kept


@pytest.mark.slow
def test_a_49_mb_file_is_ingested_and_split_under_1_gb(big_file, tmp_path):
    path, counts = big_file
    database = tmp_path / "m.duckdb"
    proc, peak_mb = peak_rss([sys.executable, "-c", STAGES, str(database), str(path)], cwd=REPO, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.splitlines()[0])
    assert result == {"articles": counts["ordinary"] + counts["long"], "quarantine": {"article over size cap": 1}, "split": 3}
    assert peak_mb < LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"
    print(f"ingest + paragraphs of a {path.stat().st_size / 2**20:.1f} MB file: peak RSS {peak_mb:.0f} MB")
    (tmp_path / "m.duckdb").unlink(missing_ok=True)
    (tmp_path / "m.work.duckdb").rename(database)
    _check_database(database, counts)
