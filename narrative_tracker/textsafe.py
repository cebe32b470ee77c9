"""The one place that makes text safe: for the database, for the terminal and for the chart renderer.

**Into the database** (``clean``): every string an input, a codebook or an analyst gives passes here before it is
stored — article fields (``models.ParsedArticle``), quarantine records (``models.QuarantineRecord``), JSON
records (``clean_json``), codebook entries (``narratives.codebook``), narrative labels (``narratives.decisions``).
It removes

- C0 control characters except tab and newline (NUL included, wherever it is), DEL and the C1 controls
  (U+0080..U+009F); the ones Python counts as whitespace (vertical tab, form feed, U+001C..U+001F, U+0085) become a
  space, so a text's words and its content hash stay as they were;
- the noncharacters U+FFFE, U+FFFF and U+FDD0..U+FDEF;

replaces lone surrogates (a JSON ``"\\ud800"`` escape, a name that is not UTF-8) by U+FFFD, turns ``\\r\\n`` and
``\\r`` into ``\\n`` (``newlines=True``) and cuts a field to its size cap. Every change is counted in the current
``tally`` (``read_file`` opens one per input file and reports it on the file's ``input_files`` row).

The chart renderer (vl-convert) aborts the whole process on the C0 controls and U+FFFE/U+FFFF among these
(characters XML does not allow: it renders through SVG), so ``chart_frame`` applies the same removal to the
frames a chart is built from: values an older version stored are made safe there too.

**On a terminal** (``for_terminal``): what the CLI prints has every control character but newline and tab shown as
a visible escape (``\\x1b``), bidirectional overrides too — a title cannot move the cursor, recolour, retitle or
clear the analyst's terminal, whatever an older version stored.

**Paths** (``path_text``): a file name is stored as its bytes decoded as UTF-8 with undecodable bytes and control
characters written as ``\\xNN``, so two different names never become one string.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections import Counter
from collections.abc import Iterator

# Size caps (characters). An article body over MAX_ARTICLE_CHARS is quarantined ("article over size cap"); a
# paragraph over MAX_PARAGRAPH_CHARS is split at sentence ends (paragraphs stage); other fields are cut.
MAX_ARTICLE_CHARS = 1_000_000
MAX_PARAGRAPH_CHARS = 20_000
MAX_FIELD_CHARS = 2_000  # title, outlet, author, url, ids, tags, labels, JSON metadata values, quarantine detail
MAX_LABEL_CHARS = 300  # narrative labels (analyst renames, codebook labels)
MAX_JSON_DEPTH = 20  # nesting kept in a record's metadata; deeper values are replaced by a note
MAX_METADATA_CHARS = 100_000  # an article's unmapped fields as JSON; over it they are replaced by a note
MAX_LIST_ITEMS = 1_000  # outlets, tags of one article

_WHITESPACE_CONTROLS = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_CONTROLS = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]"  # not \t \n \r
_UNSAFE = re.compile(f"{_CONTROLS}|[\ud800-\udfff]")
_UNSAFE_OR_CR = re.compile(f"{_CONTROLS}|[\ud800-\udfff\r]")
_PATH_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")

REPAIR_NOTES = {
    "bad_utf8": "invalid UTF-8 sequence{s} replaced with U+FFFD",
    "nul": "NUL byte{s} removed",
    "control": "control character{s} removed",
    "surrogate": "invalid character{s} (lone surrogates) replaced with U+FFFD",
    "truncated": "field{s} cut to the size cap",
    "deep": "metadata value{s} nested too deep replaced by a note",
}

_tally: contextvars.ContextVar[Counter | None] = contextvars.ContextVar("textsafe_tally", default=None)


@contextlib.contextmanager
def tally() -> Iterator[Counter]:
    """Count the repairs ``clean`` makes inside the block (keys of ``REPAIR_NOTES``; ``bad_utf8_at``: first offset)."""
    counts: Counter = Counter()
    token = _tally.set(counts)
    try:
        yield counts
    finally:
        _tally.reset(token)


def count(kind: str, n: int = 1) -> None:
    """Add ``n`` repairs of ``kind`` to the current tally (if any)."""
    counts = _tally.get()
    if counts is not None and n:
        counts[kind] += n


def mark(key: str, value: int) -> None:
    """Set ``key`` of the current tally (if any) to ``value`` (e.g. ``bad_utf8_at``, the first bad byte's offset)."""
    counts = _tally.get()
    if counts is not None:
        counts[key] = value


def repair_note(counts: Counter) -> str | None:
    """``"repaired: 2 NUL bytes removed; ..."`` for a tally, ``None`` when nothing was repaired."""
    parts = []
    for kind, text in REPAIR_NOTES.items():
        n = counts.get(kind, 0)
        if n:
            part = f"{n} {text.format(s='' if n == 1 else 's')}"
            if kind == "bad_utf8" and "bad_utf8_at" in counts:
                part += f" (first at byte {counts['bad_utf8_at']})"
            parts.append(part)
    return "repaired: " + "; ".join(parts) if parts else None


def _replace(match: re.Match) -> str:
    ch = match.group()
    if "\ud800" <= ch <= "\udfff":
        count("surrogate")
        return "\ufffd"
    if ch == "\r":
        return "\n"
    count("control")
    return " " if ch in _WHITESPACE_CONTROLS else ""


def clean(text: str | None, limit: int | None = MAX_FIELD_CHARS, newlines: bool = True) -> str | None:
    """``text`` safe to store (see the module docstring); ``None`` stays ``None``.

    ``limit``: cut to this many characters (``None``: no cap — article bodies, whose cap quarantines instead).
    ``newlines=False`` leaves ``\\r`` alone (a whole file before its parser, which reads CSV and HTML line ends).
    """
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    pattern = _UNSAFE_OR_CR if newlines else _UNSAFE
    if pattern.search(text):
        if newlines:
            text = text.replace("\r\n", "\n")
        text = pattern.sub(_replace, text)
    if limit is not None and len(text) > limit:
        count("truncated")
        text = text[: limit - 1] + "…"
    return text


def clean_label(text: str | None) -> str:
    """A one-line label (narrative names): cleaned, whitespace collapsed, capped at ``MAX_LABEL_CHARS``."""
    return " ".join((clean(text, None) or "").split())[:MAX_LABEL_CHARS]


def clean_json(value, depth: int = 0):
    """A parsed JSON value with every string and key cleaned (``limit=None``: a record's text fields are capped
    where they become article fields) and nesting past ``MAX_JSON_DEPTH`` replaced by a short note."""
    if isinstance(value, str):
        return clean(value, None, newlines=False)
    if isinstance(value, (list, dict)) and depth >= MAX_JSON_DEPTH:
        count("deep")
        return f"[{type(value).__name__} nested deeper than {MAX_JSON_DEPTH} levels: not kept]"
    if isinstance(value, list):
        return [clean_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {clean(str(k), MAX_FIELD_CHARS, newlines=False): clean_json(v, depth + 1) for k, v in value.items()}
    return value


def clean_metadata(value, depth: int = 0):
    """Article metadata (unmapped source fields, kept as JSON): cleaned and every string capped."""
    if isinstance(value, str):
        return clean(value, MAX_FIELD_CHARS)
    if isinstance(value, (list, tuple, dict)) and depth >= MAX_JSON_DEPTH:
        count("deep")
        return f"[nested deeper than {MAX_JSON_DEPTH} levels: not kept]"
    if isinstance(value, (list, tuple)):
        return [clean_metadata(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {clean(str(k), MAX_FIELD_CHARS): clean_metadata(v, depth + 1) for k, v in value.items()}
    return value


_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def xml_references(text: str, invalid: str | None = None) -> str:
    """Markup (HTML, XML feeds) with the numeric character references XML forbids taken care of before a parser
    meets them: one to a control character (``&#1;``, ``&#x1b;``) or to U+FFFE / U+FFFF is removed (counted as a
    control character; lxml and feedparser fail on them); one to no character at all (a surrogate such as
    ``&#xD800;``, or past U+10FFFF) becomes ``invalid`` when given, else stays for the parser (lxml reads it as
    U+FFFD)."""
    if "&#" not in text:
        return text

    def replace(match: re.Match) -> str:
        code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            return match.group() if invalid is None else invalid
        if (code < 0x20 and code not in (0x9, 0xA, 0xD)) or code in (0xFFFE, 0xFFFF):
            count("control")
            return ""
        return match.group()

    return _CHAR_REF.sub(replace, text)


def is_safe(text: str) -> bool:
    """True when ``text`` holds nothing ``clean`` would remove or replace (``\\r`` allowed)."""
    return not _UNSAFE.search(text)


def path_text(path: str | os.PathLike) -> str:
    """A path as stored and shown: UTF-8, undecodable bytes and control characters as ``\\xNN`` (never merged)."""
    raw = os.fsencode(path)
    text = raw.decode("utf-8", errors="backslashreplace")
    return _PATH_UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def for_terminal(text: str) -> str:
    """``text`` with every control character but newline and tab (and every bidirectional override) shown as an
    escape, so printing it cannot drive the terminal."""
    if not _TERMINAL.search(text):
        return text
    return _TERMINAL.sub(lambda m: repr(m.group())[1:-1] if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def for_chart(text):
    """A value the chart renderer can take: what ``clean`` removes, removed (non-strings are returned as they are)."""
    if not isinstance(text, str) or is_safe(text):
        return text
    return _UNSAFE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)


def chart_frame(frame):
    """A polars frame with every string column made safe for the renderer (``for_chart``)."""
    import polars as pl

    columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not columns:
        return frame
    return frame.with_columns(pl.col(c).str.replace_all(_CONTROLS, "") for c in columns)
