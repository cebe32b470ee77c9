"""Hostile input through whole `narratives run`s, each command in its own process as an analyst runs them (issue 27,
defects 1, 2, 6, 7, 9, 12 together): controls in outlets and titles, a lone surrogate, a JSON line nested too deep,
an RSS item with &#xD800;, NUL bytes, one bad UTF-8 byte and terminal escapes arrive in one batch; then an analyst
renames a narrative to a string with control characters, and an older version's unsanitised values are planted in
the database. Every later run and report still succeeds, the good records are all in, the bad ones in quarantine,
no output holds a raw control character and no file appears beside the report."""

import csv
import json
import os
import subprocess
import sys

import duckdb
import html5lib
import pytest
from conftest import REPO
from hostile_cases import GOOD_TEXT, UNSAFE, assert_terminal_safe, rss, stored_strings

from narrative_tracker import db

pytestmark = pytest.mark.slow

ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"
PLANTED = ("Legacy\x01\x00 outlet\ufffe", "Legacy\x1b[5m label\uffff")  # as an older version stored them
CLAIMS = [  # paraphrases of the codebook's "foreign hand", so that charts and the report have rows
    "Foreign intelligence services planned and paid for the riots in the capital, officials claimed.",
    "Western organisers abroad coordinated the attempted coup, a colour revolution on the Maidan model.",
    "Washington and its NATO allies staged the riots to destabilise the country from outside.",
]


def _deliver(inbox):
    inbox.mkdir()
    with open(inbox / "claims.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "text", "date", "outlet"])
        for i, claim in enumerate(CLAIMS):
            writer.writerow([f"{ESC}Title {i}\x01", claim, "2022-01-06", f"Outlet{ESC} {i % 2}\x00\ufffe"])
    (inbox / "surrogate.jsonl").write_text(json.dumps({"text": GOOD_TEXT.format(n=1), "date": "2022-01-06"}) + "\n"
                                           + '{"text": "\\ud800 A lone surrogate opens this record.", "date": "2022-01-06"}\n'
                                           + "[" * 100_000 + "\n")
    (inbox / "feed.rss").write_text(rss([GOOD_TEXT.format(n=2), "Bad &#xD800; entry."], title=f"Feed{ESC}"))
    text = "Заголовок\n\nВласти сообщили о задержании участников беспорядков в Алматы, — сказано в сообщении.\n"
    data = text.encode()
    (inbox / "bad-byte.txt").write_bytes(data[:30] + b"\xff" + data[30:])
    (inbox / "late-nul.txt").write_bytes((f"Headline\n\n{GOOD_TEXT.format(n=3)} " + "word " * 2000).encode() + b"\x00\x00 tail.\n")


def _cli(*args, timeout=1200):
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert_terminal_safe(proc.stdout)
    assert_terminal_safe(proc.stderr)
    return proc


def _ok(proc):
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    return proc.stdout


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile_run")
    inbox, database, report = root / "inbox", root / "h.duckdb", root / "out" / "report.html"
    _deliver(inbox)
    first = _ok(_cli("run", "--db", str(database), "--input", str(inbox)))
    renamed = _ok(_cli("narrative", "rename", "foreign_hand", f"Foreign\x01 hand{ESC}", "--db", str(database)))
    # an older version stored these unsanitised: plant them in the working file and publish, as a run would
    with duckdb.connect(str(db.working_path(database))) as con:
        con.execute("UPDATE articles SET outlet = $v WHERE source_format = 'csv'", {"v": PLANTED[0]})
        con.execute("UPDATE narratives SET label = $v WHERE narrative_id = 'isis_infiltration'", {"v": PLANTED[1]})
    db.publish(database)
    second = _ok(_cli("run", "--db", str(database)))  # re-processes every day: charts drawn from the planted values
    written = _ok(_cli("report", "--db", str(database), "--out", str(report), "--day", "2022-01-06"))
    return root, database, report, {"first": first, "rename": renamed, "second": second, "report": written}


def test_every_run_and_the_report_succeed(hostile_runs):
    root, database, report, outputs = hostile_runs
    assert "This run:" in outputs["first"] and "done in" in outputs["second"]
    html = report.read_text(encoding="utf-8")
    assert not UNSAFE.search(html)
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    assert "Foreign hand" in html and "<svg" in html
    assert os.listdir(report.parent) == ["report.html"]


def test_good_records_are_in_and_bad_ones_quarantined(hostile_runs):
    _, database, _, _ = hostile_runs
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 3 + 2 + 1 + 1 + 1
        assert sorted((os.path.basename(p), loc, r) for p, loc, r in con.execute(
            "SELECT source_path, locator, reason FROM quarantine").fetchall()) == [
            ("feed.rss", "entry 2", "invalid character"), ("surrogate.jsonl", "line 3", "malformed json")]
        notes = dict((os.path.basename(p), r) for p, r in con.execute("SELECT path, reason FROM input_files").fetchall())
        assert notes["bad-byte.txt"].startswith("repaired: 1 invalid UTF-8 sequence")
        assert notes["late-nul.txt"] == "repaired: 2 NUL bytes removed"
        body = con.execute("SELECT body FROM articles WHERE source_path LIKE '%bad-byte.txt'").fetchone()[0]
        assert "Алматы" in body and "\ufffd" in body
        assert con.execute("SELECT label FROM narratives WHERE narrative_id = 'foreign_hand'").fetchone()[0] == "Foreign hand]0;pwned[2J[31m"
        assert con.execute("SELECT count(*) FROM paragraph_narratives WHERE narrative_id = 'foreign_hand'").fetchone()[0] >= 1


def test_terminal_surfaces_show_no_raw_control_character(hostile_runs):
    _, database, _, _ = hostile_runs
    for command in (["summary"], ["narrative", "list"], ["search", "riots organised abroad", "--mode", "keyword"], ["alerts"]):
        out = _ok(_cli(*command, "--db", str(database)))  # _cli asserts the output is terminal-safe
        assert out.strip()
    assert "Legacy\\x01" in _ok(_cli("summary", "--db", str(database)))  # the planted outlet, shown escaped


def test_only_the_planted_values_are_unsafe(hostile_runs):
    """Everything today's code stored is safe; the values planted as an older version's are left as they were (made
    safe where they are shown, never rewritten behind the analyst's back; the codebook's label is written again by
    every run)."""
    _, database, _, _ = hostile_runs
    with duckdb.connect(str(database), read_only=True) as con:
        planted = set(PLANTED)
        bad = [(where, value) for where, value in stored_strings(con) if UNSAFE.search(value) and value not in planted]
        assert not bad, bad[:5]
