"""Tabular inputs: CSV/TSV (polars) and JSON Lines / JSON (one object or an array of objects).

Each row or object is one article. Columns are found by the usual names
(``_ALIASES``, compared case-insensitively and ignoring ``_``, ``-`` and spaces)
unless an ``IngestOptions.*_column`` names one; an option naming a column the
file does not have quarantines the whole file ("missing column"). Multi-valued
cells ("TASS+RT") are split on ``IngestOptions.list_separator``; every column
not mapped to an article field is kept in ``ParsedArticle.metadata``.

Length (~400 lines): one reader per tabular family sharing one column-mapping and row-validation path; splitting
CSV from JSON would separate the two halves of the same mapping rules, so the module stays whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import polars as pl

from narrative_tracker import textsafe
from narrative_tracker.ingest.dates import parse_date, plausible
from narrative_tracker.ingest.formats import IngestOptions, over_cap
from narrative_tracker.ingest.formats.html import drop_title, split_paragraphs, take_text_date
from narrative_tracker.models import ParsedArticle, QuarantineRecord, excerpt_of, normalize_ws

Parsed = tuple[list[ParsedArticle], list[QuarantineRecord]]

# Article field -> accepted column names, most specific first.
_ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("text", "body", "content", "article", "full_text", "fulltext", "message", "description"),
    "title": ("title", "headline", "heading", "subject"),
    "date": ("date", "published", "published_at", "publication_date", "pubdate", "datetime", "created_at", "timestamp", "time"),
    "outlet": ("outlet", "outlets", "source", "media", "publisher", "site", "sitename", "domain", "channel", "newspaper"),
    "url": ("url", "link", "href", "permalink"),
    "author": ("author", "authors", "byline", "creator", "writer"),
    "language": ("language", "languages", "lang"),
    "id": ("id", "guid", "uid", "article_id"),
    "tags": ("tags", "keywords", "keyword", "labels", "categories"),
}
_SEPARATORS = (",", "\t", ";", "|")
_KEY_NOISE = re.compile(r"[\s_\-]+")
_URL = re.compile(r"https?://\S+$", re.I)


class _FileProblem(Exception):
    """The whole file cannot be read as articles (quarantined with ``reason``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _key(name: str) -> str:
    return _KEY_NOISE.sub("", name).lower()


def resolve_columns(columns: list[str], options: IngestOptions) -> dict[str, str]:
    """Map article fields to column names: the options first, else the first alias present.

    Raises ``_FileProblem`` for an option naming an absent column or when no text column exists.
    """
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    mapping: dict[str, str] = {}
    for field, aliases in _ALIASES.items():
        wanted = getattr(options, f"{field}_column")
        if wanted:
            column = wanted if wanted in columns else by_key.get(_key(wanted))
            if column is None:
                raise _FileProblem(
                    "missing column",
                    f"{field}_column={wanted!r} is not a column of this file; columns: {', '.join(columns)}",
                )
            mapping[field] = column
            continue
        column = next((by_key[_key(a)] for a in aliases if _key(a) in by_key), None)
        if column is not None:  # may be a column an option already mapped (title-only data: text = title)
            mapping[field] = column
    if "text" not in mapping:
        raise _FileProblem("no text column", f"no column holds article text; columns: {', '.join(columns) or '(none)'}")
    return mapping


# --------------------------------------------------------------------------- cell values


def _scalar(value: Any) -> str | None:
    """One string from a cell: lists give their first item, dicts their "name"/"value"."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, list):
        return next((s for s in map(_scalar, value) if s), None)
    if isinstance(value, dict):
        return _scalar(value.get("name") or value.get("value"))
    return normalize_ws(str(value)) or None


def _split(value: Any, separator: str) -> list[str]:
    """A multi-valued cell as a list: JSON lists as they are, strings split on ``separator``.

    An empty piece keeps the separator on the previous one, so "Canal+" stays "Canal+".
    """
    if value is None:
        return []
    if isinstance(value, list):
        return [s for s in map(_scalar, value) if s]
    text = _scalar(value)
    if not text:
        return []
    if not separator:
        return [text]
    items: list[str] = []
    for piece in text.split(separator):
        piece = piece.strip()
        if piece:
            items.append(piece)
        elif items:
            items[-1] += separator
    return items


def _paragraphs(value: Any) -> list[str]:
    """Article text from a cell; a JSON list of strings is a list of paragraphs."""
    if value is None:
        return []
    if isinstance(value, list):
        return [p for item in value for p in _paragraphs(item)]
    if isinstance(value, dict):
        return _paragraphs(value.get("text") or value.get("value"))
    return split_paragraphs(str(value))


def _epoch_date(value: float) -> dt.date | None:
    seconds = value / 1000 if abs(value) > 1e11 else value  # milliseconds since 1970
    try:
        day = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).date()
    except (OverflowError, OSError, ValueError):
        return None
    return day if plausible(day) else None


class _DateCache(dict):
    """``parse_date`` memoised per file: exports repeat the same date strings many times."""

    def __missing__(self, raw: str) -> dt.date | None:
        day = self[raw] = parse_date(raw)
        return day


# --------------------------------------------------------------------------- records -> articles


def _text_length(value: Any) -> int:
    """Characters of text in a cell (a string, or a list / object of strings), counted before any is split."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_text_length(v) for v in value)
    if isinstance(value, dict):
        return _text_length(value.get("text") or value.get("value"))
    return 0


def _article(record: dict[str, Any], mapping: dict[str, str], options: IngestOptions, locator: str, dates: _DateCache) -> ParsedArticle | None:
    """One row/object as an article; ``None`` when it has no text."""

    def get(field: str) -> Any:
        return record.get(mapping[field]) if field in mapping else None

    paragraphs = _paragraphs(get("text"))
    if not paragraphs:
        return None
    title = _scalar(get("title"))
    if len(paragraphs) > 1:  # a text column may repeat the headline; the title column *is* it for title-only data
        paragraphs = drop_title(paragraphs, title) or paragraphs

    used = set(mapping.values())
    metadata = {k: v for k, v in record.items() if k not in used and v is not None and v != ""}

    published, date_source, date_raw = None, "none", None
    raw_date = get("date")
    if raw_date is not None and raw_date != "":
        if isinstance(raw_date, (int, float)) and not isinstance(raw_date, bool):
            published = _epoch_date(raw_date)
        else:
            raw_date = _scalar(raw_date)
            published = dates[raw_date] if raw_date else None
        if published is not None:
            date_source, date_raw = "metadata", str(raw_date)
        else:
            metadata["unparsed_date"] = raw_date
    if published is None:
        published, raw, paragraphs = take_text_date(paragraphs)
        if published is not None:
            date_source, date_raw = "text", raw

    languages = _split(get("language"), options.list_separator)
    if len(languages) > 1:
        metadata["languages"] = languages
    external_id = _scalar(get("id"))
    url = _scalar(get("url"))
    if url is None and "url" not in mapping and external_id and _URL.match(external_id):
        url = external_id
    author = get("author")
    authors = _split(author, "") if isinstance(author, list) else [_scalar(author)]
    return ParsedArticle(
        body="\n\n".join(paragraphs),
        title=title,
        outlets=_split(get("outlet"), options.list_separator),
        author="; ".join(a for a in authors if a) or None,
        url=url,
        external_id=external_id,
        published_date=published,
        date_source=date_source,
        date_raw=date_raw,
        declared_language=languages[0] if languages else None,
        tags=_split(get("tags"), options.list_separator),
        locator=locator,
        metadata=metadata,
    )


def _articles(source: str, columns: list[str], records: Iterable[tuple[str, dict[str, Any]]], options: IngestOptions) -> Parsed:
    """Map columns once, then turn every record into an article or a "row without text" record."""
    try:
        mapping = resolve_columns(columns, options)
    except _FileProblem as problem:
        return [], [QuarantineRecord(source, problem.reason, problem.detail, excerpt=excerpt_of(", ".join(columns)))]
    dates = _DateCache()
    articles: list[ParsedArticle] = []
    quarantined: list[QuarantineRecord] = []
    for locator, record in records:
        length = _text_length(record.get(mapping["text"]))
        big = over_cap(length, source, locator, str(record.get(mapping["text"]))[:400])
        if big is not None:  # quarantined before its text is split: a huge cell costs no further copies
            quarantined.append(big)
            continue
        try:
            article = _article(record, mapping, options, locator, dates)
        except Exception as exc:  # noqa: BLE001 - one record's surprise must not cost its neighbours
            quarantined.append(QuarantineRecord(source, "unreadable record", f"{type(exc).__name__}: {exc}", locator,
                                                excerpt_of(repr(record)[:400])))
            continue
        if article is not None:
            articles.append(article)
            continue
        quarantined.append(
            QuarantineRecord(
                source, "row without text", f"the text column {mapping['text']!r} is empty",
                locator, excerpt_of(json.dumps(record, ensure_ascii=False, default=str)),
            )
        )
    return articles, quarantined


# --------------------------------------------------------------------------- CSV / TSV


def _separator(text: str, source: str) -> str:
    """``.tsv`` means tabs; otherwise the candidate seen most often in the header line."""
    if Path(source).suffix.lower() == ".tsv":
        return "\t"
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _column_names(header: list[str]) -> list[str]:
    """Header names with blanks named ``column_N`` (1-based)."""
    return [name.strip() or f"column_{i}" for i, name in enumerate(header, 1)]


def _csv_fallback(text: str, separator: str, source: str) -> tuple[list[str], list[tuple[str, dict]], list[QuarantineRecord]]:
    """Row-by-row reading with the csv module when polars gives up on the whole file.

    Rows that cannot be read, or have more cells than the header, are quarantined;
    short rows are padded with empty cells.
    """
    reader = csv.reader(io.StringIO(text), delimiter=separator, strict=True)
    quarantined: list[QuarantineRecord] = []
    lines = text.splitlines()

    def bad(reason: str, detail: str, first_line: int) -> None:
        locator = f"line {first_line}" if first_line == reader.line_num else f"lines {first_line}-{reader.line_num}"
        snippet = "\n".join(lines[first_line - 1 : reader.line_num])
        quarantined.append(QuarantineRecord(source, reason, detail, locator, excerpt_of(snippet)))

    def rows() -> Iterator[tuple[int, list[str] | None, str | None]]:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, None, str(exc)
                continue
            yield start, row, None

    columns: list[str] | None = None
    records: list[tuple[str, dict]] = []
    number = 0
    for start, row, error in rows():
        if error is not None:
            bad("unreadable row", f"csv: {error}", start)
            if columns is not None:
                number += 1
            continue
        if columns is None:
            columns = _column_names(row)
            continue
        if not any(cell.strip() for cell in row):
            continue
        number += 1
        if len(row) > len(columns):
            bad("ragged row", f"{len(row)} cells but the header has {len(columns)} columns", start)
            continue
        cells = [cell if cell != "" else None for cell in row] + [None] * (len(columns) - len(row))
        records.append((f"row {number}", dict(zip(columns, cells))))
    return columns or [], records, quarantined


def parse_csv(text: str, source: str, options: IngestOptions) -> Parsed:
    """A CSV or TSV file with a header line -> one article per row."""
    text = text.lstrip("\ufeff")
    separator = _separator(text, source)
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            separator=separator,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, ValueError):
        columns, records, quarantined = _csv_fallback(text, separator, source)
    else:
        columns = _column_names(frame.columns)
        frame.columns = columns
        quarantined = []
        records = [(f"row {i}", dict(zip(columns, row))) for i, row in enumerate(frame.iter_rows(), 1)]
    if not records:
        if not columns:
            return [], quarantined + [QuarantineRecord(source, "no rows", "the file has no header and no rows", excerpt=excerpt_of(text))]
        if not quarantined:
            return [], [QuarantineRecord(source, "no rows", f"only a header line: {', '.join(columns)}", excerpt=excerpt_of(text))]
    articles, more = _articles(source, columns, records, options)
    return articles, quarantined + more


