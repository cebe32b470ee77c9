"""CSV/TSV and JSON Lines/JSON inputs (narrative_tracker.ingest.formats.tabular)."""

from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path

import pytest
from conftest import EUVSDISINFO

from narrative_tracker.ingest.formats import IngestOptions, read_file
from narrative_tracker.ingest.formats.tabular import parse_csv, parse_jsonl

FIXTURES = Path(__file__).parent / "fixtures" / "tabular"


def _csv(name: str, options: IngestOptions | None = None):
    path = FIXTURES / name
    return parse_csv(path.read_text(encoding="utf-8"), str(path), options or IngestOptions())


def _jsonl(name: str, options: IngestOptions | None = None):
    path = FIXTURES / name
    return parse_jsonl(path.read_text(encoding="utf-8"), str(path), options or IngestOptions())


# --------------------------------------------------------------------------- CSV


def test_csv_aliased_columns_are_mapped():
    first = _csv("articles.csv")[0][0]
    assert first.title == "Wind farm approved off the northern coast"
    assert first.url == "https://coastalherald.example/wind-farm-approved"
    assert first.author == "Jonas Berg"
    assert first.locator == "row 1"


def test_csv_outlets_split_on_separator():
    first = _csv("articles.csv")[0][0]
    assert first.outlets == ["Coastal Herald", "Energy Wire"]
    assert first.outlet == "Coastal Herald"


def test_csv_multiline_cell_keeps_paragraphs():
    first, second = _csv("articles.csv")[0][:2]
    assert len(first.body.split("\n\n")) == 3
    assert first.body.startswith("The national planning board approved")
    assert len(second.body.split("\n\n")) == 2  # single newlines are paragraph breaks too


def test_csv_dates_iso_and_european():
    first, second = _csv("articles.csv")[0][:2]
    assert (first.published_date, first.date_source, first.date_raw) == (dt.date(2023, 6, 20), "metadata", "2023-06-20")
    assert (second.published_date, second.date_raw) == (dt.date(2022, 7, 14), "14/07/2022")


def test_csv_unparseable_date_kept_in_metadata():
    heatwave = _csv("articles.csv")[0][2]
    assert heatwave.title == "Heatwave warning issued for the south"
    assert heatwave.published_date is None
    assert heatwave.date_source == "none"
    assert heatwave.metadata["unparsed_date"] == "not a date"


def test_csv_unmapped_columns_go_to_metadata():
    first = _csv("articles.csv")[0][0]
    assert first.metadata == {"Section": "Environment"}


def test_csv_row_without_text_is_quarantined():
    articles, quarantined = _csv("articles.csv")
    assert len(articles) == 3
    assert [(q.reason, q.locator) for q in quarantined] == [("row without text", "row 3")]
    assert '"Headline": "Transit fares to rise in January"' in quarantined[0].excerpt


def test_tsv_by_extension_with_language_and_tags():
    articles, quarantined = _csv("briefs.tsv")
    assert quarantined == []
    assert [a.title for a in articles] == ["Rail strike called off", "Library opens new reading room"]
    assert articles[0].tags == ["Transport", "Labour"]
    assert articles[0].declared_language == "en"
    assert articles[0].outlet == "Metro Tribune"
    assert articles[0].published_date == dt.date(2022, 10, 7)


def test_semicolon_separator_is_detected():
    articles, _ = parse_csv("title;text;date\nA;Some text here;2022-01-01\n", "x.csv", IngestOptions())
    assert (articles[0].title, articles[0].body, articles[0].published_date) == ("A", "Some text here", dt.date(2022, 1, 1))


def test_text_column_option_overrides_aliases():
    articles, _ = _csv("articles.csv", IngestOptions(text_column="Headline"))
    assert len(articles) == 4  # the row with an empty Body has a headline
    assert articles[2].body == "Transit fares to rise in January"
    assert articles[2].title == "Transit fares to rise in January"
    assert "Body" in articles[0].metadata


def test_option_naming_missing_column_quarantines_file():
    articles, quarantined = _csv("articles.csv", IngestOptions(date_column="when"))
    assert articles == []
    assert [q.reason for q in quarantined] == ["missing column"]
    assert "when" in quarantined[0].detail
    assert "Headline, Body, Published" in quarantined[0].detail


def test_no_text_column_quarantines_file():
    articles, quarantined = parse_csv("name,score\nann,3\n", "scores.csv", IngestOptions())
    assert articles == []
    assert [q.reason for q in quarantined] == ["no text column"]
    assert "name, score" in quarantined[0].detail


