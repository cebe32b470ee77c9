"""The bundled sample corpus (the five seed articles) through the text parser."""

import datetime as dt

from conftest import SAMPLE

from narrative_tracker.paragraphs.clean import paragraphs_of
from narrative_tracker.ingest.formats import read_file

BOILERPLATE = ["0 0", "Leave a Reply", "Your email address", "Similar Posts", "Article Categories", "If you notice an error",
               "Photo: REUTERS", "In the photo:", "Source:", "By Vladimir Platov", "banned in Russia * above" ]


def _article(prefix):
    [path] = SAMPLE.glob(f"{prefix}_*.txt")
    result = read_file(path)
    assert result.format == "text" and result.quarantined == []
    [article] = result.articles
    return article


def test_headline_date_and_outlet_of_each_seed():
    a = _article("000")
    assert a.title == "Bickford’s cord of terrorism is being laid through Kazakhstan to Russia"
    assert (a.published_date, a.date_source, a.date_raw) == (dt.date(2022, 1, 10), "text", "Jan 10, 2022")
    b = _article("001")
    assert b.title == "Kazakhstan’s Security was Undermined by Outside Forces"
    assert (b.published_date, b.date_source) == (None, "none")
    assert (b.outlet, b.author) == ("New Eastern Outlook", "Vladimir Platov")
    c = _article("002")
    assert c.title == "Expert: NATO intelligence networks are involved in destabilizing Kazakhstan"
    assert c.published_date == dt.date(2021, 1, 6)  # the typo is kept as written; date_raw shows it
    assert c.date_raw == "06.01.2021"
    assert c.outlet == "Rossa Primavera News Agency"
    d = _article("003")
    assert d.title == "General Ivashov: Radical Islamists flee from Kazakhstan to Russia"
    assert d.published_date == dt.date(2022, 1, 8)
    e = _article("004")
    assert e.title.startswith("“Those who do not surrender will be destroyed!”")


def test_headline_and_metadata_lines_are_not_in_the_body():
    for path in SAMPLE.glob("*.txt"):
        article = read_file(path).articles[0]
        kept, _ = paragraphs_of(article.body)
        texts = [p.text for p in kept]
        assert article.title not in texts
        for text in texts:
            for junk in BOILERPLATE:
                assert not text.startswith(junk), (path.name, text[:60])
            assert not text.startswith("*")


def test_paragraph_counts_of_the_sample():
    counts = {p.name[:3]: len(paragraphs_of(read_file(p).articles[0].body)[0]) for p in SAMPLE.glob("*.txt")}
    assert counts == {"000": 9, "001": 13, "002": 12, "003": 21, "004": 25}


def test_markdown_headline_and_filename_date(tmp_path):
    path = tmp_path / "2022-01-07-report.md"
    path.write_text("# Troops arrive in Almaty\n\nThe first units landed at the airport on Thursday morning, officials said.\n")
    [article] = read_file(path).articles
    assert article.title == "Troops arrive in Almaty"
    assert (article.published_date, article.date_source) == (dt.date(2022, 1, 7), "file")


def test_same_content_same_id_whatever_the_whitespace(tmp_path):
    one = tmp_path / "a.txt"
    two = tmp_path / "b.txt"
    one.write_text("Headline here\n\nBody text of the article, long enough to be a paragraph.\n")
    two.write_text("Headline here\r\n\r\nBody text of the   article, long enough to be a paragraph.\r\n")
    assert read_file(one).articles[0].article_id == read_file(two).articles[0].article_id
