"""RSS and Atom feeds through feedparser (narrative_tracker.ingest.formats.feed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from narrative_tracker.ingest.formats import IngestOptions, read_file
from narrative_tracker.ingest.formats.feed import parse

FIXTURES = Path(__file__).parent / "fixtures" / "feed"


def _parse(name: str):
    path = FIXTURES / name
    return parse(path.read_text(encoding="utf-8"), str(path), IngestOptions())


def test_rss_gives_one_article_per_item_with_text():
    articles, _ = _parse("world_news.rss")
    assert [a.title for a in articles] == [
        "Flooding forces thousands from homes along the river delta",
        "Central bank leaves interest rates unchanged",
    ]
    assert [a.locator for a in articles] == ["entry 1", "entry 2"]


def test_rss_item_with_empty_description_is_quarantined():
    _, quarantined = _parse("world_news.rss")
    assert len(quarantined) == 1
    assert quarantined[0].reason == "entry without text"
    assert quarantined[0].locator == "entry 3"
    assert "Live: election results" in quarantined[0].excerpt


def test_rss_outlet_and_language_come_from_channel():
    articles, _ = _parse("world_news.rss")
    assert {a.outlet for a in articles} == {"Northern Ledger – World"}
    assert {a.declared_language for a in articles} == {"en-us"}


def test_rss_content_encoded_preferred_and_split_into_paragraphs():
    article = _parse("world_news.rss")[0][0]
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 4  # three <p>, the last one split by <br/>
    assert paragraphs[0].endswith("flooding farmland and several villages across the delta.")
    assert paragraphs[1] == (
        "Officials said the water level was expected to peak overnight, and warned residents "
        "not to return until the embankments had been inspected."
    )
    assert paragraphs[3] == "A hotline for missing relatives has been opened."
    assert article.metadata["summary"].startswith("Emergency services evacuated")


def test_rss_plain_text_description_keeps_paragraphs():
    article = _parse("world_news.rss")[0][1]
    assert article.body.split("\n\n") == [
        "The central bank kept its main rate at 3.5 percent, citing easing inflation.",
        "Analysts had expected the pause after two consecutive increases earlier in the year.",
    ]


def test_rss_pubdate_keeps_publisher_local_day():
    article = _parse("world_news.rss")[0][0]
    # 23:40 at UTC-5 is already the 12th in UTC; the publisher's date is the 11th
    assert article.published_date == dt.date(2023, 4, 11)
    assert article.date_source == "metadata"
    assert article.date_raw == "Tue, 11 Apr 2023 23:40:00 -0500"


def test_rss_guid_link_author_categories():
    first, second = _parse("world_news.rss")[0]
    assert first.external_id == "nl-2023-04-0112"
    assert first.url == "https://northernledger.example/world/delta-flooding"
    assert first.author == "Anna Petrov"
    assert first.tags == ["Climate", "Disasters"]
    assert second.author is None


def test_atom_entries_published_then_updated():
    articles, quarantined = _parse("science.atom")
    assert quarantined == []
    assert [a.published_date for a in articles] == [dt.date(2022, 9, 28), dt.date(2022, 9, 30)]
    assert [a.date_raw for a in articles] == ["2022-09-28T09:00:00+02:00", "2022-09-30T08:00:00Z"]
    assert {a.date_source for a in articles} == {"metadata"}


def test_atom_outlet_language_author_id():
    first, second = _parse("science.atom")[0]
    assert first.outlet == "Lab Notes Weekly"
    assert first.declared_language == "en-GB"
    assert first.author == "Dr. Lena Fischer"
    assert first.external_id == "tag:labnotes.example,2022:entry-481"
    assert first.url == "https://labnotes.example/2022/09/deep-sea-microplastics"
    assert second.author == "Sam Ortiz"


def test_atom_html_content_paragraphs_and_summary_fallback():
    first, second = _parse("science.atom")[0]
    assert len(first.body.split("\n\n")) == 4  # three <p> and the <h2>
    assert "Next steps" in first.body.split("\n\n")
    assert second.body == (
        "As days shorten, trees stop producing chlorophyll and the yellow and orange "
        "pigments hidden underneath become visible."
    )


def test_malformed_feed_without_entries_is_quarantined():
    articles, quarantined = _parse("broken.xml")
    assert articles == []
    assert [q.reason for q in quarantined] == ["malformed feed"]
    assert "not well-formed" in quarantined[0].detail
    assert quarantined[0].locator is None


def test_wellformed_feed_without_entries():
    text = '<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    articles, quarantined = parse(text, "quiet.rss", IngestOptions())
    assert articles == []
    assert [q.reason for q in quarantined] == ["feed has no entries"]


def test_text_is_never_opened_as_a_path(tmp_path):
    # feedparser.parse(str) would open a file of that name; the parser must read the text itself
    real_feed = tmp_path / "real.rss"
    real_feed.write_bytes((FIXTURES / "world_news.rss").read_bytes())
    articles, quarantined = parse(str(real_feed), "odd.rss", IngestOptions())
    assert articles == []
    assert quarantined[0].reason == "malformed feed"


def test_xml_prolog_encoding_does_not_override_decoded_text():
    text = (
        '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>Новости</title>'
        "<language>ru</language><item><title>Заголовок</title><description>Текст статьи.</description>"
        "</item></channel></rss>"
    )
    articles, _ = parse(text, "ru.rss", IngestOptions())
    assert (articles[0].outlet, articles[0].title, articles[0].body) == ("Новости", "Заголовок", "Текст статьи.")
    assert articles[0].declared_language == "ru"
    assert articles[0].date_source == "none"


def test_rss1_rdf_with_dc_date():
    text = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://wire.example/"><title>Wire One</title><link>https://wire.example/</link>
    <description>d</description><dc:language>de</dc:language></channel>
  <item rdf:about="https://wire.example/1"><title>Kurzmeldung</title><link>https://wire.example/1</link>
    <description>Der Stadtrat hat den Haushalt beschlossen.</description><dc:date>2021-06-01T12:00:00+02:00</dc:date></item>
</rdf:RDF>"""
    articles, quarantined = parse(text, "wire.rdf", IngestOptions())
    assert quarantined == []
    assert articles[0].outlet == "Wire One"
    assert articles[0].declared_language == "de"
    assert articles[0].published_date == dt.date(2021, 6, 1)


def test_read_file_detects_rss_and_atom_by_extension():
    rss = read_file(FIXTURES / "world_news.rss")
    atom = read_file(FIXTURES / "science.atom")
    assert (rss.format, len(rss.articles), len(rss.quarantined)) == ("feed", 2, 1)
    assert (atom.format, len(atom.articles)) == ("feed", 2)


def test_read_file_sniffs_xml_feed():
    result = read_file(FIXTURES / "broken.xml")
    assert result.format == "feed"
    assert [q.reason for q in result.quarantined] == ["malformed feed"]
    sniffed = read_file("export/latest", data=(FIXTURES / "science.atom").read_bytes())
    assert sniffed.format == "feed"
    assert sniffed.articles[0].title == "Researchers map the deep-sea currents that carry microplastics"
