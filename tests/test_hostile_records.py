"""One bad record never costs the good ones (issue 27, defects 2, 6, 9, 12): a lone surrogate, a JSON line nested
past the parser's limit, an RSS item with a character reference XML forbids, one invalid UTF-8 byte, NUL bytes
past the first 8 KiB. The good records of the same file and of the same batch are in ``articles``; a record that
cannot be read is in ``quarantine`` alone, with its line or item number and a reason; a repaired one is noted on its
file's ``input_files`` row; nothing unsafe is stored."""

import json

import pytest

from hostile_cases import GOOD_TEXT, assert_nothing_unsafe_stored, rss

from narrative_tracker.ingest.files import ingest_paths
from narrative_tracker.models import stable_hash


def _articles(con):
    return {r[0]: r[1] for r in con.execute("SELECT source_locator, body FROM articles WHERE source_format <> 'text'").fetchall()}


def _quarantine(con):
    return [tuple(r) for r in con.execute("SELECT locator, reason FROM quarantine ORDER BY locator").fetchall()]


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


def _note(con, name):
    return con.execute("SELECT outcome, reason FROM input_files WHERE path LIKE '%' || $n", {"n": name}).fetchone()


def test_the_content_hash_never_raises():
    assert len(stable_hash("\ud800 lone surrogate", None, "\udfff")) == 32
    assert stable_hash("\ud800") != stable_hash("\udfff")


def test_a_lone_surrogate_does_not_fail_the_batch(con, inbox):
    (inbox / "good.txt").write_text(f"Headline\n\n{GOOD_TEXT.format(n='neighbour file')}\n")
    lines = [json.dumps({"text": GOOD_TEXT.format(n=1)}), '{"text": "\\ud800 A lone surrogate opens this record of the file."}',
             '{"title": "\\ud83d", "outlet": "Outlet \\udc00", "text": ' + json.dumps(GOOD_TEXT.format(n=3)) + "}"]
    (inbox / "surrogate.jsonl").write_text("\n".join(lines) + "\n")
    report = ingest_paths(con, [inbox])
    assert report.files_ingested == 2 and report.articles_new == 4
    bodies = _articles(con)
    assert bodies["line 2"] == "\ufffd A lone surrogate opens this record of the file."  # replaced, not lost
    assert con.execute("SELECT title, outlet FROM articles WHERE source_locator = 'line 3'").fetchone() == ("\ufffd", "Outlet \ufffd")
    assert _note(con, "surrogate.jsonl") == ("ingested", "repaired: 3 invalid characters (lone surrogates) replaced with U+FFFD")
    assert_nothing_unsafe_stored(con)


def test_a_json_line_nested_too_deep_is_quarantined_alone(con, inbox):
    lines = [json.dumps({"text": GOOD_TEXT.format(n=1)}), "[" * 200_000, json.dumps({"text": GOOD_TEXT.format(n=3), "extra": [[[[1]]]]}),
             '{"text": "Deep metadata of a good record.", "m": ' + "[" * 50_000 + "]" * 50_000 + "}"]
    (inbox / "deep.jsonl").write_text("\n".join(lines) + "\n")
    report = ingest_paths(con, [inbox])
    assert sorted(_articles(con)) == ["line 1", "line 3"]
    assert _quarantine(con) == [("line 2", "malformed json"), ("line 4", "malformed json")]
    detail = con.execute("SELECT detail FROM quarantine WHERE locator = 'line 2'").fetchone()[0]
    assert "nested" in detail
    assert report.records_seen == 4


def test_an_rss_item_with_a_surrogate_reference_is_quarantined_alone(con, inbox):
    (inbox / "feed.rss").write_text(rss(["Good text number one of the feed, long enough.", "Bad &#xD800; item text of the feed.",
                                            "Good text number three, &#x1; with a control reference.", "Fourth &#0; item."]))
    report = ingest_paths(con, [inbox])
    bodies = _articles(con)
    assert sorted(bodies) == ["entry 1", "entry 3", "entry 4"]  # control references are removed like raw controls
    assert _quarantine(con) == [("entry 2", "invalid character")]  # a surrogate is no character: XML forbids it
    assert report.records_seen == 4 and report.files_ingested == 1
    assert_nothing_unsafe_stored(con)


