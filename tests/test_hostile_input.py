"""Property-based hostile input: whatever the bytes, ingest never raises, and every record it reads ends up
as an article or as a quarantine record with a reason (seen = ingested + quarantined)."""

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrative_tracker.ingest.formats import DecodeError, IngestOptions, decode_bytes, looks_binary, read_file
from narrative_tracker.ingest.files import ingest_paths

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
EXTENSIONS = st.sampled_from([".txt", ".md", ".html", ".csv", ".tsv", ".jsonl", ".json", ".rss", ".xml", ".bin", ""])


@FAST
@given(data=st.binary(max_size=3000), ext=EXTENSIONS)
def test_random_bytes_never_raise(tmp_path, data, ext):
    path = tmp_path / f"f{ext}"
    path.write_bytes(data)
    result = read_file(path)
    assert result.articles or result.quarantined
    for record in result.quarantined:
        assert record.reason and isinstance(record.excerpt, str)


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@FAST
@given(rows=st.lists(st.tuples(cells, cells, st.sampled_from(["2022-01-05", "", "31/02/2022", "2999-01-01", "yesterday"])),
                     min_size=1, max_size=25))
def test_csv_rows_add_up(tmp_path, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["title", "text", "date"])
    writer.writerows(rows)
    path = tmp_path / "rows.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = read_file(path)
    if looks_binary(path.read_bytes()):  # more than stray NULs in the head: a binary file, quarantined whole
        assert [(q.reason, q.locator) for q in result.quarantined] == [("binary file", None)] and not result.articles
        return
    assert [q for q in result.quarantined if q.locator is None] == []  # never the whole file: it has a header
    assert len(result.articles) + len(result.quarantined) == len(rows)
    assert sorted(int(x.locator.split()[1]) for x in result.articles + result.quarantined) == list(range(1, len(rows) + 1))
    for article in result.articles:
        assert article.body.strip()
        assert article.published_date is None or article.published_date.year == 2022


@FAST
@given(lines=st.lists(st.one_of(
    st.builds(lambda t: json.dumps({"text": t, "date": "2022-01-05"}), cells),
    st.builds(lambda t: json.dumps([t]), cells),
    cells.map(lambda t: "{" + t),
), min_size=1, max_size=20))
def test_json_lines_add_up(tmp_path, lines):
    path = tmp_path / "lines.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines), encoding="utf-8")
    result = read_file(path)
    data = path.read_bytes()
    try:  # the lines as the parser sees them: decoded, NULs and control characters removed (textsafe)
        text = decode_bytes(data)[0]
    except DecodeError:
        text = ""
    nonblank = [line for line in text.split("\n") if line.strip()]

    def parses(line):
        try:
            json.loads(line)
        except json.JSONDecodeError:
            return False
        return True

    if looks_binary(data):  # more than stray NULs in the head: a binary file, quarantined whole
        assert [(q.reason, q.locator) for q in result.quarantined] == [("binary file", None)] and not result.articles
    elif not text.strip():
        assert [(q.reason, q.locator) for q in result.quarantined] == [("empty file", None)] and not result.articles
    elif not any(map(parses, nonblank)) and len(nonblank) > 1 and text.strip()[:1] in "[{" and not parses(text.strip()):
        # one broken document, not JSON Lines: reported once, for the whole file
        assert [(q.reason, q.locator) for q in result.quarantined] == [("malformed json", None)] and not result.articles
    elif parses(text.strip()):  # one valid document (only a single line can be): its record, or the items it wraps
        records = result.articles + result.quarantined
        assert len(nonblank) == 1 and records and all(r.locator and r.locator.split()[0] in ("line", "item") for r in records)
    else:
        assert [q for q in result.quarantined if q.locator is None] == []
        assert len(result.articles) + len(result.quarantined) == len(nonblank)
        numbers = sorted(int(r.locator.split()[1]) for r in result.articles + result.quarantined)
        assert numbers == [n for n, line in enumerate(text.split("\n"), 1) if line.strip()]  # each line once


def test_encodings_languages_duplicates_and_huge_files(con, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ru.txt").write_bytes("Заголовок статьи\n\nВласти Казахстана сообщили о задержании участников беспорядков в Алматы.".encode("cp1251"))
    (inbox / "de.txt").write_bytes("Überschrift\n\nDie Regierung in Astana hat den Ausnahmezustand verlängert, berichten Medien.".encode("utf-16"))
    (inbox / "fr.txt").write_bytes("Titre\n\nLe gouvernement a prolongé l'état d'urgence à Almaty, selon les médias.".encode("latin-1"))
    (inbox / "copy.txt").write_bytes((inbox / "fr.txt").read_bytes())  # same content twice: one article
    (inbox / "nobody.html").write_text("<html><head><title>Only a head</title></head></html>")
    (inbox / "future.csv").write_text("text,date\nA claim dated in the far future.,2999-01-01\n")
    big = inbox / "big.csv"
    with open(big, "w", encoding="utf-8") as handle:
        handle.write("title,text,date,outlet\n")
        for i in range(40_000):
            handle.write(f"Title {i},Paragraph number {i} about the events in the capital and elsewhere.,2022-01-0{1 + i % 9},Outlet {i % 50}\n")
    report = ingest_paths(con, [inbox], IngestOptions())
    assert report.files_seen == 7 and report.records_seen == report.articles_parsed + report.quarantined
    assert report.articles_new == 40_000 + 3 + 1  # big.csv + ru/de/fr + the future-dated claim (copy.txt adds nothing)
    languages = dict(con.execute("SELECT source_path, language FROM articles WHERE source_format = 'text'").fetchall())
    assert sorted(languages.values()) == ["de", "fr", "fr", "ru"] or sorted(set(languages.values())) == ["de", "fr", "ru"]
    assert con.execute("SELECT count(*) FROM quarantine WHERE reason = 'no main text'").fetchone()[0] == 1
    future = con.execute("SELECT published_date, date_source FROM articles WHERE body LIKE '%far future%'").fetchone()
    assert future == (None, "none")


def test_column_mapping_is_never_sql(con, tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    (first / "a.csv").write_text("title,text\nA title,Some text of a row long enough.\n")
    ingest_paths(con, [first])
    tables = "SELECT table_name FROM information_schema.tables ORDER BY 1"
    before_tables = con.execute(tables).fetchall()
    before_articles = con.execute("SELECT article_id, title, body FROM articles").fetchall()
    assert len(before_articles) == 1

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "b.csv").write_text("title,text\nAnother title,Some other text of a row long enough.\n")
    evil = "title'); DROP TABLE articles; --"
    report = ingest_paths(con, [folder], IngestOptions(text_column=evil))
    assert report.quarantine_reasons == {"missing column": 1}
    detail = con.execute("SELECT detail FROM quarantine WHERE reason = 'missing column'").fetchone()[0]
    assert evil in detail  # the name is data: quoted back in the message, never executed
    assert con.execute(tables).fetchall() == before_tables  # every table is still there
    assert con.execute("SELECT article_id, title, body FROM articles").fetchall() == before_articles  # and unchanged
