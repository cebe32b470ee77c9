"""Generated hostile inputs and the checks the hostile tests share (issue 27). No binary fixtures: every file is
written by these helpers, so each case says in code what it is."""

from __future__ import annotations

import re

GOOD_TEXT = "A good paragraph of record {n}, written about the events in the capital at some length."

# What must never be stored, printed or handed to the chart renderer: C0 controls but tab and newline, DEL, C1
# controls, lone surrogates and the noncharacters U+FFFE / U+FFFF (and U+FDD0..U+FDEF).
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
# On a terminal: the same, carriage return included (it rewrites the line) — what the CLI prints.
TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def rss(descriptions: list[str], title: str = "Feed outlet") -> str:
    """An RSS 2.0 document with one item per description (inserted verbatim: character references stay)."""
    items = "".join(
        f"<item><title>Item {i}</title><description>{d}</description><pubDate>Wed, 05 Jan 2022 10:00:00 GMT</pubDate></item>"
        for i, d in enumerate(descriptions, 1)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'


def stored_strings(con):
    """Every string the database holds in its tables (lists and JSON included), with where it is."""
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND (data_type LIKE 'VARCHAR%' OR data_type = 'JSON') "
        "AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')"
    ).fetchall()
    for table, column in columns:
        for (value,) in con.execute(f'SELECT "{column}" FROM "{table}"').fetchall():  # noqa: S608 - names from the catalog
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    yield f"{table}.{column}", item


def assert_nothing_unsafe_stored(con) -> None:
    bad = [(where, value[:80]) for where, value in stored_strings(con) if UNSAFE.search(value)]
    assert not bad, bad


def assert_terminal_safe(text: str) -> None:
    found = sorted({f"U+{ord(ch):04X}" for ch in TERMINAL_UNSAFE.findall(text)})
    assert not found, f"raw control characters in terminal output: {found}"