# --------------------------------------------------------------------------- JSON Lines / JSON


def _wrapped_list(obj: dict[str, Any]) -> list | None:
    """The article list of a wrapper object such as ``{"articles": [...]}`` (its only list of objects)."""
    lists = [v for v in obj.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    return lists[0] if len(lists) == 1 else None


def _has_text_column(columns: list[str], options: IngestOptions) -> bool:
    try:
        resolve_columns(columns, options)
    except _FileProblem:
        return False
    return True


def _json_problem(exc: Exception) -> str:
    """The detail of a JSON text that could not be read."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "nested deeper than the JSON reader allows (arrays or objects inside each other, level after level)"
    return f"{type(exc).__name__}: {exc}"  # e.g. an integer of more digits than Python converts


def _json_records(text: str, source: str, options: IngestOptions) -> tuple[list[tuple[str, Any]], list[QuarantineRecord]]:
    """``(locator, value)`` pairs: items of a JSON array/object, or one per JSON Lines line. Every value is cleaned
    (``textsafe.clean_json``); a line that cannot be read — broken, nested too deep, a number too long — is
    quarantined alone with its line number."""
    stripped = text.strip()
    whole_error: Exception | None = None
    if stripped[:1] in ("[", "{"):
        try:
            whole = json.loads(stripped)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            whole_error = exc
        else:
            whole = textsafe.clean_json(whole)
            if isinstance(whole, dict):
                items = _wrapped_list(whole)
                if items is None or _has_text_column(list(whole), options):
                    return [("line 1" if "\n" not in stripped else "item 1", whole)], []
                whole = items
            return [(f"item {i}", item) for i, item in enumerate(whole, 1)], []
    records: list[tuple[str, Any]] = []
    quarantined: list[QuarantineRecord] = []
    for number, line in enumerate(text.split("\n"), 1):  # JSON Lines are separated by \n only (not \x1e, \u2028, ...)
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            quarantined.append(QuarantineRecord(source, "malformed json", f"{exc.msg} (column {exc.colno})", f"line {number}", excerpt_of(line)))
        except (ValueError, RecursionError) as exc:
            quarantined.append(QuarantineRecord(source, "malformed json", _json_problem(exc), f"line {number}", excerpt_of(line)))
        else:
            records.append((f"line {number}", textsafe.clean_json(value)))
    if not records and whole_error is not None and len(quarantined) > 1:
        # one pretty-printed document with an error, not JSON Lines: report it once, for the whole file
        return [], [QuarantineRecord(source, "malformed json", _json_problem(whole_error), None, excerpt_of(text))]
    return records, quarantined


def parse_jsonl(text: str, source: str, options: IngestOptions) -> Parsed:
    """JSON Lines (one object per line), or a JSON file holding one object or an array of objects."""
    values, quarantined = _json_records(text.lstrip("\ufeff"), source, options)
    records: list[tuple[str, dict[str, Any]]] = []
    for locator, value in values:
        if isinstance(value, dict):
            records.append((locator, value))
        else:
            kind = type(value).__name__ if value is not None else "null"
            quarantined.append(QuarantineRecord(source, "not an object", f"a JSON {kind}, not an object", locator, excerpt_of(json.dumps(value, ensure_ascii=False))))
    if not records:
        if not quarantined:
            quarantined.append(QuarantineRecord(source, "no rows", "the file holds no JSON object", excerpt=excerpt_of(text)))
        return [], quarantined
    columns = list(dict.fromkeys(key for _, record in records for key in record))
    articles, more = _articles(source, columns, records, options)
    return articles, quarantined + more
