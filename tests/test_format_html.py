"""HTML pages through trafilatura (narrative_tracker.ingest.formats.html)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from narrative_tracker.ingest.formats import IngestOptions, read_file
from narrative_tracker.ingest.formats.html import (
    date_from_text,
    drop_title,
    html_to_paragraphs,
    parse,
    split_paragraphs,
)

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def _parse(name: str):
    path = FIXTURES / name
    return parse(path.read_text(encoding="utf-8"), str(path), IngestOptions())


def _article(name: str):
    articles, quarantined = _parse(name)
    assert quarantined == []
    assert len(articles) == 1
    return articles[0]


def test_meta_page_title_and_outlet():
    article = _article("article_meta.html")
    assert article.title == "Port strike halts grain exports for a third day"
    assert article.outlet == "Harbour Daily"
    assert article.outlets == ["Harbour Daily"]


def test_meta_page_author_url_language():
    article = _article("article_meta.html")
    assert article.author == "Maria Lindqvist"
    assert article.url == "https://www.harbourdaily.example/economy/port-strike-grain-exports"
    assert article.declared_language == "en"


def test_meta_page_published_time_is_metadata_date():
    article = _article("article_meta.html")
    assert article.published_date == dt.date(2022, 3, 14)
    assert article.date_source == "metadata"
    assert article.date_raw == "2022-03-14"


def test_meta_page_body_has_four_paragraphs_without_headline():
    article = _article("article_meta.html")
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("Grain shipments from the country's largest port")
    assert paragraphs[3].endswith("meet both sides on Wednesday.")
    assert "Port strike halts" not in article.body


def test_meta_page_drops_nav_footer_and_comments():
    body = _article("article_meta.html").body
    for boilerplate in ("Subscribe now", "All rights reserved", "Privacy policy", "Reader123", "TruthSeeker"):
        assert boilerplate not in body


def test_meta_page_tags_and_metadata():
    article = _article("article_meta.html")
    assert article.tags == ["Shipping", "Labour"]
    assert article.metadata["description"] == "Dock workers extended their walkout as talks with the port authority stalled."
    assert article.metadata["categories"] == ["Economy"]


def test_jsonld_page_date_author_publisher():
    article = _article("article_jsonld.html")
    assert article.published_date == dt.date(2021, 11, 5)  # datePublished, not dateModified
    assert article.date_source == "metadata"
    assert article.author == "Tom Okafor"
    assert article.outlet == "Riverside Gazette"
    assert article.declared_language == "en-GB"
    assert len(article.body.split("\n\n")) == 3


def test_dateline_in_text_gives_text_date_and_is_removed():
    article = _article("article_dateline.html")
    assert article.published_date == dt.date(2020, 3, 3)
    assert article.date_source == "text"
    assert article.date_raw == "March 3, 2020"
    assert article.body.startswith("More than two hundred volunteers")
    assert len(article.body.split("\n\n")) == 3


def test_page_without_language_or_outlet_leaves_them_empty():
    article = _article("article_dateline.html")
    assert article.declared_language is None
    assert article.outlet is None


def test_page_without_body_text_is_quarantined():
    articles, quarantined = _parse("no_body.html")
    assert articles == []
    assert [q.reason for q in quarantined] == ["no main text"]
    assert quarantined[0].locator is None
    assert quarantined[0].source.endswith("no_body.html")
    assert quarantined[0].excerpt.startswith("<!DOCTYPE html>")


def test_page_with_undated_body_has_no_date():
    html = "<html><body><article>" + "<p>The committee met again to discuss the budget for the coming year in detail.</p>" * 3 + "</article></body></html>"
    articles, quarantined = parse(html, "undated.html", IngestOptions())
    assert quarantined == []
    assert articles[0].published_date is None
    assert articles[0].date_source == "none"


def test_empty_markup_is_quarantined_not_raised():
    articles, quarantined = parse("<html></html>", "empty.html", IngestOptions())
    assert articles == []
    assert quarantined[0].reason == "no main text"


def test_read_file_detects_html_by_extension():
    result = read_file(FIXTURES / "article_meta.html")
    assert result.format == "html"
    assert [a.title for a in result.articles] == ["Port strike halts grain exports for a third day"]


def test_read_file_sniffs_html_without_extension():
    data = (FIXTURES / "article_jsonld.html").read_bytes()
    result = read_file("downloads/page-0001", data=data)
    assert result.format == "html"
    assert result.articles[0].outlet == "Riverside Gazette"


def test_html_to_paragraphs_breaks_on_blocks_and_br():
    markup = "<p>One\n  line</p><p>Two<br>Three</p><ul><li>Four</li></ul><script>x()</script>Five &amp; six"
    assert html_to_paragraphs(markup) == ["One line", "Two", "Three", "Four", "Five & six"]


def test_html_to_paragraphs_plain_text_keeps_blank_line_paragraphs():
    assert html_to_paragraphs("First part.\n\nSecond  part &amp; more.") == ["First part.", "Second part & more."]


def test_split_paragraphs_uses_lines_when_no_blank_lines():
    assert split_paragraphs("a\nb\r\nc") == ["a", "b", "c"]
    assert split_paragraphs("a\nstill a\n\nb") == ["a still a", "b"]


def test_drop_title_only_removes_leading_repeat():
    assert drop_title(["Big News", "Text.", "Big News"], "big  news") == ["Text.", "Big News"]
    assert drop_title(["Text."], None) == ["Text."]


def test_date_from_text_inside_running_text_keeps_paragraph():
    found = date_from_text(["The law was signed on 5 May 2021 in Riga.", "More."])
    assert found == (dt.date(2021, 5, 5), "5 May 2021", None)
