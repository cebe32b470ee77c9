"""Publication-date parsing.

Locating a date inside a line is done with a few regular expressions (we need to
know *which* part of "06.01.2022, Moscow." is the date); turning the located
string into a date is left to ``dateparser`` (month names in many languages,
many layouts) with explicit day/month order rules:

* ``2022-01-06`` (ISO) is year-month-day;
* ``06.01.2022`` (dots, the European/Russian convention) is day-month-year;
* ``01/06/2022`` (slashes, the US convention) is month-day-year;
* written months ("Jan 10, 2022", "10 January 2022") are unambiguous.

Dates before 2000 (the first daily partition) or more than two days in the future (relative to today) are
rejected as implausible; the caller decides what to do with the string.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}(?:[T ][0-9:.+\-Z]*)?"), "YMD"),
    (re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b"), "DMY"),
    (re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b"), "MDY"),
    (re.compile(rf"\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.I), "MDY"),
    (re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}\b", re.I), "DMY"),
]

MIN_PLAUSIBLE = dt.date(2000, 1, 1)  # also the first daily partition


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def plausible(day: dt.date) -> bool:
    """True when ``day`` lies between 2000-01-01 and two days after today."""
    return MIN_PLAUSIBLE <= day <= _today() + dt.timedelta(days=2)


@functools.lru_cache(maxsize=8)
def _parser_settings(order: str) -> dict:
    # no relative dates ("yesterday", "2 hours ago"): relative to what? A publication date must be absolute.
    return {"DATE_ORDER": order, "PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False,
            "PARSERS": ["timestamp", "custom-formats", "absolute-time"]}


def parse_date(value: str | None, order: str = "DMY") -> dt.date | None:
    """Parse one date string (ISO fast path, then dateparser). ``None`` if it is not a plausible date."""
    if not value:
        return None
    value = value.strip()
    if not value:
        return None
    try:  # ISO 8601, by far the most common in exports
        day = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        import dateparser  # imported lazily: it costs ~1 s at import

        parsed = dateparser.parse(value, settings=_parser_settings(order))
        day = parsed.date() if parsed else None
    return day if day is not None and plausible(day) else None


def find_date(line: str) -> tuple[dt.date, str] | None:
    """Find the first date written in ``line``; return it with the matched string."""
    for pattern, order in _PATTERNS:
        match = pattern.search(line)
        if match:
            day = parse_date(match.group(0), order=order)
            if day is not None:
                return day, match.group(0)
    return None


def is_date_line(line: str) -> tuple[dt.date, str] | None:
    """A *date line*: a short line that is mostly a date ("Jan 10, 2022", "06.01.2022, Moscow.").

    At most 8 words, and the date is the first thing on it.
    """
    stripped = line.strip()
    if not stripped or len(stripped.split()) > 8:
        return None
    found = find_date(stripped)
    if found is None:
        return None
    if stripped.find(found[1]) > 3:  # allow a leading bullet or "On "
        return None
    return found
