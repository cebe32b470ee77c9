"""Cleaning and paragraph splitting.

An article body is split into *blocks* (blank-line separated; a body with no
blank lines is split on single line breaks). Every block is classified into one
``BlockKind``; only ``body`` and ``heading`` blocks become rows of the
``paragraphs`` table, the rest are counted (materialisation metadata) and dropped.

The rules are small, named regular expressions over a whole block, written for
the boilerplate scrapers leave in pro-Kremlin and mainstream news pages alike
(share counters, comment forms, "Similar Posts", photo credits, legal footnotes
on organisations "banned in Russia"). They were written by hand because no
maintained library classifies *already-extracted* plain-text blocks: trafilatura
and jusText work on HTML, and the HTML path uses trafilatura before this runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from narrative_tracker.ingest.dates import is_date_line
from narrative_tracker.models import normalize_ws, stable_hash
from narrative_tracker.textsafe import MAX_PARAGRAPH_CHARS


class BlockKind(str, Enum):
    BODY = "body"  # narrative text
    HEADING = "heading"  # a sub-heading inside the article (kept, marked)
    DATELINE = "dateline"  # a bare date line ("Jan 10, 2022", "06.01.2022, Moscow.")
    BYLINE = "byline"  # "By Vladimir Platov"
    SOURCE = "source"  # "Source: New Eastern Outlook"
    BOILERPLATE = "boilerplate"  # share counters, comment forms, navigation, editorial notes
    CAPTION = "caption"  # photo captions and photo credits
    FOOTNOTE = "footnote"  # legal footnotes ("* ... banned in Russia")


KEPT_KINDS = frozenset({BlockKind.BODY, BlockKind.HEADING})

_BOILERPLATE = re.compile(
    r"""^(?:
        [\d\s]+                                   # share / like counters: "0 0", "12"
      | leave\s+a\s+(?:reply|comment)\b.*
      | your\s+email\s+address\s+will\s+not\s+be\s+published.*
      | required\s+fields\s+are\s+marked.*
      | (?:similar|related|recommended|popular)\s+(?:posts?|articles?|news|stories)\s*:?
      | (?:read\s+(?:also|more)|see\s+also|more\s+on\s+this\s+topic)\b.{0,200}
      | article\s+categories\s*:.*
      | (?:categories|tags|filed\s+under|share\s+(?:this|on)|follow\s+us)\s*:.*
      | if\s+you\s+(?:notice|find|see)\s+an?\s+(?:error|mistake|typo).*
      | (?:all\s+rights\s+reserved|©|copyright\s).*
      | (?:subscribe|sign\s+up)\s+(?:to|for)\s+(?:our\s+)?(?:newsletter|channel|telegram).*
      | (?:comments?|\d+\s+comments?)\s*:?
      | (?:share|tweet|print|email)(?:\s*[|/·]\s*(?:share|tweet|print|email))*\s*
    )$""",
    re.I | re.X | re.S,
)
_CAPTION = re.compile(
    r"""^(?:
        (?:in\s+the\s+)?(?:photo|pictured|picture|image|illustration|video)(?:\s*\(.*?\))?\s*:.*
      | \(?(?:photo|image)\s*(?:credit)?\s*:.*
      | .*\((?:photo|image)\s*:[^)]*\)\s*\.?
      | (?:photo|image)\s+(?:by|via|courtesy\s+of)\s.*
      | (?:reuters|ap|afp|tass|ria\s+novosti|getty\s+images|epa|sputnik)(?:\s*/\s*[\w .'-]+)+
    )$""",
    re.I | re.X | re.S,
)
# A caption that ends with the date the picture was taken: "Kazakhs clash with police ... Kazakhstan.  January 5, 2022."
_CAPTION_TRAILING_DATE = re.compile(
    r"\.\s{2,}(?:\d{1,2}\.\d{1,2}\.\d{4}|[A-Z][a-z]+\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[A-Z][a-z]+\s+\d{4})\.?\s*$"
)
_FOOTNOTE = re.compile(r"^\s*\*+\s*\S.*", re.S)
_BANNED = re.compile(r"\b(?:banned|prohibited|outlawed|recogni[sz]ed\s+as\s+(?:a\s+)?(?:terrorist|extremist))\b", re.I)
_BYLINE = re.compile(r"^(?:by|author|written\s+by|text\s+by)\s*:?\s+(?P<name>[^\n.!?:;]{2,80}?)\.?$", re.I)
_SOURCE = re.compile(r"^(?:source|originally\s+published\s+(?:by|at|in)|first\s+published\s+(?:by|at|in))\s*:?\s+(?P<name>[^\n]{2,120}?)\.?$", re.I)
_SENTENCE_END = re.compile(r"[.!?…»”\"')]\s*$")
_FINITE_VERBS = frozenset(
    "is are was were be been has have had will would can could shall should may might must do does did "
    "said says say told tells claimed claims stated states reported reports continues continue remains remain".split()
)
_QUOTES = re.compile(r"[\"“”«»„]")

# Russian page furniture, applied to blocks of articles/paragraphs detected as Russian (``language="ru"``),
# on top of the rules above (Russian pages carry English furniture too). Written from the phrases Russian news
# sites use around articles ("Читайте также", "Подписывайтесь на наш канал", "Фото: РИА Новости"), not taken
# from any test article.
_RU_BOILERPLATE = re.compile(
    r"""^(?:
        (?:читайте|смотрите)\s+(?:также|еще|ещё)\b.{0,200}
      | (?:подписывайтесь|подпишитесь)\s+на\b.*
      | (?:похожие|другие|популярные)\s+(?:новости|материалы|статьи|публикации)\s*:?
      | материалы\s+по\s+теме\s*:?
      | (?:теги|метки|рубрики|поделиться(?:\s+в\s+\S+)?)\s*:?.*
      | (?:все\s+права\s+защищены|при\s+(?:полном\s+или\s+частичном\s+)?(?:использовании|цитировании)\s+материалов).*
      | если\s+вы\s+(?:заметили|нашли)\s+(?:ошибку|опечатку).*
      | (?:комментарии|\d+\s+комментари[йея]в?)\s*:?
    )$""",
    re.I | re.X | re.S,
)
_RU_CAPTION = re.compile(r"^(?:фото|иллюстрация|видео|кадр)(?:\s*\(.*?\))?\s*:.*|.*\((?:фото|иллюстрация)\s*:[^)]*\)\s*\.?$", re.I | re.S)
# Russian bylines and source lines need the colon ("Автор: ...", "Источник: ..."), so a sentence that starts
# with the word is never taken for one; they are recognised in any article (the text format reads them).
_RU_BYLINE = re.compile(r"^(?:автор|текст)\s*:\s+(?P<name>[^\n.!?:;]{2,80}?)\.?$", re.I)
_RU_SOURCE = re.compile(r"^(?:источник|первоисточник)\s*:\s+(?P<name>[^\n]{2,120}?)\.?$", re.I)
_RU_BANNED = re.compile(r"(?:запрещ[её]н|признан[аоы]?\s+(?:экстремист|террорист)|иностранн\w+\s+агент|иноагент)", re.I)


def split_blocks(body: str) -> list[str]:
    """Split text into blocks: on blank lines, or on line breaks when there are no blank lines."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return []
    if not re.search(r"\n\s*\n", text):
        return [line.strip() for line in text.split("\n") if line.strip()]
    blocks: list[str] = []
    for part in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in part.split("\n") if line.strip()]
        if len(lines) > 1 and not _hard_wrapped(lines):
            blocks.extend(lines)  # a stack of separate lines: "By X" / "Source: Y", "date" / "headline"
        elif lines:
            blocks.append(" ".join(lines))
    return blocks


_SENTENCE_BREAK = re.compile(r"[.!?…。！？][\"'»”’)\]]*\s+")


def split_long(block: str, cap: int = MAX_PARAGRAPH_CHARS) -> list[str]:
    """A block over ``cap`` characters as pieces of at most ``cap``: cut at the last sentence end in the second half
    of each window, else at the last space there, else at the cap (text with no spaces)."""
    pieces: list[str] = []
    start = 0
    while len(block) - start > cap:
        window = block[start : start + cap]
        ends = [m.end() for m in _SENTENCE_BREAK.finditer(window, cap // 2)]
        cut = ends[-1] if ends else (window.rfind(" ", cap // 2) + 1 or cap)
        pieces.append(block[start : start + cut].strip())
        start += cut
    pieces.append(block[start:].strip())
    return [p for p in pieces if p]


def _hard_wrapped(lines: list[str]) -> bool:
    """True when the lines look like one paragraph wrapped at a fixed width (e-mail, plain-text exports)."""
    body = lines[:-1]
    long_enough = all(40 <= len(line) <= 100 for line in body)
    open_ended = sum(1 for line in body if not line.endswith((".", "!", "?", ":"))) * 2 >= len(body)
    return long_enough and open_ended


def byline_name(block: str) -> str | None:
    match = _BYLINE.match(block.strip()) or _RU_BYLINE.match(block.strip())
    if match and len(match.group("name").split()) <= 6:
        return match.group("name").strip()
    return None


def source_name(block: str) -> str | None:
    match = _SOURCE.match(block.strip()) or _RU_SOURCE.match(block.strip())
    return match.group("name").strip() if match else None


def classify_block(block: str, language: str | None = None) -> BlockKind:
    """Classify one block of article text (see ``BlockKind``).

    ``language`` (ISO 639-1, the article's detected language) adds that language's furniture rules (Russian
    so far) and switches the English-only caption heuristic (a short sentence with no English verb) off for
    text in another language, where it would throw real sentences away.
    """
    text = block.strip()
    flat = normalize_ws(text)
    words = flat.split()
    russian = language == "ru"
    if not flat or _BOILERPLATE.match(flat) or (russian and _RU_BOILERPLATE.match(flat)):
        return BlockKind.BOILERPLATE
    if is_date_line(flat):
        return BlockKind.DATELINE
    if byline_name(flat):
        return BlockKind.BYLINE
    if source_name(flat):
        return BlockKind.SOURCE
    if _FOOTNOTE.match(text) and (_BANNED.search(flat) or (russian and _RU_BANNED.search(flat)) or len(words) < 60):
        return BlockKind.FOOTNOTE
    if _CAPTION.match(flat) or _CAPTION_TRAILING_DATE.search(text) or (russian and _RU_CAPTION.match(flat)):
        return BlockKind.CAPTION
    single_sentence = len(re.findall(r"[.!?](?:\s|$)", flat)) <= 1
    if (
        language in (None, "en")
        and len(words) <= 10
        and single_sentence
        and flat.endswith(".")
        and not _QUOTES.search(flat)
        and not re.search(r"[,;:]", flat)
        and not any(w.lower().strip(".") in _FINITE_VERBS or (len(w) > 4 and w.lower().strip(".").endswith("ed")) for w in words)
    ):
        # "Triumphal Arch in Nur-Sultan." / "Police and military equipment on the street in Almaty."
        # one short sentence, no clause punctuation and no verb we can recognise: a photo caption
        return BlockKind.CAPTION
    if len(words) <= 16 and not flat.endswith((".", ":", ";", ",")) and not re.search(r"[.!?]\s", flat):
        # short line without a final full stop: a cross-heading ("Who is behind the protest?")
        return BlockKind.HEADING
    return BlockKind.BODY


@dataclass(frozen=True)
class Paragraph:
    position: int  # 0-based position among the kept paragraphs of the article
    block_index: int  # 0-based position among all blocks of the body (kept or not)
    kind: str  # "body" or "heading"
    text: str

    @property
    def text_hash(self) -> str:
        """Identical text (up to whitespace) shares one hash, across articles and outlets."""
        return text_hash(self.text)

    @property
    def word_count(self) -> int:
        return len(self.text.split())


def text_hash(text: str) -> str:
    return stable_hash(normalize_ws(text))


def paragraphs_of(body: str, language: str | None = None) -> tuple[list[Paragraph], dict[str, int]]:
    """Kept paragraphs of one article body, and how many blocks of each dropped kind there were.

    A body of a single block is kept as ``body`` unless it is boilerplate. ``language``: the article's detected
    language (see ``classify_block``).

    Text is whitespace-normalised. A block repeated verbatim later in the same article
    (scrapers sometimes capture a body twice) is dropped as ``duplicate``. A block over
    ``textsafe.MAX_PARAGRAPH_CHARS`` is split at sentence ends (``split_long``; counted as ``split_long`` in the
    returned counts, not dropped).
    """
    kept: list[Paragraph] = []
    dropped: dict[str, int] = {}
    seen: set[str] = set()
    found = split_blocks(body)
    blocks = [piece for block in found for piece in (split_long(block) if len(block) > MAX_PARAGRAPH_CHARS else [block])]
    if len(blocks) > len(found):
        dropped["split_long"] = sum(len(b) > MAX_PARAGRAPH_CHARS for b in found)
    for index, block in enumerate(blocks):
        kind = classify_block(block, language)
        if len(found) == 1 and kind is not BlockKind.BOILERPLATE:
            # A one-block body (a claim, a post, a CSV row) has no page furniture around it:
            # caption / heading rules would only throw real text away.
            kind = BlockKind.BODY
        flat = normalize_ws(block)
        if kind not in KEPT_KINDS:
            dropped[kind.value] = dropped.get(kind.value, 0) + 1
            continue
        if flat in seen:
            dropped["duplicate"] = dropped.get("duplicate", 0) + 1
            continue
        seen.add(flat)
        kept.append(Paragraph(len(kept), index, kind.value, flat))
    return kept, dropped
