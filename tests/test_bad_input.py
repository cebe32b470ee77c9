"""Bad input goes to quarantine with a reason; the rest of the run goes on; re-running adds nothing."""

import datetime as dt

from narrative_tracker.ingest.formats import decode_bytes, read_file
from narrative_tracker.ingest.files import ingest_paths

GOOD = "Headline of a good article\n\nThe good article has a paragraph of real text about the events in Almaty.\n"


def _write_bad_tree(root):
    (root / "good.txt").write_text(GOOD, encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.txt").write_bytes(b"  \n\n \t\n")
    (root / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (root / "random.bin").write_bytes(bytes([0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x28, 0xA1, 0xF0, 0x28, 0x8C, 0xBC]) * 3 + b"\x81\x8d\x8f\x90\x9d")
    (root / "dangling.txt").symlink_to(root / "does-not-exist.txt")
    (root / "rows.csv").write_text("title,text,date\nA title,Some text of a row long enough.,2022-01-07\nNo text here,,2022-01-07\n")


def test_decode_encodings():
    assert decode_bytes("Привет, это текст о Казахстане и событиях в Алматы.".encode("cp1251"))[0].startswith("Привет")
    assert decode_bytes("\ufeffUTF-8 with a byte order mark".encode("utf-8"))[0] == "UTF-8 with a byte order mark"
    text, encoding = decode_bytes("Texte en français, déjà vu à Noël.".encode("utf-16"))
    assert text.startswith("Texte en français") and encoding == "utf-16"
    assert decode_bytes("Café crème, naïve façade à Zürich".encode("latin-1"))[0].startswith("Caf")


def test_each_bad_file_gets_its_reason(tmp_path):
    _write_bad_tree(tmp_path)
    reasons = {}
    for name in ["empty.txt", "blank.txt", "image.txt", "random.bin", "dangling.txt"]:
        result = read_file(tmp_path / name)
        assert result.articles == []
        [record] = result.quarantined
        reasons[name] = record.reason
    assert reasons == {
        "empty.txt": "empty file",
        "blank.txt": "empty file",
        "image.txt": "binary file",
        "random.bin": "undecodable bytes",
        "dangling.txt": "unreadable file",
    }


def test_run_goes_on_and_rerun_adds_nothing(con, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write_bad_tree(inbox)
    now = dt.datetime(2026, 11, 22, 2, 0)
    report = ingest_paths(con, [inbox], now=now)
    assert report.files_seen == 7
    assert report.articles_new == 2  # good.txt + the CSV row with text
    assert report.quarantine_reasons == {"empty file": 2, "binary file": 1, "undecodable bytes": 1, "unreadable file": 1, "row without text": 1}
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 6
    row = con.execute("SELECT locator, excerpt FROM quarantine WHERE reason = 'row without text'").fetchone()
    assert row[0] == "row 2" and "No text here" in row[1]

    again = ingest_paths(con, [inbox], now=now + dt.timedelta(days=1))
    assert again.files_unchanged == 6  # every file that could be read; the dangling link is re-tried
    forced = ingest_paths(con, [inbox], now=now + dt.timedelta(days=1), force=True)
    assert forced.articles_new == 0 and forced.quarantined_new == 0
    counts = con.execute("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM quarantine)").fetchone()
    assert counts == (2, 6)


def test_undated_article_is_filed_under_its_ingestion_day(con, tmp_path):
    (tmp_path / "undated.txt").write_text(GOOD)
    ingest_paths(con, [tmp_path], now=dt.datetime(2026, 3, 4, 23, 59))
    row = con.execute("SELECT published_date, date_source, partition_date FROM articles").fetchone()
    assert row == (None, "none", dt.date(2026, 3, 4))


def test_missing_input_path_fails_loudly(con, tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        ingest_paths(con, [tmp_path / "does-not-exist"])