def test_header_only_csv():
    articles, quarantined = parse_csv("title,text\n", "empty.csv", IngestOptions())
    assert articles == []
    assert [q.reason for q in quarantined] == ["no rows"]


def test_ragged_rows_are_padded_or_truncated():
    articles, quarantined = parse_csv("title,text\nA,one\nB,two,extra\nC\n", "ragged.csv", IngestOptions())
    assert [(a.title, a.body) for a in articles] == [("A", "one"), ("B", "two")]
    assert [(q.reason, q.locator) for q in quarantined] == [("row without text", "row 3")]


def test_unreadable_rows_fall_back_to_csv_module():
    text = 'title,text\nA,"bad"quote" here\nB,fine text\n'
    articles, quarantined = parse_csv(text, "bad.csv", IngestOptions())
    assert [(a.title, a.body, a.locator) for a in articles] == [("B", "fine text", "row 2")]
    assert [(q.reason, q.locator) for q in quarantined] == [("unreadable row", "line 2")]


def test_unclosed_quote_quarantines_rest_of_file():
    text = 'title,text\nA,first text\nB,"unclosed text\nC,third\n'
    articles, quarantined = parse_csv(text, "cut.csv", IngestOptions())
    assert [a.body for a in articles] == ["first text"]
    assert [(q.reason, q.locator) for q in quarantined] == [("unreadable row", "lines 3-4")]


def test_id_url_becomes_url_when_no_url_column():
    articles, _ = parse_csv("id,text\nhttps://x.example/a,Some text\nplain-id,Other text\n", "ids.csv", IngestOptions())
    assert (articles[0].external_id, articles[0].url) == ("https://x.example/a", "https://x.example/a")
    assert (articles[1].external_id, articles[1].url) == ("plain-id", None)


def test_separator_inside_name_is_kept():
    articles, _ = parse_csv("text,outlet\nSome text,Canal+\n", "c.csv", IngestOptions())
    assert articles[0].outlets == ["Canal+"]


def test_date_written_in_text_when_no_date_column():
    articles, _ = parse_csv('title,text\nA,"10 January 2022\n\nThe talks resumed."\n', "d.csv", IngestOptions())
    assert (articles[0].published_date, articles[0].date_source, articles[0].date_raw) == (dt.date(2022, 1, 10), "text", "10 January 2022")
    assert articles[0].body == "The talks resumed."


# --------------------------------------------------------------------------- JSON Lines / JSON


def test_jsonl_lists_and_numbers():
    first = _jsonl("posts.jsonl")[0][0]
    assert first.title == "Drought cuts olive harvest by a third"
    assert first.outlets == ["Agri Times", "Farm Daily"]
    assert first.author == "Elena Russo; Marco Bianchi"
    assert first.tags == ["agriculture", "drought"]
    assert first.external_id == "a-101"
    assert first.metadata == {"views": 1520}
    assert len(first.body.split("\n\n")) == 2


def test_jsonl_dates_iso_and_epoch():
    first, second = _jsonl("posts.jsonl")[0]
    assert (first.published_date, first.date_source) == (dt.date(2022, 11, 3), "metadata")
    assert (second.published_date, second.date_raw) == (dt.date(2022, 11, 11), "1668157200")


def test_jsonl_bad_lines_are_quarantined_with_line_numbers():
    articles, quarantined = _jsonl("posts.jsonl")
    assert [a.locator for a in articles] == ["line 1", "line 2"]
    assert [(q.reason, q.locator) for q in quarantined] == [
        ("malformed json", "line 3"),
        ("not an object", "line 4"),
        ("row without text", "line 5"),
    ]
    assert quarantined[0].excerpt.startswith('{"id": "a-103"')


def test_json_array_file():
    articles, quarantined = _jsonl("items.json")
    assert quarantined == []
    assert [a.locator for a in articles] == ["item 1", "item 2"]
    first = articles[0]
    assert first.title == "Vaccination centres extend opening hours"
    assert first.outlet == "Regional TV News"
    assert first.url == "https://regionaltv.example/vaccination-hours"
    assert first.external_id == "tv-2021-0001"
    assert first.published_date == dt.date(2021, 5, 17)
    assert len(first.body.split("\n\n")) == 2


def test_json_single_object_and_wrapper_object():
    single, _ = parse_jsonl('{"text": "hello there", "title": "Hi"}', "one.json", IngestOptions())
    assert [(a.title, a.body) for a in single] == [("Hi", "hello there")]
    wrapped, _ = parse_jsonl('{"articles": [{"body": "x y"}, {"body": "z"}], "count": 2}', "w.json", IngestOptions())
    assert [a.body for a in wrapped] == ["x y", "z"]


