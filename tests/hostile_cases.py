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
