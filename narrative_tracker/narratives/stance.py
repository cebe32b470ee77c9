"""Stance of a paragraph towards a narrative it carries: ``asserts``, ``reports`` or ``refutes``.

* ``refutes`` — the text rejects or debunks the claim ("there is no evidence that…", "a recurring
  pro-Kremlin narrative", "false", "propaganda", "denied"): checked first, because a debunk quotes the
  narrative's own words and often attributes them too;
* ``reports`` — the text attributes the claim to someone else, at a distance ("X claimed that…",
  "according to state TV…", "alleged"): attribution verbs and phrases;
* ``asserts`` — neither: the text pushes the claim in its own voice.

A transparent cue-lexicon method, chosen over a trained classifier because the labelled stance data is
small (tens of paragraphs per stance) and the cues must be explainable to analysts: every decision stores
the cue that triggered it. Lexicons were written on the *tune* part of the labelled set; precision and
recall on the *test* part are in the README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STANCES = ("asserts", "reports", "refutes")

_REFUTE = re.compile(
    r"""\b(?:
        no\s+(?:evidence|proof|sign|indication|basis)\b
      | (?:lacks?|without|offered\s+no|provided\s+no|presented\s+no)\s+(?:any\s+)?(?:evidence|proof)
      | not\s+(?:true|supported|backed|borne\s+out|the\s+case)
      | (?:is|are|was|were|remains?)\s+(?:false|baseless|groundless|unfounded|untrue|fabricated|misleading|a\s+myth|a\s+fabrication|a\s+lie)
      | false(?:ly)?\s+(?:claim|claims|claimed|narrative|story|allegation)
      | baseless | unfounded | groundless | debunk\w* | fact[- ]?check\w* | disinformation | misinformation
      | (?:kremlin|state|russian)\s+propaganda | propaganda\s+(?:line|trope|narrative|outlets?)
      | recurring\s+(?:pro-kremlin\s+)?(?:narrative|claim|disinformation)
      | pro-kremlin\s+(?:narrative|outlets?|media|disinformation)
      | conspiracy\s+theor\w* | (?:a|the)\s+myth\b
      | (?:denied|denies|deny|rejected|rejects|dismissed|dismisses|refuted|refutes|ridiculed)\s+(?:the|these|such|this|any|claims?|allegations?|reports?|accusations?|suggestions?)
      | there\s+(?:is|was)\s+nothing\s+to\s+(?:suggest|support|indicate)
      | invented | fabricat\w+ | smokescreen | fig\s+leaf
      | verdict:?\s+(?:false|misleading|fake) | contradict(?:s|ing|ed)\s+(?:the|\w+'s)\s+(?:claim|narrative|version)
      | does\s+not\s+(?:survive|hold\s+up|stand\s+up) | no\s+documents?\s+support
    )""",
    re.I | re.X,
)
_REPORT = re.compile(
    r"""(?:
        \b(?:claimed|claims)\s+that | \balleg(?:es|ed|edly|ation|ations)\b | \bpurported(?:ly)?\b
      | \baccording\s+to\b | \bciting\b | \bquoted\b | \b(?:as|in)\s+(?:reported|claimed|alleged)\s+by\b
      | \b(?:said|says|stated|told|tells|insisted|insists|argued|argues|asserted|accused|accuses|blamed|blames|
            maintained|maintains|wrote|tweeted|declared|warned|reported)\b
      | \bstate\s+(?:tv|television|media)\b
    )""",
    re.I | re.X,
)


@dataclass(frozen=True)
class Stance:
    stance: str  # one of STANCES
    cue: str | None  # the words that decided it (None for the asserts default)


def classify_stance(text: str) -> Stance:
    """Stance of ``text`` towards the narrative it carries (see module docs)."""
    match = _REFUTE.search(text)
    if match:
        return Stance("refutes", match.group(0))
    match = _REPORT.search(text)
    if match:
        return Stance("reports", match.group(0))
    return Stance("asserts", None)
