"""HTML pages: main text and metadata through trafilatura.

One page gives at most one article. trafilatura drops navigation, footers and
(with ``include_comments=False``) reader comments; everything else is kept,
because boilerplate removal happens later, paragraph by paragraph.

The module also holds the small text helpers the other format parsers share:
turning plain text or an HTML fragment into paragraphs, dropping a repeated
headline, and looking for a date near the top of the text.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import lxml.html
from lxml import etree

from narrative_tracker import textsafe
from narrative_tracker.ingest.dates import find_date, is_date_line, parse_date
from narrative_tracker.ingest.formats import IngestOptions
from narrative_tracker.models import ParsedArticle, QuarantineRecord, excerpt_of, normalize_ws

# htmldate settings: structured sources only (meta tags, JSON-LD, <time>, the URL);
# a date merely written in the page text is looked for by ``date_from_text`` instead.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}
# A page has main text when one paragraph has this many words outside link texts.
MIN_PROSE_WORDS = 4
# How many leading paragraphs are searched for a date written in the text.
TEXT_DATE_PARAGRAPHS = 3

_WORD = re.compile(r"[^\W\d_]{2,}")
_BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n")
_BREAK = "\u2029"  # paragraph separator, marks block boundaries while flattening HTML
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# --------------------------------------------------------------------------- shared helpers


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: blocks between blank lines, or single lines when there are none.

    Whitespace inside a paragraph is collapsed; empty paragraphs are dropped.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = _BLANK_LINE.split(text) if _BLANK_LINE.search(text) else text.split("\n")
    return [p for p in (normalize_ws(b) for b in blocks) if p]


def html_to_paragraphs(markup: str) -> list[str]:
    """Paragraphs of an HTML fragment: block elements and ``<br>`` start a new paragraph.

    A fragment without any element is plain text (entities decoded) and is split
    with ``split_paragraphs``, so blank lines in plain-text feed descriptions survive.
    """
    if not markup or not markup.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return split_paragraphs(markup)
    etree.strip_elements(root, "script", "style", "template", etree.Comment, with_tail=False)
    if len(root) == 0:
        return split_paragraphs(root.text_content())
    for element in root.iter(etree.Element):
        if element is not root and isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.text = _BREAK + (element.text or "")
            element.tail = _BREAK + (element.tail or "")
    return [p for p in (normalize_ws(part) for part in root.text_content().split(_BREAK)) if p]


def drop_title(paragraphs: list[str], title: str | None) -> list[str]:
    """Remove leading paragraphs that repeat the headline (case and spacing ignored)."""
    key = normalize_ws(title).casefold()
    if not key:
        return paragraphs
    start = 0
    while start < len(paragraphs) and paragraphs[start].casefold() == key:
        start += 1
    return paragraphs[start:]


def date_from_text(paragraphs: list[str]) -> tuple[dt.date, str, int | None] | None:
    """A date written in the first paragraphs: ``(date, matched string, index)``.

    ``index`` is the paragraph to drop when it is a bare date line ("March 14, 2022"),
    ``None`` when the date sits inside running text.
    """
    head = paragraphs[:TEXT_DATE_PARAGRAPHS]
    for index, paragraph in enumerate(head):
        found = is_date_line(paragraph)
        if found is not None:
            return found[0], found[1], index
    for paragraph in head:
        found = find_date(paragraph)
        if found is not None:
            return found[0], found[1], None
    return None


def take_text_date(paragraphs: list[str]) -> tuple[dt.date | None, str | None, list[str]]:
    """``date_from_text`` applied: ``(date, matched string, paragraphs)`` with a bare date line removed
    (unless it is the only paragraph); ``(None, None, paragraphs)`` when the text has no date."""
    found = date_from_text(paragraphs)
    if found is None:
        return None, None, paragraphs
    day, raw, drop = found
    if drop is not None and len(paragraphs) > 1:
        paragraphs = paragraphs[:drop] + paragraphs[drop + 1 :]
    return day, raw, paragraphs


# --------------------------------------------------------------------------- HTML pages


def _declared_language(root: lxml.html.HtmlElement) -> str | None:
    """The language the page declares: ``<html lang>``, Content-Language meta, then og:locale."""
    html = root if root.tag == "html" else next(iter(root.xpath("//html")), root)
    value = html.get("lang") or html.get(_XML_LANG)
    if not value:
        for meta in root.iter("meta"):
            name = (meta.get("http-equiv") or meta.get("property") or "").lower()
            if name in ("content-language", "og:locale") and meta.get("content"):
                value = meta.get("content")
                break
    value = normalize_ws(value)
    return value or None


def _has_prose(paragraphs: list[str], root: lxml.html.HtmlElement) -> bool:
    """True when some paragraph has ``MIN_PROSE_WORDS`` words that are not link text.

    trafilatura falls back to whatever text a page has, so a page with only a menu
    yields "Home | News": that is not an article.
    """
    links = sorted({normalize_ws(a.text_content()) for a in root.iter("a")} - {""}, key=len, reverse=True)
    for paragraph in paragraphs:
        rest = paragraph
        for link in links:
            if link in rest:
                rest = rest.replace(link, " ")
        if len(_WORD.findall(rest)) >= MIN_PROSE_WORDS:
            return True
    return False


def parse(text: str, source: str, options: IngestOptions) -> tuple[list[ParsedArticle], list[QuarantineRecord]]:
    """One HTML page -> at most one article (title, author, date, outlet from the page's metadata)."""
    import trafilatura  # imported lazily: ~0.4 s, and the other formats import the helpers above
    from trafilatura.utils import load_html

    def no_main_text(detail: str) -> tuple[list[ParsedArticle], list[QuarantineRecord]]:
        return [], [QuarantineRecord(source, "no main text", detail, excerpt=excerpt_of(text))]

    root = load_html(textsafe.xml_references(text))  # references to controls make trafilatura find no text
    if root is None:
        return no_main_text("the file could not be parsed as an HTML page")
    doc = trafilatura.bare_extraction(
        root,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        date_extraction_params=dict(_DATE_PARAMS),
    )
    if doc is None or not doc.text:
        return no_main_text("trafilatura found no main text in the page")

    title = normalize_ws(doc.title) or None
    # trafilatura's text has one line per paragraph (heading, list item, line break)
    lines = (normalize_ws(line) for line in doc.text.splitlines())
    paragraphs = drop_title([line for line in lines if line], title)
    if not paragraphs or not _has_prose(paragraphs, root):
        found = " / ".join(paragraphs)[:120]
        return no_main_text(f"the page has no article text (extracted only {found!r})" if found else "the page has no article text")

    metadata: dict = {}
    published, date_source, date_raw = None, "none", None
    if doc.date:
        published = parse_date(doc.date)
        if published is not None:
            date_source, date_raw = "metadata", doc.date
        else:
            metadata["unparsed_date"] = doc.date
    if published is None:
        published, raw, paragraphs = take_text_date(paragraphs)
        if published is not None:
            date_source, date_raw = "text", raw

    for key in ("description", "hostname", "pagetype"):
        value = getattr(doc, key, None)
        if value:
            metadata[key] = value
    if doc.categories:
        metadata["categories"] = list(doc.categories)

    url = doc.url or None
    outlet = normalize_ws(doc.sitename) or doc.hostname or (urlparse(url).hostname if url else None) or None
    article = ParsedArticle(
        body="\n\n".join(paragraphs),
        title=title,
        outlet=outlet,
        author=normalize_ws(doc.author) or None,
        url=url,
        published_date=published,
        date_source=date_source,
        date_raw=date_raw,
        declared_language=_declared_language(root),
        tags=[t for t in (normalize_ws(tag) for tag in doc.tags or []) if t],
        metadata=metadata,
    )
    return [article], []