def big_jsonl(path, megabytes: float = 49.0) -> dict:
    """A JSON Lines file of about ``megabytes`` MB (under the 50 MB file cap) that stresses memory per field:
    one record whose text alone is most of the file (over the article cap), three records of one ~900,000-character
    paragraph each (under the cap: split into paragraphs of at most textsafe.MAX_PARAGRAPH_CHARS), and ordinary
    records of Cyrillic and Latin text (few distinct paragraphs, so a full run embeds little). Returns what it wrote."""
    import json

    sentence_en = "Officials said the protest in the capital was organised from abroad by foreign services. "
    sentence_ru = "Власти заявили, что протест в столице был организован из-за рубежа иностранными службами. "
    target = int(megabytes * 1024 * 1024)
    written = 0
    counts = {"huge": 1, "long": 3, "ordinary": 0}
    with open(path, "w", encoding="utf-8") as handle:
        def write(record) -> None:
            nonlocal written
            line = json.dumps(record, ensure_ascii=False) + "\n"
            handle.write(line)
            written += len(line.encode("utf-8"))

        write({"title": "Ordinary 0", "text": sentence_en * 3, "outlet": "Outlet A", "date": "2022-01-05"})
        write({"title": "Huge", "text": sentence_en * (int(target * 0.55) // len(sentence_en)), "date": "2022-01-05"})
        for i in range(3):
            numbered = "".join(f"{sentence_en[:-2]} (number {k}). " for k in range(900_000 // (len(sentence_en) + 12)))
            write({"title": f"Long {i}", "text": f"Long {i}. {numbered}", "date": "2022-01-06"})
        n = 1
        while written < target - 5_000:
            body = "\n\n".join(f"{(sentence_ru if n % 2 else sentence_en) * 4}Paragraph {k}." for k in range(4))
            write({"title": f"Ordinary {n}", "text": body, "outlet": f"Outlet {n % 7}", "date": f"2022-01-0{1 + n % 9}"})
            n += 1
        counts["ordinary"] = n
    return counts


PEAK_RSS = r"""
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
print(f"\nPEAK_RSS_KB {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
sys.exit(proc.returncode)
"""


def peak_rss(command: list[str], **kwargs):
    """Run ``command`` under a fresh Python parent; ``(completed process, peak RSS in MB of the command and its
    children)``. The parent's RUSAGE_CHILDREN sees only this command, whatever else the test process ran."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", PEAK_RSS, *command], capture_output=True, text=True, **kwargs)
    kb = int(proc.stdout.rsplit("PEAK_RSS_KB", 1)[1].split()[0])
    return proc, kb / 1024


# Values an older version stored unsanitised (the chart renderer aborted on them; the terminal obeyed them).
LEGACY = {
    "outlet": "Outlet\x01\x00\ufffe name",
    "title": "\x1b]0;pwned\x07\x1b[2J\x1b[31mRed title",
    "label": "Label \x1b[31mred\x01 \uffff",
    "text": "\x1b[1mBold\x1b[0m paragraph about the riots organised from abroad by foreign services.",
    "message": "\x1b[2Jspike of \x01 something",
    "term": "term\x1b[5m",
}
FORMULAS = ["=HYPERLINK(\"https://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def legacy_database(folder):
    """A published database (no model needed) holding ``LEGACY`` values in every place a surface shows — as an
    older version stored them, bypassing today's sanitiser — and codebook assignments of paragraphs that begin
    like spreadsheet formulas (``FORMULAS``), for the review CSV."""
    import datetime as dt

    from narrative_tracker import db, schema
    from narrative_tracker.ingest.files import ingest_paths
    from narrative_tracker.paragraphs.split import build_paragraphs
    from narrative_tracker.surfaces.search import build_index

    inbox = folder / "in"
    inbox.mkdir()
    paragraphs = "\n\n".join(f"Paragraph {i} of the article tells of the riots in the capital, at some length." for i in range(8))
    (inbox / "a.txt").write_text(f"Jan 5, 2022\n\nA headline\n\n{paragraphs}\n")
    path = folder / "legacy.duckdb"
    day = dt.date(2022, 1, 5)
    with db.connection(path) as con:
        ingest_paths(con, [inbox])
        build_paragraphs(con, day, day)
        ids = [r[0] for r in con.execute("SELECT paragraph_id FROM paragraphs ORDER BY paragraph_id").fetchall()]
        assert len(ids) == 8
        con.execute("UPDATE articles SET outlet = $o, outlets = [$o], title = $t", {"o": LEGACY["outlet"], "t": LEGACY["title"]})
        con.execute("UPDATE paragraphs SET text = $x WHERE paragraph_id = $p", {"x": LEGACY["text"], "p": ids[0]})
        for pid, formula in zip(ids[1:], FORMULAS):
            con.execute("UPDATE paragraphs SET text = $x WHERE paragraph_id = $p", {"x": formula + " paragraph text", "p": pid})
        now = dt.datetime(2022, 1, 6)
        for nid, origin, label in (("d_0123456789", "discovered", LEGACY["label"]), ("cb_formula", "codebook", "=1+1 claim")):
            con.execute("INSERT INTO narratives (narrative_id, label, description, origin, terms, paragraphs, status, created_at, "
                        "updated_at, claim_label) VALUES ($n, $l, $l, $o, [$t], 1, 'active', $now, $now, $l)",
                        {"n": nid, "l": label, "o": origin, "t": LEGACY["term"], "now": now})
        con.execute("INSERT INTO paragraph_narratives (paragraph_id, narrative_id, partition_date, score, confidence, method, "
                    "evidence, stance, model, assigned_at) VALUES ($p, 'd_0123456789', $d, 0.9, 0.9, 'discovered', $l, "
                    "'asserts', 'm', $now)", {"p": ids[0], "d": day, "l": LEGACY["label"], "now": now})
        for pid in ids[1:7]:
            con.execute("INSERT INTO paragraph_narratives (paragraph_id, narrative_id, partition_date, score, confidence, method, "
                        "evidence, stance, stance_confidence, model, assigned_at) VALUES ($p, 'cb_formula', $d, 0.5, 0.5, "
                        "'codebook', 'x', 'asserts', 0.5, 'm', $now)", {"p": pid, "d": day, "now": now})
        con.execute("INSERT INTO alerts (alert_id, day, narrative_id, kind, paragraphs, share, baseline_share, z_score, "
                    "message, created_at) VALUES ('spike-d_0123456789-2022-01-05', $d, 'd_0123456789', 'spike', 1, 0.5, 0.1, 4.0, "
                    "$m, $now)", {"d": day, "m": LEGACY["message"], "now": now})
        schema.refresh_daily_counts(con)
        schema.ensure_embedding_table(con, 16)
        build_index(con)
    db.publish(path)
    return path
