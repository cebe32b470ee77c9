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