def test_malformed_json_array_is_one_record():
    articles, quarantined = parse_jsonl('[{"text": "a"},\n {"text": ]', "bad.json", IngestOptions())
    assert articles == []
    assert [(q.reason, q.locator) for q in quarantined] == [("malformed json", None)]  # the whole file
    assert "line 2" in quarantined[0].detail


def test_jsonl_missing_column_option():
    articles, quarantined = _jsonl("posts.jsonl", IngestOptions(tags_column="labels"))
    assert articles == []
    assert quarantined[-1].reason == "missing column"


# --------------------------------------------------------------------------- read_file


@pytest.mark.parametrize(
    ("name", "fmt", "n_articles"),
    [("articles.csv", "csv", 3), ("briefs.tsv", "csv", 2), ("posts.jsonl", "jsonl", 2), ("items.json", "jsonl", 2)],
)
def test_read_file_detects_tabular_formats(name, fmt, n_articles):
    result = read_file(FIXTURES / name)
    assert result.format == fmt
    assert len(result.articles) == n_articles


def test_read_file_sniffs_json_without_extension():
    result = read_file("dump/items", data=(FIXTURES / "items.json").read_bytes())
    assert result.format == "jsonl"
    assert [a.external_id for a in result.articles] == ["tv-2021-0001", "tv-2021-0002"]


# --------------------------------------------------------------------------- EUvsDisinfo (real data)


@pytest.fixture(scope="module")
def euvsdisinfo():
    text = EUVSDISINFO.read_text(encoding="utf-8")
    start = time.perf_counter()
    articles, quarantined = parse_csv(text, str(EUVSDISINFO), IngestOptions(text_column="title"))
    return articles, quarantined, time.perf_counter() - start


@pytest.fixture(scope="module")
def rows():
    """The same file read by the standard library's csv module: the expectations, independent of polars."""
    with open(EUVSDISINFO, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_euvsdisinfo_every_row_is_a_dated_article(euvsdisinfo, rows):
    articles, quarantined, seconds = euvsdisinfo
    assert quarantined == []
    assert len(articles) == len(rows) >= 400  # the fixture's 400 rows, or the whole corpus's 10,892
    assert [a.published_date for a in articles] == [dt.date.fromisoformat(r["date"]) for r in rows]
    assert {a.date_source for a in articles} == {"metadata"}
    assert seconds < 5


def test_euvsdisinfo_first_row(euvsdisinfo):
    first = euvsdisinfo[0][0]
    assert first.title == first.body == "German special services helped Navalny"
    assert first.published_date == dt.date(2021, 2, 18)
    assert first.external_id == first.url == "https://euvsdisinfo.eu/report/german-special-services-helped-navalny/"
    assert first.tags == ["Alexei Navalny", "Vladimir Putin"]
    assert first.declared_language == "Russian"
    assert first.metadata == {"countries": "Russia+Germany"}


def test_euvsdisinfo_multi_valued_cells_are_split(euvsdisinfo, rows):
    articles = euvsdisinfo[0]
    multi = next(a for a in articles if a.title.startswith("Finland is attempting"))
    assert multi.outlets == ["RIAFAN - Russian", "mv-lehti.net"]
    assert multi.declared_language == "Russian"
    assert multi.metadata["languages"] == ["Russian", "Finnish"]
    assert [a.outlets for a in articles] == [[" ".join(o.split()) for o in r["outlets"].split("+") if o.strip()] for r in rows]
    assert sum(len(a.outlets) > 1 for a in articles) == sum("+" in r["outlets"] for r in rows) > 10
    assert sum(a.outlet is None for a in articles) == sum(not r["outlets"].strip() for r in rows)
    assert all("+" not in tag for a in articles for tag in a.tags)


def test_euvsdisinfo_through_read_file(rows):
    result = read_file(EUVSDISINFO, IngestOptions(text_column="title"))
    assert result.format == "csv"
    assert len(result.articles) == len(rows)
    assert result.quarantined == []


def test_jsonl_line_numbers_count_leading_blank_lines():
    articles, quarantined = parse_jsonl('\n\n{"text": "a b"}\n{bad\n', "gaps.jsonl", IngestOptions())
    assert [a.locator for a in articles] == ["line 3"]
    assert [(q.reason, q.locator) for q in quarantined] == [("malformed json", "line 4")]
