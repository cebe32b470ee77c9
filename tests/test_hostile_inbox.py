"""The inbox sensor keeps ingesting while hostile files sit in the inbox (issue 27): a lone surrogate, a JSON line
nested past the parser's limit, an RSS item with &#xD800;, NUL bytes past 8 KiB, control characters and a file name
that is not UTF-8 are delivered with good files. The sensor's run succeeds, every good record is ingested, the bad
records are quarantined with their line or entry, and the next delivery is taken as usual — the hostile files are
not taken again."""

import json
import os
import time

import dagster as dg
import duckdb
from hostile_cases import GOOD_TEXT, assert_nothing_unsafe_stored, rss
from test_inbox import SETTLE, Ticks, _ingest, _taken, inbox_env  # noqa: F401 - the shared fixture and helpers

from narrative_tracker import db


def _deliver_hostile(inbox):
    (inbox / "good.txt").write_text(f"Headline\n\n{GOOD_TEXT.format(n='good file')}\n")
    (inbox / "surrogate.jsonl").write_text(json.dumps({"text": GOOD_TEXT.format(n=1)}) + "\n"
                                           + '{"text": "\\ud800 opens this record of the file, with more words."}\n')
    (inbox / "deep.jsonl").write_text("[" * 100_000 + "\n" + json.dumps({"text": GOOD_TEXT.format(n=2)}) + "\n")
    (inbox / "feed.rss").write_text(rss([GOOD_TEXT.format(n=3), "Bad &#xD800; entry."]))
    (inbox / "late-nul.txt").write_bytes(("Headline\n\n" + GOOD_TEXT.format(n=4) + " " + "x " * 5000).encode() + b"\x00 tail\x00\n")
    (inbox / "controls.csv").write_text(f"title,text,outlet\nT\x1b[2J,{GOOD_TEXT.format(n=5)}\x01,O\x00\ufffe\n")
    with open(os.fsencode(inbox) + b"/caf\xe9.txt", "w") as handle:
        handle.write(f"Headline\n\n{GOOD_TEXT.format(n=6)}\n")


def test_the_sensor_keeps_ingesting_beside_hostile_files(inbox_env):
    inbox, database = inbox_env
    _deliver_hostile(inbox)
    tick = Ticks()
    assert isinstance(tick(), dg.SkipReason)
    time.sleep(SETTLE)
    request = tick()
    assert len(_taken(request)) == 7
    meta = _ingest(request, database)  # the run succeeds and every path is accounted for
    assert meta["quarantine"]["reasons"].value == {"malformed json": 1, "invalid character": 1}
    db.publish(database)
    with duckdb.connect(str(database), read_only=True) as con:
        bodies = " ".join(r[0] for r in con.execute("SELECT body FROM articles").fetchall())
        for n in ("good file", 1, 2, 3, 4, 5, 6):
            assert f"record {n}," in bodies or f"record {n}" in bodies, n
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 8  # + the surrogate record, repaired
        assert sorted(con.execute("SELECT locator FROM quarantine").fetchall()) == [("entry 2",), ("line 1",)]
        assert_nothing_unsafe_stored(con)

    (inbox / "next.txt").write_text(f"Headline\n\n{GOOD_TEXT.format(n='next delivery')}\n")
    time.sleep(SETTLE)
    tick()
    time.sleep(SETTLE)
    request = tick()
    assert _taken(request) == ["next.txt"]  # only the new file: the hostile ones are known by their content
    _ingest(request, database)
    db.publish(database)
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles WHERE body LIKE '%next delivery%'").fetchone()[0] == 1
