"""RSS 0.9x/1.0/2.0 and Atom feeds through feedparser: one article per entry.

The entry text is the full ``content`` when the feed has it, else the
``summary``/``description``; HTML in it becomes plain paragraphs (block
elements and ``<br>`` start a new one). The feed's title is the outlet and
its declared language (``<language>``, ``xml:lang``) the article language.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import json
import time

import feedparser

from narrative_tracker import textsafe
from narrative_tracker.ingest.dates import parse_date, plausible
from narrative_tracker.ingest.formats import IngestOptions
from narrative_tracker.ingest.formats.html import drop_title, html_to_paragraphs, split_paragraphs, take_text_date
from narrative_tracker.models import ParsedArticle, QuarantineRecord, excerpt_of, normalize_ws

# Entry fields holding a date, most relevant first ("updated" also carries RSS 1.0 dc:date).
_DATE_FIELDS = ("published", "updated", "created")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_INVALID = "\U0010fffd"  # private-use marker: a reference to no character was here (textsafe.xml_references)


def _has_invalid(value) -> bool:
    """True when a feedparser value (dicts, lists, strings) holds the marker of an invalid reference."""
    if isinstance(value, str):
        return _INVALID in value
    if isinstance(value, dict):
        return any(_has_invalid(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_invalid(v) for v in value)
    return False


def _detail_text(detail: dict | None, fallback: str | None = None) -> list[str]:
    """Paragraphs of a feedparser text construct (``title_detail``, ``content[i]``, ...)."""
    if detail is None:
        return html_to_paragraphs(fallback or "")
    value = detail.get("value") or ""
    if detail.get("type", "text/html") in _HTML_TYPES:
        return html_to_paragraphs(value)
    return split_paragraphs(value)


def _entry_body(entry: dict) -> tuple[list[str], str | None]:
    """The entry's text as paragraphs, and the language its text construct declares."""
    for content in entry.get("content") or []:
        paragraphs = _detail_text(content)
        if paragraphs:
            return paragraphs, content.get("language")
    detail = entry.get("summary_detail")
    paragraphs = _detail_text(detail, entry.get("summary"))
    return paragraphs, (detail or {}).get("language")


def _feed_date(raw: str, parsed: time.struct_time | None) -> dt.date | None:
    """The calendar date as the publisher wrote it (its own UTC offset, not converted to UTC).

    RFC 822 (RSS) is read with the standard library, ISO 8601 (Atom) by ``parse_date``;
    feedparser's own UTC-normalised ``*_parsed`` tuple is the last resort.
    """
    try:
        day = email.utils.parsedate_to_datetime(raw).date()
    except (TypeError, ValueError, IndexError):
        day = parse_date(raw)
    if day is None and parsed is not None:
        day = dt.date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
    return day if day is not None and plausible(day) else None


def _author(entry: dict) -> str | None:
    detail = entry.get("author_detail") or {}
    return normalize_ws(detail.get("name") or entry.get("author")) or None


def parse(text: str, source: str, options: IngestOptions) -> tuple[list[ParsedArticle], list[QuarantineRecord]]:
    """A feed document -> one article per entry that has text."""
    # Bytes in a stream: a str would be taken for a URL or a file name. The text is
    # already decoded, so the charset header overrides any encoding in the XML prolog.
    # a reference XML forbids crashes feedparser's fallback parser: references to controls are removed, one to no
    # character at all (a surrogate such as &#xD800;) marks its entry, which is quarantined ("invalid character")
    text = textsafe.xml_references(text, invalid=_INVALID)
    parsed = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),
        response_headers={"content-type": "application/xml; charset=utf-8"},
    )
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            exc = parsed.get("bozo_exception")
            detail = f"feedparser could not read the feed: {type(exc).__name__}: {exc}"
            return [], [QuarantineRecord(source, "malformed feed", detail, excerpt=excerpt_of(text))]
        return [], [QuarantineRecord(source, "feed has no entries", "the feed parsed but holds no item or entry", excerpt=excerpt_of(text))]

    feed = parsed.get("feed") or {}
    outlet = " ".join(_detail_text(feed.get("title_detail"), feed.get("title"))).replace(_INVALID, "\ufffd") or None
    feed_language = normalize_ws(feed.get("language")) or None

    articles: list[ParsedArticle] = []
    quarantined: list[QuarantineRecord] = []
    for number, entry in enumerate(entries, 1):
        locator = f"entry {number}"
        if _has_invalid(entry):
            raw = {"title": entry.get("title"), "link": entry.get("link"), "id": entry.get("id")}
            quarantined.append(QuarantineRecord(
                source, "invalid character", "a character reference to no character (a surrogate such as &#xD800; or "
                "a code point past U+10FFFF), which XML forbids", locator,
                excerpt_of(json.dumps(raw, ensure_ascii=False).replace(_INVALID, "&#?;"))))
            continue
        title = " ".join(_detail_text(entry.get("title_detail"), entry.get("title"))) or None
        paragraphs, text_language = _entry_body(entry)
        paragraphs = drop_title(paragraphs, title)
        if not paragraphs:
            raw = {"title": entry.get("title"), "link": entry.get("link"), "id": entry.get("id")}
            quarantined.append(
                QuarantineRecord(
                    source, "entry without text", "the entry has no content, summary or description",
                    locator, excerpt_of(json.dumps(raw, ensure_ascii=False)),
                )
            )
            continue

        metadata: dict = {}
        published, date_source, date_raw = None, "none", None
        for field in _DATE_FIELDS:
            raw_date = entry.get(field)
            if not raw_date:
                continue
            published = _feed_date(raw_date, entry.get(f"{field}_parsed"))
            if published is not None:
                date_source, date_raw = "metadata", raw_date
                break
            metadata.setdefault("unparsed_date", raw_date)
        if published is None:
            published, raw, paragraphs = take_text_date(paragraphs)
            if published is not None:
                date_source, date_raw = "text", raw

        if entry.get("content") and entry.get("summary"):
            summary = " ".join(_detail_text(entry.get("summary_detail"), entry.get("summary")))
            if summary:
                metadata["summary"] = summary
        tags = [normalize_ws(tag.get("term") or tag.get("label")) for tag in entry.get("tags") or []]
        articles.append(
            ParsedArticle(
                body="\n\n".join(paragraphs),
                title=title,
                outlet=outlet,
                author=_author(entry),
                url=entry.get("link") or None,
                external_id=entry.get("id") or None,
                published_date=published,
                date_source=date_source,
                date_raw=date_raw,
                declared_language=normalize_ws(text_language) or feed_language,
                tags=[t for t in tags if t],
                locator=locator,
                metadata=metadata,
            )
        )
    return articles, quarantined
