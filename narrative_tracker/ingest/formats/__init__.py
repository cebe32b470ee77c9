"""Reading input files: decoding, per-file format detection, and the parser registry.

Each format module exposes ``parse(text, source, options) -> (articles, quarantined)``:

============  =====================================  ===========================
format        files                                  module
============  =====================================  ===========================
``text``      ``.txt``, ``.md``, anything textual    ``formats.text``
``html``      ``.html``, ``.htm``, ``<html`` pages    ``formats.html`` (trafilatura)
``csv``       ``.csv``, ``.tsv``                     ``formats.tabular`` (polars)
``jsonl``     ``.jsonl``, ``.ndjson``, ``.json``     ``formats.tabular``
``feed``      ``.rss``, ``.atom``, ``.xml`` feeds    ``formats.feed`` (feedparser)
============  =====================================  ===========================

The extension decides first; a file whose extension is unknown (or ``.xml``)
is sniffed from its first characters. A parser never raises for bad content:
it returns ``QuarantineRecord`` objects for what it could not read.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from narrative_tracker.models import ParsedArticle, QuarantineRecord, excerpt_of

FORMATS = ("text", "html", "csv", "jsonl", "feed")

_EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".rss": "feed",
    ".atom": "feed",
}


@dataclass
class IngestOptions:
    """How to read tabular/JSON inputs. ``None`` means "find it by the usual aliases"."""

    text_column: str | None = None
    title_column: str | None = None
    date_column: str | None = None
    outlet_column: str | None = None
    url_column: str | None = None
    author_column: str | None = None
    language_column: str | None = None
    id_column: str | None = None
    tags_column: str | None = None
    list_separator: str = "+"  # splits multi-valued cells such as "TASS+RT" or "Coup+Terrorism"
    format: str | None = None  # force one format for every file

    def fingerprint(self) -> str:
        """Identifies the options, so a file re-read with other options is parsed again."""
        return hashlib.sha256(repr(sorted(vars(self).items())).encode()).hexdigest()[:16]


@dataclass
class FileResult:
    source: str
    sha256: str
    size: int
    format: str | None
    encoding: str | None
    articles: list[ParsedArticle] = field(default_factory=list)
    quarantined: list[QuarantineRecord] = field(default_factory=list)


class DecodeError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


_BOMS = [
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
]


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a file's bytes; return ``(text, encoding)`` or raise ``DecodeError``.

    Order: a byte-order mark decides; then strict UTF-8; then charset-normalizer's
    best guess (cp1251, Latin-1, ...) when it is coherent. Bytes that nothing
    decodes (binary files, random bytes) raise with the offset of the first bad byte.
    """
    if not data.strip():
        raise DecodeError("empty file", "the file has no content" if not data else "the file is only whitespace")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise DecodeError("undecodable bytes", f"{encoding} byte-order mark but bad bytes at offset {exc.start}") from exc
    if b"\x00" in data[:8192]:
        raise DecodeError("binary file", "NUL bytes in the first 8 KiB: not a text, HTML, CSV, JSON or feed file")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding and best.chaos < 0.2:
        text = str(best)
        if _looks_like_prose(text):
            return text, best.encoding
    raise DecodeError(
        "undecodable bytes",
        f"not UTF-8 (first bad byte at offset {first_bad}) and no confident single encoding",
    )


def _looks_like_prose(text: str) -> bool:
    """Guard against a "confident" guess that turns random bytes into letters: real text has
    spaces between words, mostly letters, and almost no control characters."""
    sample = text[:20_000]
    if not sample:
        return False
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t\f")
    spaces = sum(ch in " \n\t\r" for ch in sample)  # not NBSP: random bytes decode to it often
    letters = sum(ch.isalpha() for ch in sample)
    return control <= max(2, len(sample) // 1000) and spaces * 30 >= len(sample) and (letters + spaces) >= 0.7 * len(sample)


def detect_format(path: str | os.PathLike, text: str) -> str:
    """The format of one decoded file: by extension, else by sniffing its first characters."""
    ext = Path(path).suffix.lower()
    by_ext = _EXTENSIONS.get(ext)
    if by_ext is not None:
        return by_ext
    head = text[:2048].lstrip().lower()
    if head.startswith("<?xml") or head.startswith("<rss") or head.startswith("<feed") or head.startswith("<rdf"):
        if "<rss" in head or "<feed" in head or "<rdf" in head:
            return "feed"
        return "html" if "<html" in head else "feed"
    if head.startswith("<!doctype html") or head.startswith("<html") or "<body" in head[:1024]:
        return "html"
    if head.startswith("{") or head.startswith("["):
        return "jsonl"
    return "text"


def _parser(fmt: str):
    if fmt == "text":
        from narrative_tracker.ingest.formats import text as mod
    elif fmt == "html":
        from narrative_tracker.ingest.formats import html as mod
    elif fmt in ("csv", "jsonl"):
        from narrative_tracker.ingest.formats import tabular as mod

        return mod.parse_csv if fmt == "csv" else mod.parse_jsonl
    elif fmt == "feed":
        from narrative_tracker.ingest.formats import feed as mod
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")
    return mod.parse


def read_file(path: str | os.PathLike, options: IngestOptions | None = None, data: bytes | None = None) -> FileResult:
    """Read one file into articles and quarantine records. Never raises for bad content."""
    options = options or IngestOptions()
    source = str(path)
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return FileResult(
                source, hashlib.sha256(source.encode()).hexdigest(), 0, None, None,
                quarantined=[QuarantineRecord(source, "unreadable file", f"{type(exc).__name__}: {exc}")],
            )
    sha = hashlib.sha256(data).hexdigest()
    try:
        text, encoding = decode_bytes(data)
    except DecodeError as exc:
        return FileResult(
            source, sha, len(data), None, None,
            quarantined=[QuarantineRecord(source, exc.reason, exc.detail, excerpt=excerpt_of(data))],
        )
    fmt = options.format or detect_format(path, text)
    result = FileResult(source, sha, len(data), fmt, encoding)
    try:
        articles, quarantined = _parser(fmt)(text, source, options)
    except Exception as exc:  # a parser bug must not lose the file: quarantine it with the error
        articles, quarantined = [], [
            QuarantineRecord(source, "parse error", f"{fmt} parser failed: {type(exc).__name__}: {exc}", excerpt=excerpt_of(text))
        ]
    result.articles = articles
    result.quarantined = quarantined
    return result
