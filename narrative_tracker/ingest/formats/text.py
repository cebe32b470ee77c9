"""Plain text / markdown articles as scrapers save them.

Layout this parser understands (every part optional, in any order near the top):

    Jan 10, 2022                 <- date line (``date_source = 'text'``)
    0 0                          <- share counter (left for the cleaning stage)
    Headline of the article      <- first short block that is not metadata or boilerplate
    06.01.2022, Moscow.          <- date line after the headline
    ...body...
    By Vladimir Platov           <- byline  -> ``author``
    Source: New Eastern Outlook  <- source  -> ``outlet``

Date lines, bylines and source lines are consumed wherever they appear (their content
goes to the article's metadata); the headline is taken out of the body. A markdown
``# Heading`` on the first block is a headline too. When no date line is found, a date
in the file name (``2022-01-08-title.txt``) is used (``date_source = 'file'``).
"""

from __future__ import annotations

import re
from pathlib import Path

from narrative_tracker.paragraphs.clean import BlockKind, byline_name, classify_block, source_name, split_blocks
from narrative_tracker.ingest.dates import find_date, is_date_line
from narrative_tracker.ingest.formats import over_cap
from narrative_tracker.models import ParsedArticle, QuarantineRecord, excerpt_of, normalize_ws

_MAX_HEADLINE_WORDS = 30
_HEAD_SCAN = 4  # the headline is one of the first few blocks
_FILENAME_DATE = re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")


def _headline_candidate(block: str) -> bool:
    flat = normalize_ws(block)
    if not flat or "\n" in block.strip() and len(block.strip().splitlines()) > 2:
        return False
    words = flat.split()
    # a headline is short and is not a run of full sentences
    return len(words) <= _MAX_HEADLINE_WORDS and len(re.findall(r"[.!?](?:\s|$)", flat)) <= 2


def _date_from_filename(source: str):
    from narrative_tracker.ingest.dates import parse_date

    match = _FILENAME_DATE.search(Path(source).stem)
    if not match:
        return None
    return parse_date("-".join(match.groups()))


def parse(text: str, source: str, options=None) -> tuple[list[ParsedArticle], list[QuarantineRecord]]:
    big = over_cap(len(text), source, None, text[:400])
    if big is not None:  # one file, one article: refused before its text is split
        return [], [big]
    blocks = split_blocks(text)
    if not blocks:
        return [], [QuarantineRecord(source, "empty file", "no text after decoding", excerpt=excerpt_of(text))]

    title: str | None = None
    date = date_raw = None
    author = outlet = None
    body: list[str] = []
    seen_body = False  # a body block before any headline means the file has no headline
    for index, block in enumerate(blocks):
        flat = normalize_ws(block)
        found = is_date_line(flat)
        if found is not None and date is None:
            date, date_raw = found
            continue
        if (name := byline_name(flat)) is not None:
            author = author or name
            continue
        if (name := source_name(flat)) is not None:
            outlet = outlet or name
            continue
        if title is None and not seen_body and index < _HEAD_SCAN:
            if flat.startswith("#"):
                title = flat.lstrip("#").strip()
                continue
            kind = classify_block(block)
            if kind in (BlockKind.BOILERPLATE, BlockKind.DATELINE):
                body.append(block)  # left for the cleaning stage to drop and count
                continue
            if _headline_candidate(block):
                title = flat
                continue
        seen_body = True
        body.append(block)

    date_source = "text" if date else "none"
    if date is None:
        date = _date_from_filename(source)
        if date is not None:
            date_source, date_raw = "file", Path(source).name
    if date is None:  # a date written in the body's first lines, e.g. "Moscow, 6 January 2022 - ..."
        for block in body[:3]:
            found = find_date(normalize_ws(block)[:80])
            if found:
                date, date_raw = found
                date_source = "text"
                break
    body_text = "\n\n".join(b.strip() for b in body)
    if not normalize_ws(body_text):
        return [], [QuarantineRecord(source, "no body text", "the file has a headline or metadata but no article text", excerpt=excerpt_of(text))]
    article = ParsedArticle(
        body=body_text,
        title=title,
        outlet=outlet,
        author=author,
        published_date=date,
        date_source=date_source,
        date_raw=date_raw,
        locator=None,
    )
    return [article], []
