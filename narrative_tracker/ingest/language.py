"""Language identification with py3langid (a maintained fork of langid.py, numpy only).

Returns an ISO 639-1 code, or ``None`` for text too short to tell (under 20 letters).
"""

from __future__ import annotations

import functools

MIN_LETTERS = 20
_SAMPLE_CHARS = 2000


@functools.lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # Only languages with an ISO 639-1 code (116 of the model's 142). The others (Nigerian Pidgin,
    # Ligurian, ...) are rare in news and were the detector's mistakes on short English claims.
    identifier.set_languages([code for code in identifier.nb_classes if len(code) == 2])
    return identifier


def detect_language(text: str | None) -> tuple[str | None, float | None]:
    """``(code, probability)`` for the text's language; ``(None, None)`` when there is too little text."""
    sample = (text or "")[:_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None, None
    code, prob = _identifier().classify(sample)
    return code, round(float(prob), 4)


# A paragraph's own detection is trusted at this probability. Below it, a paragraph written in the script of
# its article's language inherits the article's language: short paragraphs are where the detector errs most
# (py3langid reads a one-sentence Russian paragraph as Bulgarian at p=0.52), and the article, with more text,
# was detected with more evidence. A paragraph in another script (a Russian quote in an English article)
# keeps its own best guess.
PARAGRAPH_MIN_PROBABILITY = 0.9
CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg"})


def _cyrillic(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum("\u0400" <= ch <= "\u04ff" for ch in letters) * 2 > len(letters)


def paragraph_language(text: str, article_language: str | None) -> str | None:
    """The language of one paragraph (ISO 639-1): its own detection when confident, else the article's when
    the paragraph is in that language's script (Cyrillic or not), else its own guess; ``None`` if unknown."""
    code, prob = detect_language(text)
    if code is None:
        return article_language
    if prob >= PARAGRAPH_MIN_PROBABILITY or article_language is None:
        return code
    if _cyrillic(text) == (article_language in CYRILLIC_LANGUAGES):
        return article_language
    return code
