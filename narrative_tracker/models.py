"""Plain data records passed between the ingest stage and the database.

Every format parser (``narrative_tracker.ingest.formats.*``) turns one decoded file into
``ParsedArticle`` and ``QuarantineRecord`` objects. Nothing here knows about
Dagster or DuckDB.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

from narrative_tracker import textsafe

_WS = re.compile(r"\s+")

# Where an article's publication date came from (``articles.date_source``).
DATE_SOURCES = ("text", "metadata", "file", "none")


def normalize_ws(text: str | None) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return _WS.sub(" ", text or "").strip()


def stable_hash(*parts: str | None, length: int = 32) -> str:
    """Hex SHA-256 over the parts (``None`` counts as empty), cut to ``length``. Never raises: a lone surrogate
    (which no stored text holds, ``textsafe.clean``) is hashed by its code point (``surrogatepass``)."""
    h = hashlib.sha256()
    for part in parts:
        h.update((part or "").encode("utf-8", errors="surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:length]


@dataclass
class ParsedArticle:
    """One article as a format parser found it.

    ``body`` is the article text with the headline and the metadata lines the
    parser consumed (date line, "Source:", "By ...") removed; paragraphs are
    separated by blank lines. Boilerplate removal happens later, in
    ``narrative_tracker.paragraphs.clean`` (the paragraphs stage), so cleaning rules can
    change without re-ingesting.
    """

    body: str
    title: str | None = None
    outlet: str | None = None
    outlets: list[str] = field(default_factory=list)
    author: str | None = None
    url: str | None = None
    external_id: str | None = None
    published_date: dt.date | None = None
    date_source: str = "none"  # one of DATE_SOURCES
    date_raw: str | None = None  # the string the date was read from
    declared_language: str | None = None  # as the source states it
    tags: list[str] = field(default_factory=list)
    locator: str | None = None  # where in the file: "row 12", "line 3", "entry 2"
    metadata: dict = field(default_factory=dict)  # unmapped source fields, kept as JSON

    def __post_init__(self) -> None:
        if self.date_source not in DATE_SOURCES:
            raise ValueError(f"date_source must be one of {DATE_SOURCES}, got {self.date_source!r}")
        # the one sanitising place for article fields (textsafe): controls, NULs, surrogates, noncharacters, caps;
        # the body is not cut (read_file quarantines a body over textsafe.MAX_ARTICLE_CHARS)
        clean = textsafe.clean
        self.body = clean(self.body, None)
        for name in ("title", "outlet", "author", "url", "external_id", "date_raw", "declared_language", "locator"):
            setattr(self, name, clean(getattr(self, name)))
        self.outlets = [c for c in (clean(o) for o in self.outlets[: textsafe.MAX_LIST_ITEMS]) if c]
        self.tags = [c for c in (clean(t) for t in self.tags[: textsafe.MAX_LIST_ITEMS]) if c]
        if self.metadata:
            self.metadata = textsafe.clean_metadata(self.metadata)
            size = len(json.dumps(self.metadata, ensure_ascii=False, default=str))
            if size > textsafe.MAX_METADATA_CHARS:
                textsafe.count("truncated")
                self.metadata = {"metadata_not_kept": f"{size:,} characters of unmapped fields, over the cap of "
                                                      f"{textsafe.MAX_METADATA_CHARS:,}"}
        if self.outlet and not self.outlets:
            self.outlets = [self.outlet]
        if self.outlets and not self.outlet:
            self.outlet = self.outlets[0]

    @property
    def article_id(self) -> str:
        """Content-based id: the same outlet, url, title and text give the same id.

        Whitespace differences do not change it; any change of words does.
        """
        return stable_hash(
            normalize_ws(self.outlet).lower(),
            normalize_ws(self.url),
            normalize_ws(self.title),
            normalize_ws(self.body),
        )


@dataclass
class QuarantineRecord:
    """Input that could not become an article, with the reason why."""

    source: str  # the file path as given
    reason: str  # short machine-friendly reason, e.g. "empty file", "row without text"
    detail: str = ""  # human explanation
    locator: str | None = None  # "row 12", "line 3", None for the whole file
    excerpt: str = ""  # the first characters of the offending input (repr-safe)

    def __post_init__(self) -> None:
        self.reason = textsafe.clean(self.reason)
        self.detail = textsafe.clean(self.detail)
        self.locator = textsafe.clean(self.locator)
        self.excerpt = excerpt_of(self.excerpt) if not textsafe.is_safe(self.excerpt or "") else self.excerpt

    def quarantine_id(self, file_sha256: str) -> str:
        """Stable id so that re-running the same input never duplicates rows."""
        return stable_hash(file_sha256, self.locator, self.reason, self.excerpt)


def excerpt_of(data: bytes | str, limit: int = 200) -> str:
    """A printable excerpt of bad input; undecodable bytes become ``\\xNN`` escapes."""
    if isinstance(data, bytes):
        text = data[: limit * 2].decode("utf-8", errors="backslashreplace")
    else:
        text = data
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else repr(ch)[1:-1] for ch in text)
    return text[:limit]