def test_one_invalid_byte_keeps_the_file_utf8(con, inbox):
    text = "Заголовок статьи\n\nВласти Казахстана сообщили о задержании участников беспорядков в Алматы — «спокойно».\n"
    data = text.encode("utf-8")
    cut = data.index("сообщили".encode()) + 2
    (inbox / "one-bad-byte.txt").write_bytes(data[:cut] + b"\xff" + data[cut:])
    ingest_paths(con, [inbox])
    body = con.execute("SELECT body FROM articles").fetchone()[0]
    assert "Власти Казахстана" in body and "\ufffd" in body and "«спокойно»" in body  # not cp852 / iso8859_10 mojibake
    assert con.execute("SELECT encoding FROM source_files").fetchone()[0] == "utf-8"
    assert _note(con, "one-bad-byte.txt") == ("ingested", f"repaired: 1 invalid UTF-8 sequence replaced with U+FFFD (first at byte {cut})")


def test_nul_bytes_anywhere_are_removed(con, inbox):
    head = "Headline of a long file\n\n" + ("A paragraph of plain prose about the events in the capital. " * 20 + "\n\n") * 8
    assert len(head) > 8192
    (inbox / "late-nul.txt").write_bytes(head.encode() + b"Tail\x00 text\x00 after eight KiB.\x00\n")
    (inbox / "escaped-nul.jsonl").write_text('{"title": "Nul\\u0000title", "text": "Nul\\u0000 escaped in JSON text of a record."}\n')
    ingest_paths(con, [inbox])
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM articles WHERE body LIKE '%Tail text after eight KiB.%'").fetchone()[0] == 1
    assert _note(con, "late-nul.txt") == ("ingested", "repaired: 3 NUL bytes removed")
    assert _note(con, "escaped-nul.jsonl") == ("ingested", "repaired: 2 control characters removed")
    assert_nothing_unsafe_stored(con)


def test_control_characters_in_every_field_are_removed(con, inbox):
    bad = "\x01\x1b[2J\x1b]0;pwned\x07\x9b31m\x7f\ufffe\uffff\x0b"
    row = {"title": f"Title{bad}", "text": f"Text of the record{bad} with enough words.", "outlet": f"Outlet{bad}",
           "author": f"Author{bad}", "url": f"https://x.example/{bad}", "tags": f"tag{bad}+two", "date": "2022-01-05",
           "extra": {"k\x1b": [f"v{bad}"]}, "id": f"id{bad}"}
    (inbox / "controls.jsonl").write_text(json.dumps(row) + "\n" + json.dumps({"title": f"No text{bad}"}) + "\n")
    (inbox / "controls.csv").write_text(f"title,text,outlet\nT{bad},Body{bad} of a CSV row,O{bad}\n", encoding="utf-8")
    (inbox / f"name{chr(27)}[31m.txt").write_text(f"Headline{bad}\n\n{GOOD_TEXT.format(n=bad)}\n")
    (inbox / "page.html").write_text(f"<html><head><title>Page{bad}</title></head><body><article><p>{GOOD_TEXT.format(n=bad)} "
                                        "and more words in the body of the page.</p></article></body></html>")
    report = ingest_paths(con, [inbox])
    assert report.articles_new == 4 and report.quarantined == 1
    assert con.execute("SELECT outlet, title FROM articles WHERE source_format = 'jsonl'").fetchone() == ("Outlet[2J]0;pwned31m", "Title[2J]0;pwned31m")
    assert_nothing_unsafe_stored(con)


def test_a_file_name_that_is_not_utf8_is_ingested(con, inbox):
    import os

    folder = os.fsencode(inbox)
    for raw in (b"caf\xe9.txt", b"caf\xe8.txt"):  # two names a lossy decoding would merge
        with open(folder + b"/" + raw, "w") as handle:
            handle.write(f"Headline\n\n{GOOD_TEXT.format(n=raw[3])}\n")
    report = ingest_paths(con, [inbox])
    assert report.files_ingested == 2
    paths = sorted(r[0] for r in con.execute("SELECT path FROM input_files").fetchall())
    assert [p[-11:] for p in paths] == ["caf\\xe8.txt", "caf\\xe9.txt"]
    assert_nothing_unsafe_stored(con)


def test_a_short_western_file_is_not_read_as_central_european(con, inbox):
    """Found by the audit script: a one-line cp1252 CSV reads equally well as cp1250 ("crčme"); the tie goes to
    windows-1252, the web's default single-byte encoding."""
    (inbox / "western.csv").write_bytes(f'text\n"{GOOD_TEXT.format(n=1)} Café crème, naïve façade."\n'.encode("cp1252"))
    ingest_paths(con, [inbox])
    assert con.execute("SELECT body FROM articles").fetchone()[0].endswith("Café crème, naïve façade.")
    assert con.execute("SELECT encoding FROM source_files").fetchone()[0] == "cp1252"
