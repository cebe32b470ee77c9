import datetime as dt

import pytest

from narrative_tracker.ingest.dates import find_date, is_date_line, parse_date


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Jan 10, 2022", dt.date(2022, 1, 10)),
        ("06.01.2022, Moscow.", dt.date(2022, 1, 6)),
        ("10 January 2022", dt.date(2022, 1, 10)),
        ("2022-01-08", dt.date(2022, 1, 8)),
        ("01/06/2022", dt.date(2022, 1, 6)),  # slashes: month first
        ("September 3rd, 2021", dt.date(2021, 9, 3)),
    ],
)
def test_date_lines_in_several_formats(line, expected):
    found = is_date_line(line)
    assert found is not None and found[0] == expected


def test_a_sentence_with_a_date_is_not_a_date_line():
    assert is_date_line("On January 5, 2022, Kazakh President Tokayev said that the protests were an act of aggression.") is None
    assert find_date("riots began on 05.01.2022 in Zhanaozen")[0] == dt.date(2022, 1, 5)


def test_implausible_dates_are_rejected():
    assert parse_date("1850-01-01") is None
    assert parse_date("2999-01-01") is None
    assert parse_date("not a date") is None
    assert parse_date("2021-02-18T10:00:00Z") == dt.date(2021, 2, 18)


def test_relative_dates_are_not_publication_dates():
    assert parse_date("yesterday") is None
    assert parse_date("2 hours ago") is None
