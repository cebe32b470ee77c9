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

from narrative_tracker import textsafe
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
    note: str | None = None  # what was repaired to read it ("repaired: 1 invalid UTF-8 sequence replaced ..."), if anything


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


_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32)])  # C0 controls but tab, line feed, vertical tab, form feed, CR


def looks_binary(data: bytes) -> bool:
    """The first 8 KiB hold more NUL bytes than stray ones — more than 8, or in a shorter head more than one per 100
    bytes (and more than one) — or NULs among control bytes making a tenth of it: an image, an archive, random bytes,
    UTF-16 without a byte-order mark. A stray NUL in text (in a cell of a CSV, anywhere in the file) is removed
    instead (``decode_bytes``)."""
    head = data[:8192]
    nul = head.count(b"\x00")
    if not nul:
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return nul > max(1, min(8, len(head) // 100)) or controls * 10 > len(head)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a file's bytes; return ``(text, encoding)`` or raise ``DecodeError``.

    Order: a byte-order mark decides; then UTF-8 — strict, or with each invalid sequence replaced by U+FFFD when
    the file is mostly UTF-8 (it holds at least as many valid multi-byte characters as invalid sequences: one bad
    byte never turns a UTF-8 file into another charset's mojibake); then charset-normalizer's best guess (cp1251,
    Latin-1, ...) when it is coherent. More than a few NUL bytes in the first 8 KiB mean a binary file
    (``looks_binary``); any other NUL byte is removed.
    Text that is then unsafe to store (controls, noncharacters) is cleaned (``textsafe.clean``, line ends kept for
    the parsers). Repairs are counted in the current ``textsafe.tally``. Bytes that nothing decodes (binary files,
    random bytes) raise with the offset of the first bad byte.
    """
    if not data.strip():
        raise DecodeError("empty file", "the file has no content" if not data else "the file is only whitespace")
    text, encoding = _decode(data)
    if not text.strip():
        raise DecodeError("empty file", "the file is only whitespace, NUL bytes and control characters")
    return text, encoding


def _decode(data: bytes) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            if encoding == "utf-8-sig":
                break  # UTF-8 with a byte-order mark: read as UTF-8 below (bad bytes replaced the same way)
            try:
                return _safe(data.decode(encoding)), encoding
            except UnicodeDecodeError as exc:
                raise DecodeError("undecodable bytes", f"{encoding} byte-order mark but bad bytes at offset {exc.start}") from exc
    if looks_binary(data):
        raise DecodeError("binary file", "NUL bytes in the first 8 KiB: not a text, HTML, CSV, JSON or feed file")
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        return _safe(body.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start + len(data) - len(body)
    text = _mostly_utf8(body)
    if text is not None:
        textsafe.mark("bad_utf8_at", first_bad)
        return _safe(text), "utf-8"
    from charset_normalizer import from_bytes

    nul = data.count(b"\x00")
    best = _best_charset(from_bytes(data.replace(b"\x00", b"") if nul else data))
    if best is not None and best.encoding and best.chaos < 0.2:
        text = str(best)
        if _looks_like_prose(text):
            textsafe.count("nul", nul)
            return _safe(text), best.encoding
    raise DecodeError(
        "undecodable bytes",
        f"not UTF-8 (first bad byte at offset {first_bad}) and no confident single encoding",
    )


def _best_charset(matches):
    """charset-normalizer's best guess; on a tie (same chaos and coherence: a short Western text reads as well in
    cp1250 as in cp1252, but only one gives "crème"), windows-1252, the web's default single-byte encoding (WHATWG
    reads latin-1 labels as it)."""
    best = matches.best()
    if best is None or best.encoding == "cp1252":
        return best
    tied = [m for m in matches if m.chaos == best.chaos and m.coherence == best.coherence]
    return next((m for m in tied if m.encoding == "cp1252"), best)


def _mostly_utf8(data: bytes) -> str | None:
    """``data`` as UTF-8 with invalid sequences replaced, when valid multi-byte characters are at least as many as
    the invalid sequences (else ``None``: another charset is likelier). Counts the replacements."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - data.count("\ufffd".encode())
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    if invalid <= 0 or non_ascii - invalid < invalid:
        return None
    textsafe.count("bad_utf8", invalid)
    return text


def _safe(text: str) -> str:
    """Decoded text without NULs (counted) and with what ``textsafe.clean`` removes removed, line ends untouched."""
    nul = text.count("\x00")
    if nul:
        text = text.replace("\x00", "")
        textsafe.count("nul", nul)
    return textsafe.clean(text, None, newlines=False)


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


def over_cap(length: int, source: str, locator: str | None, excerpt: str) -> QuarantineRecord | None:
    """The quarantine record of an article whose text has ``length`` characters, when that is over the cap."""
    if length <= textsafe.MAX_ARTICLE_CHARS:
        return None
    return QuarantineRecord(source, "article over size cap",
                            f"{length:,} characters of text, over the cap of {textsafe.MAX_ARTICLE_CHARS:,} per article",
                            locator, excerpt_of(excerpt[:400]))


def read_file(path: str | os.PathLike, options: IngestOptions | None = None, data: bytes | None = None) -> FileResult:
    """Read one file into articles and quarantine records. Never raises for bad content.

    Every string is made safe to store on the way (``textsafe``); what had to be repaired is ``FileResult.note``.
    An article whose text is over ``textsafe.MAX_ARTICLE_CHARS`` is quarantined ("article over size cap").
    """
    options = options or IngestOptions()
    source = textsafe.path_text(path)
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return FileResult(
                source, hashlib.sha256(source.encode()).hexdigest(), 0, None, None,
                quarantined=[QuarantineRecord(source, "unreadable file", f"{type(exc).__name__}: {exc}")],
            )
    sha = hashlib.sha256(data).hexdigest()
    with textsafe.tally() as repairs:
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
    for article in articles:
        big = over_cap(len(article.body), source, article.locator, article.body)
        if big is None:
            result.articles.append(article)
        else:
            quarantined.append(big)
    result.quarantined = quarantined
    result.note = textsafe.repair_note(repairs)
    return result
